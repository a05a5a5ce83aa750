"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis, in-process over ASGI).

For every operation in /openapi.json, schemathesis generates requests (valid bodies and parameters
from the schema, and invalid ones: wrong types, missing fields, out-of-range numbers) and checks each
response: never a 5xx, a status code the schema documents, the declared content type, and a body that
matches the documented schema for that status. Runs with the shipped weights and the repository's page.

What this leaves out: the static page (not in the schema), and speed (scripts/bench_serve.py).
Examples per operation are kept modest so the file runs in well under a minute on two cores.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.nn.weights import load_model
from backend.paths import FRONTEND_DIR, MODEL_DIR
from backend.service.app import create_app
from backend.service.settings import Settings

APP = create_app(Settings(model_dir=MODEL_DIR, frontend_dir=FRONTEND_DIR))
MODEL_ID = str(load_model(MODEL_DIR)[1]["model_id"])
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    # 784-pixel bodies are large by Hypothesis' standards, and each example runs the real model
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def load_schema() -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", APP)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    return loaded


every_operation = load_schema()
# Random model names only ever reach the 404 branch of the V2 model routes; these fix the served
# model's name and version so that their bodies (the infer tensors) are fuzzed too.
served_model_routes = load_schema().include(path_regex=r"^/v2/models/")
served_model_routes.config.update(parameters={"path.name": Settings().model_name, "path.version": MODEL_ID})


@every_operation.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_within_its_schema_and_never_with_a_server_error(case) -> None:
    case.call_and_validate(checks=CHECKS)


@served_model_routes.parametrize()
@FUZZ_SETTINGS
def test_the_served_models_v2_routes_answer_within_their_schema(case) -> None:
    assert case.path_parameters["name"] == Settings().model_name
    case.call_and_validate(checks=CHECKS)
