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


EXAMPLE_NUMBER_DIGIT = {**EXAMPLE_PREDICTION, "is_digit": True, "box": [12, 30, 41, 88], "pixels": EXAMPLE_PIXELS}
EXAMPLE_NUMBER = {"number": "11", "digits": [EXAMPLE_NUMBER_DIGIT, {**EXAMPLE_NUMBER_DIGIT, "box": [96, 26, 44, 90]}]}


class NumberDigit(ImagePrediction):
    is_digit: bool = Field(description="False when the model judges the mark is not a digit at all (it shows as '?' in number).")
    box: list[int] = Field(min_length=4, max_length=4, description="[x, y, width, height] of the digit's ink, in the picture's pixels.")

    model_config = ConfigDict(json_schema_extra={"example": EXAMPLE_NUMBER_DIGIT})


class NumberPrediction(BaseModel):
    number: str = Field(description="The digits left to right, e.g. '2026'; '?' for a mark that is not a digit.")
    digits: list[NumberDigit] = Field(min_length=1, description="One per digit found, in reading order (left to right).")

    model_config = ConfigDict(json_schema_extra={"example": EXAMPLE_NUMBER})


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


# --- corrections (POST /feedback) ----------------------------------------------------------------------

STROKES_MAX = 32  # strokes in one drawing; a digit takes one to four
POINTS_PER_STROKE_MAX = 256  # the page thins a stroke to this many points before sending it
MODEL_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"

Digit = Annotated[int, Field(ge=0, le=N_CLASSES - 1, strict=True)]
Coordinate = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2, description="[x, y] in the pad's units.")]
Stroke = Annotated[list[Point], Field(min_length=1, max_length=POINTS_PER_STROKE_MAX)]


class FeedbackRequest(BaseModel):
    pixels: Pixels
    label: Digit = Field(description="The digit the drawing really is.")
    predicted: Digit = Field(description="The digit the model answered.")
    model_id: Annotated[str, Field(pattern=MODEL_ID_PATTERN)] | None = Field(
        None, description="The model that answered (GET /health); the one this server serves when left out."
    )
    strokes: Annotated[list[Stroke], Field(max_length=STROKES_MAX)] | None = Field(
        None,
        description=f"The pen strokes the drawing was made of (optional): up to {STROKES_MAX} strokes of up to {POINTS_PER_STROKE_MAX} points.",
    )


class FeedbackCreated(BaseModel):
    id: int = Field(description="The stored row's id; the row is committed when this answer is sent.")


class FeedbackStats(BaseModel):
    total: int
    by_label: dict[str, int] = Field(description='Rows by the digit people said it was, "0" to "9".')
    by_predicted: dict[str, int] = Field(description='Rows by the digit the model answered, "0" to "9".')
    model_right: float | None = Field(description="Share of rows where the model's answer was the label; null when there are none.")


class FeedbackRow(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    id: int
    created_at: str = Field(description="ISO 8601, UTC.")
    pixels: list[int] = Field(description="784 grey levels, 0 = background, 255 = ink.")
    label: int
    predicted: int
    model_id: str
    strokes: list[Any] | None


class FeedbackRows(BaseModel):
    rows: list[FeedbackRow] = Field(description="In id order; ask again with after_id = the last id for the next page.")


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
    data: list[Any] | None = Field(
        None,
        description="B x 784 numbers in [0, 1], row-major: flat, or one array per image (absent when parameters.binary_data_size is given).",
    )
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
    data: list[float] | list[bool] | None = Field(
        None,
        description="FP32 numbers for probabilities, BOOL values for is_digit, row-major; absent when the output travels as binary "
        "data (parameters.binary_data_size).",
    )
    parameters: dict[str, Any] | None = None


class InferenceResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[ResponseOutput]


class V2Error(BaseModel):
    error: str


class LiveResponse(BaseModel):
    live: bool


class ReadyResponse(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool


class RepositoryEntry(BaseModel):
    name: str = Field(description="The name to use in /v2/models/{name} and in ?model= on /predict*, /model.")
    version: str = Field(description="The version that answers now: the model card's model_id.")
    state: Literal["READY"]


# --- looking inside the network (/explain) -------------------------------------------------------------


class HiddenUnit(BaseModel):
    index: int = Field(ge=0, description="The unit's index in the first hidden layer.")
    activation: float = Field(description="Its value a_j(1) for this image.")
    contribution: float = Field(description="How much it moved score_difference: a_j(1) times d(score_difference)/d a_j(1).")
    weights: list[float] = Field(
        min_length=N_INPUTS, max_length=N_INPUTS, description="Its incoming weights W_j(1): a 28x28 map, row by row, of what it looks for."
    )


class Explanation(BaseModel):
    digit: int = Field(ge=0, le=9, description="The model's answer (as /predict gives it).")
    runner_up: int = Field(ge=0, le=9, description="The model's second most probable digit.")
    probabilities: Probabilities
    member: int = Field(ge=0, description="Which network of the ensemble is explained: the one most sure of the answer.")
    members: int = Field(ge=1, description="How many networks the model averages.")
    layer_sizes: list[int] = Field(description="The explained network's layers, input first (as in /model's members).")
    activations: list[list[float]] = Field(
        description="One list per layer after the input, as long as that layer: the hidden units' values, then the "
        "explained network's ten output probabilities."
    )
    score_difference: float = Field(description="z_digit - z_runner_up: the explained network's output scores before the softmax.")
    evidence: list[float] = Field(
        min_length=N_INPUTS,
        max_length=N_INPUTS,
        description="Per pixel, row by row: how much its ink pushed digit's score up (> 0) or down (< 0) against the runner-up "
        "(gradient x input on the ReLU network's linear piece).",
    )
    bias: float = Field(description="The part of score_difference owed to the biases.")
    exact: bool = Field(
        description="True for ReLU networks, where sum(evidence) + bias == score_difference exactly; "
        "for sigmoid or tanh units the evidence is a first-order picture only."
    )
    units: list[HiddenUnit] = Field(description="The first hidden layer's units that moved score_difference most, largest first.")


class UnitWeights(BaseModel):
    member: int = Field(ge=0)
    layer: Literal[1] = Field(description="Always the first hidden layer: its weights meet the pixels.")
    unit: int = Field(ge=0)
    bias: float
    weights: list[float] = Field(min_length=N_INPUTS, max_length=N_INPUTS, description="W_unit(1), a 28x28 map row by row.")


# --- wiring hand-parsed bodies into the OpenAPI schema ------------------------------------------------

BODY_MODELS: list[type[BaseModel]] = [PredictRequest, BatchRequest, InferenceRequest, FeedbackRequest]
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
