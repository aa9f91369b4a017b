"""Request and response models of the v1 API (API.md), with OpenAPI examples."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

PHASE_NAMES = Literal[
    "input", "forward.conv", "forward.pool", "forward.act", "forward.fc1", "forward.fc2",
    "loss", "backward.fc2", "backward.fc1", "backward.act", "backward.pool",
    "backward.conv", "update",
]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConfigIn(Strict):
    """Overrides of the preset; every key optional. Ranges are checked by the engine
    and reported as 422 with the key in `field`."""

    input_size: int | None = Field(None, examples=[14])
    kernels: int | None = Field(None, examples=[1])
    kernel_size: int | None = Field(None, examples=[5])
    pool: str | None = Field(None, examples=["max"])
    activation: str | None = Field(None, examples=["sigmoid"])
    hidden: int | None = Field(None, examples=[80])
    output: str | None = Field(None, examples=["sigmoid-mse"])
    bias: bool | None = Field(None, examples=[False])
    learning_rate: float | None = Field(None, examples=[0.5])
    order: str | None = Field(None, examples=["shuffled"])


class ConfigOut(BaseModel):
    input_size: int
    kernels: int
    kernel_size: int
    pool: str
    activation: str
    hidden: int
    output: str
    bias: bool
    learning_rate: float
    order: str


class CreateSession(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"preset": "seed", "config": {"kernels": 1}, "seed": 0}]})

    preset: str = "seed"
    config: ConfigIn = Field(default_factory=ConfigIn)
    seed: int = Field(0, ge=0, le=2**32 - 1)


class Sample(BaseModel):
    source: str
    index: int | None
    label: int


class Cursor(BaseModel):
    phase: str = Field(examples=["forward.conv"])
    index: int
    sample: Sample


class Counters(BaseModel):
    samples_seen: int
    updates: int
    position: int


class SessionCreated(BaseModel):
    id: str
    owner_token: str
    config: ConfigOut
    cursor: Cursor
    seed: int


class SessionInfo(BaseModel):
    id: str
    config: ConfigOut
    seed: int
    cursor: Cursor
    counters: Counters
    diverged: bool
    job: dict[str, Any]
    metrics: dict[str, Any]


class StepIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"count": 1}, {"to": "backward.conv"}]})

    count: int | None = Field(None, ge=1, le=1000)
    to: PHASE_NAMES | None = None

    @model_validator(mode="after")
    def one_of(self):
        if self.count is not None and self.to is not None:
            raise ValueError("give either count or to, not both")
        return self


class BackIn(Strict):
    count: int = Field(1, ge=1, le=1000)


class StepOut(BaseModel):
    cursor: Cursor
    counters: Counters
    changed: list[str]


class InputIn(Strict):
    """Exactly one of: a dataset sample, a pixel grid with a label, or a PNG/JPEG."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"dataset": "mnist14", "index": 42},
        {"dataset": "mnist14", "label": 3},
        {"pixels": [[0.0] * 14] * 14, "label": 3},
        {"png_base64": "iVBORw0KGgo…", "label": 3},
    ]})

    dataset: str | None = None
    index: int | None = None
    pixels: list[list[float]] | None = None
    png_base64: str | None = None
    label: int | None = Field(None, ge=0, le=9)
    random: bool = False

    @model_validator(mode="after")
    def one_source(self):
        sources = [self.dataset is not None, self.pixels is not None,
                   self.png_base64 is not None]
        if sum(sources) != 1:
            raise ValueError("give exactly one of dataset, pixels or png_base64")
        return self


class InputOut(StepOut):
    x28: list[list[float]] | None = None


class Tensor(BaseModel):
    shape: list[int]
    data: list[float]


class StateOut(BaseModel):
    cursor: Cursor
    tensors: dict[str, Tensor]


class ParamsBody(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"params": {"conv.w": {"shape": [1, 5, 5], "data": [0.0] * 25}}}]})

    params: dict[str, Tensor]


class ConfigPatch(Strict):
    learning_rate: float = Field(examples=[0.1])


class PhaseInfo(BaseModel):
    name: str
    en: str
    zh: str


class PhasesOut(BaseModel):
    phases: list[PhaseInfo]


class PoolRow(BaseModel):
    kernel: int
    row: int
    col: int
    seed_i: int
    seed_j: int
    j: int
    winner: list[int] | None
    seed_winner: list[int] | None
    value: float
    index_10: int
    start_14: list[int]
    start_14_index: int
    delta: float | None


class PoolTableOut(BaseModel):
    tie_rule: str
    rows: list[PoolRow]


class ExplainOut(BaseModel):
    param: str
    index: int
    seed_name: str
    formula_latex: str
    formula_mathml: str
    formula_article_latex: str
    terms: list[dict[str, Any]]
    sum: float
    gradient: float
    numeric: float


class GradcheckTensor(BaseModel):
    name: str
    checked: int
    kinks: int
    noise_limited: int = 0
    max_rel_error: float
    passed: bool


class GradcheckOut(BaseModel):
    tolerance: float
    h: float
    passed: bool
    tensors: list[GradcheckTensor]


class TrainIn(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"samples": 500, "batch_size": 1}, {"epochs": 1, "batch_size": 32}]})

    samples: int | None = Field(None, ge=1)
    epochs: float | None = Field(None, gt=0, le=10)
    batch_size: int = Field(1, ge=1, le=512)

    @model_validator(mode="after")
    def one_amount(self):
        if (self.samples is None) == (self.epochs is None):
            raise ValueError("give either samples or epochs")
        return self


class JobOut(BaseModel):
    state: Literal["idle", "running", "done", "stopped", "error"]
    done: int
    total: int
    model_config = ConfigDict(extra="allow")


class MetricsOut(BaseModel):
    job: JobOut
    loss: list[dict[str, float]]
    accuracy: list[dict[str, float]]
    confusion: list[list[int]] | None
    kernels: list[dict[str, Any]]
    worst: list[dict[str, Any]]


class DatasetInfo(BaseModel):
    name: str
    size: int
    count: int
    train: list[int]
    heldout: list[int]
    label_counts: list[int]
    credit: str


class DatasetsOut(BaseModel):
    datasets: list[DatasetInfo]


class DatasetSample(BaseModel):
    dataset: str
    index: int
    label: int
    split: str
    x: Tensor


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


ERRORS = {code: {"model": ErrorOut} for code in (401, 403, 404, 409, 413, 422)}
