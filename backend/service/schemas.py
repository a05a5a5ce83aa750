"""Request and response bodies, as pydantic models, for the OpenAPI schema and its examples.

The predict and V2 routes read their bodies by hand (payloads.py) for speed, so the request models
here are never used to parse: they document what those parsers accept, exactly (784 numbers in
[0, 1], 1 to BATCH_MAX images...). `json_body` puts such a model into a route's OpenAPI entry and
`add_body_schemas` adds the models to the schema's components. Response models are declared on the
routes as usual (`response_model`), which FastAPI uses for the docs only when a route returns a
ready Response, as ours do.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.nn.shapes import IMAGE_SIDE, N_CLASSES, N_INPUTS

# strict: a JSON number only (not true, not "0.5"), as the fast parser reads it
Pixel = Annotated[float, Field(ge=0, le=1, strict=True)]
Pixels = Annotated[
    list[Pixel],
    Field(
        min_length=N_INPUTS,
        max_length=N_INPUTS,
        description="28x28 pixels, row by row; 0 = background, 1 = ink (white digit on black, as in MNIST).",
    ),
]
Probabilities = Annotated[list[float], Field(min_length=N_CLASSES, max_length=N_CLASSES, description="P(digit = 0..9); sums to 1.")]


def _example_one() -> list[float]:
    """A hand-made MNIST-style "1": a slightly slanted stroke, anti-aliased at its edges."""
    pixels = [0.0] * N_INPUTS
    for row in range(4, 24):
        col = 15 - (row - 4) // 7  # leans a little, like a handwritten one
        pixels[row * IMAGE_SIDE + col - 1] = 0.5
        pixels[row * IMAGE_SIDE + col] = 1.0
        pixels[row * IMAGE_SIDE + col + 1] = 0.5
    return pixels


EXAMPLE_PIXELS = _example_one()
EXAMPLE_PROBABILITIES = [0.0003, 0.9871, 0.0032, 0.0006, 0.0011, 0.0002, 0.0004, 0.0048, 0.0021, 0.0002]
EXAMPLE_PREDICTION = {"digit": 1, "confidence": 0.9871, "probabilities": EXAMPLE_PROBABILITIES, "is_digit": True}


class PredictRequest(BaseModel):
    pixels: Pixels


class BatchRequest(BaseModel):
    images: list[Pixels] = Field(min_length=1, description="1 to BATCH_MAX images (default 1000), classified in one matrix pass.")


class Prediction(BaseModel):
    digit: int = Field(ge=0, le=9, description="The most likely digit (only a best guess when is_digit is false).")
    confidence: float = Field(ge=0, le=1, description="Its calibrated probability: of answers given with 0.9, about 9 in 10 are right.")
    probabilities: Probabilities
    is_digit: bool = Field(description="False when the picture does not look like a digit at all (a letter, a shape, a scribble).")

    model_config = ConfigDict(json_schema_extra={"example": EXAMPLE_PREDICTION})


class BatchResponse(BaseModel):
    predictions: list[Prediction] = Field(description="One per image, in request order.")


class ImagePrediction(Prediction):
    pixels: Pixels = Field(description="The 784 inputs the network was given: the upload after MNIST-style preprocessing.")

    model_config = ConfigDict(json_schema_extra={"example": {**EXAMPLE_PREDICTION, "pixels": EXAMPLE_PIXELS}})


class Health(BaseModel):
    status: Literal["ok"]
    model_id: str = Field(description="Identifies the weights: 'mlp-' and the first 12 hex digits of their SHA-256.")

    model_config = ConfigDict(json_schema_extra={"example": {"status": "ok", "model_id": "mlp-0123456789ab"}})


class MemberArchitecture(BaseModel):
    layer_sizes: list[int]
    activation: str
    output_activation: str
    n_parameters: int


class ModelCard(BaseModel):
    """The card written beside the weights; fields beyond these are passed through as they are."""

    model_config = ConfigDict(extra="allow")

    model_id: str
    name: str | None = None
    members: list[MemberArchitecture] = Field(description="The networks; with several, their probabilities are averaged.")
    n_parameters: int
    weights_sha256: str
    validation_accuracy: float | None = None
    test_accuracy: float | None = Field(None, description="Accuracy on the 10,000 MNIST test images.")
    training: dict[str, Any] | None = Field(None, description="The training recipe: optimiser, schedule, augmentation, epochs...")
    input: dict[str, Any] | None = None


class ErrorEntry(BaseModel):
    loc: list[str | int] = Field(description='Where: e.g. ["body", "images", 3, 17] is value 17 of image 3.')
    msg: str
    type: str


class ValidationErrorBody(BaseModel):
    detail: list[ErrorEntry]

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "detail": [
                    {
                        "loc": ["body", "pixels", 17],
                        "msg": "must be within [0, 1] (0 = background, 1 = ink), got 1.5",
                        "type": "less_than_equal",
                    }
                ]
            }
        }
    )


class Message(BaseModel):
    detail: str


# --- the V2 / Open Inference Protocol (KServe, Triton) ---------------------------------------------


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class RequestInput(BaseModel):
    name: str = Field(description='The model\'s one input: "input".')
    shape: list[int] = Field(description="[B, 784], 1 <= B <= BATCH_MAX.")
    datatype: Literal["FP32"]
    data: list[Any] = Field(description="B x 784 numbers in [0, 1], row-major: flat, or one array per image.")
    parameters: dict[str, Any] | None = None


class RequestOutput(BaseModel):
    name: str
    parameters: dict[str, Any] | None = None


class InferenceRequest(BaseModel):
    id: str | None = None
    parameters: dict[str, Any] | None = None
    inputs: list[RequestInput] = Field(min_length=1, max_length=1)
    outputs: list[RequestOutput] | None = None


class ResponseOutput(BaseModel):
    name: str
    shape: list[int]
    datatype: str
    data: list[float] | list[bool] = Field(description="FP32 numbers for probabilities, BOOL values for is_digit; row-major.")


class InferenceResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[ResponseOutput]


class V2Error(BaseModel):
    error: str


# --- wiring hand-parsed bodies into the OpenAPI schema ------------------------------------------------

BODY_MODELS: list[type[BaseModel]] = [PredictRequest, BatchRequest, InferenceRequest]
REF = "#/components/schemas/{model}"


def json_body(model: type[BaseModel], example: Any) -> dict[str, Any]:
    """openapi_extra for a route that reads `model` as JSON itself instead of through FastAPI."""
    assert model in BODY_MODELS, f"add {model.__name__} to BODY_MODELS so its schema is published"
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}, "example": example}},
        }
    }


def add_body_schemas(openapi: dict[str, Any]) -> dict[str, Any]:
    """Add BODY_MODELS (and the models they nest) to openapi["components"]["schemas"]."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for model in BODY_MODELS:
        schema = model.model_json_schema(ref_template=REF, mode="validation")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return openapi
