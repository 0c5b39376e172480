"""Response and request bodies of the API (pydantic), separate from the store's tables."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, field_validator

from nas.spec import DataSpec, JobSpec

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


class _FromRow(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DatasetOut(_FromRow):
    id: int
    name: str
    source: str
    task: str
    n_rows: int
    n_features: int
    sha256: str
    created: datetime


class ColumnOut(BaseModel):
    """A raw column and what a job's preprocessing makes of it (nas.nn.tabular's roles)."""

    name: str
    kind: str = Field(description="number or text, as read")
    role: str = Field(description="numeric, boolean, date, categorical or dropped")
    missing: int = Field(description="missing cells")
    levels: list[str] | None = Field(None, description="categorical: frequent levels")
    infrequent: int | None = Field(None, description="categorical: rare levels grouped")
    reason: str | None = Field(None, description="dropped: why")


class DatasetDetail(DatasetOut):
    feature_names: list[str] = Field(description="the raw feature columns, in file order")
    classes: list[str] | None = Field(None, description="class labels (classification)")
    target: str | None = None
    columns: list[ColumnOut] = Field(
        default_factory=list,
        description="each feature column's role, inferred from all rows (a preview: each "
        "job fits its preprocessing on its own training rows)",
    )


class DatasetCreated(DatasetDetail):
    task_inferred: str | None = Field(None, description="why the task was inferred, when it was")


class JobCreated(BaseModel):
    id: int
    status: str
    url: str


class Timings(BaseModel):
    """Where the job's run spent its wall time, in seconds by part (nas/search/timing.py);
    a resumed job counts from its resumption."""

    wall: float = Field(description="the parts' sum: from the run's start to now or its end")
    startup: float = Field(description="imports, data, store, executor, searcher, to the first ask")
    training: float = Field(description="the executor: building, training and scoring networks")
    stopping: float = Field(description="the stopping policy's decisions (curve fits)")
    store: float = Field(description="reads and writes of the store")
    searcher: float = Field(description="ask, tell and the searcher's saved state")
    refit: float = Field(description="the chosen candidate trained again on train + val rows")
    other: float = Field(description="the rest of the driver's loop")
    driver_share: float = Field(description="share of wall not spent training or refitting")


class JobOut(_FromRow):
    id: int
    name: str
    status: str
    created: datetime
    started: datetime | None
    finished: datetime | None
    runner: str | None
    error: str | None
    warm_start_job_id: int | None = Field(None, description="the job that seeded this one")
    timings: Timings | None = Field(None, description="where the time went (once it runs)")

    @field_validator("timings", mode="before")
    @classmethod
    def _readable_timings(cls, value: object) -> object:
        """Books the server cannot read (written by another version) are left out, never a 500."""
        try:
            return None if value is None else Timings.model_validate(value)
        except ValueError:
            return None


class Progress(BaseModel):
    trials_done: int = Field(description="trials ended (finished, pruned, diverged, failed)")
    trials_running: int
    trials_budget: int | None
    trials_by_status: dict[str, int]
    fraction: float | None = Field(description="share of the budget used, 0..1")


class JobDetail(JobOut):
    spec: dict[str, Any]
    progress: Progress
    best_val_metric: float | None
    best_trial_id: int | None
    epochs_spent: int
    epochs_saved: int = Field(description="epochs early stopping did not have to train")
    elapsed_seconds: float | None
    eta_seconds: float | None = Field(description="estimated seconds left (running jobs)")


class TrialOut(_FromRow):
    id: int
    job_id: int
    number: int
    status: str
    params: dict[str, Any]
    epochs_run: int
    val_metric: float | None
    test_metric: float | None
    n_params: int | None
    predicted_final: float | None = Field(
        None, description="the stopping policy's forecast of the final val_metric (pruned)"
    )
    refit_epochs: int | None = Field(
        None, description="the chosen trial only (spec.refit): epochs of its refit on train + val"
    )
    refit_test_metric: float | None = Field(
        None, description="the refit model's test metric; test_metric is the searched model's"
    )
    attempt: int
    worker: str | None
    started: datetime
    finished: datetime | None
    error: str | None


class CurvePoint(BaseModel):
    epoch: int
    train_loss: float | None
    val_loss: float | None
    val_metric: float | None
    seconds: float | None
    data_fraction: float = Field(1.0, description="share of the training rows it trained on")


class Curve(BaseModel):
    trial_id: int
    status: str
    after_epoch: int
    points: list[CurvePoint]
    last_epoch: int = Field(description="pass as after_epoch to poll for newer points")


class CurveSlice(BaseModel):
    trial_id: int
    after_epoch: int = Field(description="0: the whole curve (replace); else append these")
    epochs: list[int]
    val_metric: list[float | None]


class CurvesUpdate(BaseModel):
    trials: list[TrialOut] = Field(description="new trials, and the watched ones as they are now")
    curves: list[CurveSlice]
    cursor: str = Field(description="send back as ?cursor= to get only what changed since")
    more: bool = Field(description="more new trials wait: call again at once with the cursor")


class ModelMeta(BaseModel):
    job_id: int
    trial_id: int
    number: int
    val_metric: float | None
    test_metric: float | None = Field(description="the searched model's")
    refit: bool = Field(
        False, description="the served model was retrained on train + validation rows (spec.refit)"
    )
    refit_test_metric: float | None = Field(None, description="the refit model's test metric")
    params: dict[str, Any]
    estimator: str
    n_features_in: int
    classes: list[Any] | None
    feature_names: list[str] | None = Field(description="the network's input columns")
    input_columns: list[str] = Field(
        default_factory=list,
        description="the raw columns a row holds, in order (rows sent as lists follow it)",
    )
    preprocessing: dict[str, Any] | None = Field(
        None,
        description="a model trained on a table: each raw column's fitted role (nas.nn.tabular)",
    )
    format_version: int
    size_bytes: int
    ensemble: dict[str, Any] | None = Field(
        None,
        description="an ensemble of the job's best trials (spec.ensemble): its members "
        "(trial_id, number, weight, epochs), size, validation and test metric; null: one network",
    )


class PictureLayer(BaseModel):
    units: int = Field(description="the layer's width")
    shown: list[int] = Field(description="indices of the units drawn (the strongest)")
    names: list[str] | None = Field(description="feature or class names (input, output)")
    bias: list[float] | None


class NetworkPicture(BaseModel):
    trial_id: int
    number: int
    activation: str
    layers: list[PictureLayer] = Field(description="input, hidden layers, output")
    weights: list[list[list[float]]] = Field(description="per layer: shown x next layer's shown")
    max_abs_weight: float
    ensemble: list[dict[str, Any]] | None = Field(
        None, description="the model is an ensemble: its members (number, weight, ...)"
    )
    member: int | None = Field(None, description="of an ensemble, the trial number drawn")


Cell = FiniteFloat | bool | Annotated[str, Field(max_length=10_000)] | None


class PredictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: list[list[Cell]] | list[dict[str, Cell]] = Field(
        min_length=1,
        description="raw rows: objects keyed by column name (strings, numbers, null for a "
        "missing cell), or lists in the order of the model's input_columns",
    )
    probabilities: bool = Field(False, description="classification: add class probabilities")


class PredictOut(BaseModel):
    trial_id: int
    predictions: list[Any]
    classes: list[Any] | None = None
    probabilities: list[list[float]] | None = None


class Health(BaseModel):
    status: str
    database: str
    executor: str
    ray: str | None = None


NO_SERVER_PATHS = (
    "server file paths are not accepted over HTTP; upload the CSV with POST /api/v1/datasets "
    "and name it by dataset.id"
)


class HttpDataSpec(DataSpec):
    """The data set of a job submitted over HTTP: a built-in by name or an upload by id.
    `csv` (a path on the server) is refused before anything else is looked at."""

    csv: None = Field(None, description="not accepted over HTTP: " + NO_SERVER_PATHS)

    @field_validator("csv", mode="before")
    @classmethod
    def _no_server_paths(cls, v: object) -> None:
        if v is not None:
            raise ValueError(NO_SERVER_PATHS)
        return None


class JobRequest(JobSpec):
    """A job spec as the API takes it: the batch CLI's spec less server paths."""

    dataset: HttpDataSpec
