"""The best model of a job: its npz bytes, its JSON metadata, its weights as JSON for the
dashboard's picture, and predictions from it.

A model trained on a table carries its fitted preprocessing (nas.nn.tabular): it predicts
raw rows, as JSON objects keyed by the CSV's column names or as a CSV file, and answers
JSON or CSV (Accept: text/csv). What the preprocessing cannot handle (text in a numeric
column) is a 422 naming the column and the row. A model of numbers (a built-in data set)
takes rows of numbers alike, by name or in feature order. The model is one network, or an
ensemble of the job's best trials (spec.ensemble): the preprocessing is applied once, then
every member predicts, so both serve the same way here.
"""

from __future__ import annotations

import io
import json
from functools import lru_cache
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.config import Settings
from api.deps import JobId, SessionDep, SettingsDep, job_or_404
from api.errors import ApiError
from api.picture import network_picture
from api.schemas import ModelMeta, NetworkPicture, PredictIn, PredictOut
from nas import store as db
from nas.data import BUILTINS, from_npz, load_builtin, read_rows
from nas.nn import Ensemble, InputError, Preprocessing, TabularModel, from_bytes

router = APIRouter(prefix="/jobs/{job_id}", tags=["models"])
NPZ = "application/octet-stream"
CSV = "text/csv"
FIRST_CSV_ROW = 2  # the header is row 1, as a spreadsheet counts


@lru_cache(maxsize=16)
def _model(trial_id: int, payload: bytes) -> Any:
    return from_bytes(payload)


def _ensemble(model: db.Model) -> dict[str, Any] | None:
    """The ensemble's members and weights, as its meta records them; None for one network."""
    found = model.meta.get("ensemble")
    return dict(found) if isinstance(found, dict) else None


def _estimator(trial_id: int, payload: bytes) -> Any:
    """The estimator alone: MLPClassifier, MLPRegressor or Ensemble (raw rows' preprocessing
    taken off)."""
    model = _model(trial_id, payload)
    return model.estimator if isinstance(model, TabularModel) else model


@lru_cache(maxsize=64)
def _builtin_features(name: str) -> tuple[str, ...]:
    return load_builtin(name).feature_names if name in BUILTINS else ("x0", "x1")


def _stored_features(session: Session, spec: dict[str, Any]) -> list[str] | None:
    """The raw feature names of the job's data set (built-in or stored)."""
    ds = spec.get("dataset") or {}
    if ds.get("name"):
        return list(_builtin_features(ds["name"]))
    if ds.get("id"):
        row = db.get_dataset(session, ds["id"])
        return None if row is None else list(from_npz(row.payload).feature_names)
    return None


def _feature_names(session: Session, job: db.Job, model: Any) -> list[str] | None:
    """The network's input columns: the preprocessing's outputs, or the data set's."""
    if isinstance(model, TabularModel):
        return model.preprocessing.feature_names
    return _stored_features(session, job.spec)


def _preprocessing(session: Session, job: db.Job, model: Any) -> Preprocessing:
    """How raw rows reach this model: its own preprocessing, or its columns of numbers."""
    if isinstance(model, TabularModel):
        return model.preprocessing
    names = _stored_features(session, job.spec)
    if names is None or len(names) != model.n_features_in_:
        names = [f"x{i}" for i in range(int(model.n_features_in_))]
    return Preprocessing.numbers(names)


def _best(session: Session, job_id: int) -> tuple[db.Job, db.Trial, db.Model]:
    job = job_or_404(session, job_id)
    found = db.best_model(session, job_id)
    if found is None:
        raise ApiError(404, f"job {job_id} has no trained model yet ({job.status})", "job_id")
    return job, found[0], found[1]


def _meta(session: Session, job: db.Job, trial: db.Trial, model: db.Model) -> ModelMeta:
    loaded = _model(trial.id, model.payload)
    estimator = _estimator(trial.id, model.payload)
    classes = getattr(estimator, "classes_", None)
    tabular = isinstance(loaded, TabularModel)
    return ModelMeta(
        job_id=job.id,
        trial_id=trial.id,
        number=trial.number,
        val_metric=trial.val_metric,
        test_metric=trial.test_metric,
        refit=bool(model.meta.get("refit", False)),
        refit_test_metric=trial.refit_test_metric,
        params=trial.params,
        estimator=type(estimator).__name__,
        n_features_in=int(estimator.n_features_in_),
        classes=None if classes is None else classes.tolist(),
        feature_names=_feature_names(session, job, loaded),
        input_columns=_preprocessing(session, job, loaded).input_columns,
        preprocessing=json.loads(loaded.preprocessing.to_json()) if tabular else None,
        format_version=model.format_version,
        size_bytes=len(model.payload),
        ensemble=_ensemble(model),
    )


@router.get(
    "/model",
    response_class=Response,
    responses={200: {"content": {NPZ: {}}, "description": "npz (numpy.load, no pickle)"}},
)
def download_model(session: SessionDep, job_id: JobId) -> Response:
    """The job's model as npz bytes, with its preprocessing when it was trained on a table
    (nas.nn.load reads it, raw rows in: one network or an ensemble); metadata in the
    X-Model-Meta header (JSON), in full at GET .../model/meta."""
    job, trial, model = _best(session, job_id)
    exclude = {"feature_names", "classes", "input_columns", "preprocessing", "ensemble"}
    meta = _meta(session, job, trial, model).model_dump(exclude=exclude)  # a header's size
    headers = {
        "Content-Disposition": f'attachment; filename="job-{job_id}-trial-{trial.number}.npz"',
        "X-Model-Meta": json.dumps(meta, separators=(",", ":")),
    }
    return Response(model.payload, media_type=NPZ, headers=headers)


@router.get("/model/meta", response_model=ModelMeta)
def model_meta(session: SessionDep, job_id: JobId) -> ModelMeta:
    return _meta(session, *_best(session, job_id))


@router.get("/model/weights", response_model=NetworkPicture)
def model_weights(
    session: SessionDep,
    job_id: JobId,
    max_units: Annotated[int, Query(ge=1, le=64, description="units drawn per layer")] = 16,
) -> NetworkPicture:
    """The best network's weights as JSON for a picture: per layer at most max_units units,
    those with the largest weights, and the weights among them (never pickle). Of an
    ensemble, its heaviest member is drawn, and the members and weights are listed."""
    job, trial, model = _best(session, job_id)
    estimator = _estimator(trial.id, model.payload)
    ensemble = _ensemble(model)
    member = None
    if isinstance(estimator, Ensemble):
        heaviest = max(range(len(estimator.members)), key=lambda i: estimator.weights[i])
        member = estimator.info[heaviest].get("number")
        estimator = estimator.members[heaviest]
    classes = getattr(estimator, "classes_", None)
    outputs = estimator.coefs_[-1].shape[1]
    output_names = None
    if classes is not None and len(classes) == outputs:
        output_names = [str(c) for c in classes]
    elif classes is not None and outputs == 1:
        output_names = [f"P({classes[-1]})"]
    picture = network_picture(
        estimator.coefs_,
        estimator.intercepts_,
        max_units,
        _feature_names(session, job, _model(trial.id, model.payload)),
        output_names,
    )
    return NetworkPicture(
        trial_id=trial.id,
        number=trial.number,
        activation=str(estimator.activation),
        ensemble=None if ensemble is None else ensemble["members"],
        member=member,
        **picture,
    )


PREDICT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": PredictIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "CSV"},
                        "probabilities": {"type": "boolean", "default": False},
                    },
                }
            },
        },
    }
}
PREDICT_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}, "description": "JSON, or CSV"},
}


class _Rows:
    """Rows to predict, and how to name a row in a refusal (JSON index or CSV row)."""

    def __init__(self, frame: pd.DataFrame, probabilities: bool, csv: bool) -> None:
        self.frame, self.probabilities, self.csv = frame, probabilities, csv

    def refusal(self, exc: InputError) -> ApiError:
        if self.csv:
            row = "" if exc.row is None else f", row {exc.row + FIRST_CSV_ROW}"
            return ApiError(422, f"column {exc.column!r}{row}: {exc.problem}", "file")
        where = "rows" if exc.row is None else f"rows.{exc.row}"
        return ApiError(422, f"{where}: column {exc.column!r}: {exc.problem}", where)


def _flag(value: Any) -> bool:
    text = str(value).strip().lower()
    if text not in ("true", "false", "1", "0", ""):
        message = f"probabilities must be true or false; got {str(value)[:50]!r}"
        raise ApiError(422, message, "probabilities")
    return text in ("true", "1")


async def _csv_rows(request: Request, settings: Settings) -> _Rows:
    form = await request.form(max_files=1, max_fields=8)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "send the rows as a CSV file in the form field 'file'", "file")
    payload = await upload.read(settings.max_upload_bytes + 1)
    if len(payload) > settings.max_upload_bytes:
        limit = f"the file is larger than the upload limit of {settings.max_upload_bytes} bytes"
        raise ApiError(413, limit, "file")
    try:
        frame = await run_in_threadpool(read_rows, payload)
    except ValueError as exc:  # DataError, or what pandas refuses
        raise ApiError(422, str(exc).splitlines()[0][:500] or "unreadable CSV", "file") from None
    return _Rows(frame, _flag(form.get("probabilities", "")), csv=True)


def _json_rows(body: PredictIn, columns: list[str]) -> _Rows:
    records: list[dict[str, Any]] = []
    for i, row in enumerate(body.rows):
        if isinstance(row, list):
            if len(row) != len(columns):
                message = f"rows.{i}: {len(row)} values; the model takes {len(columns)} columns"
                raise ApiError(422, message + f" ({', '.join(columns[:8])}...)", f"rows.{i}")
            records.append(dict(zip(columns, row)))
        elif isinstance(row, dict):
            records.append(row)
    frame = pd.DataFrame.from_records(records)
    for i, record in enumerate(records):  # a column absent from one row is a typo, not a gap
        absent = [c for c in frame.columns if c not in record]
        if absent:
            message = f"rows.{i}: column {absent[0]!r} is absent (send null for a missing cell)"
            raise ApiError(422, message, f"rows.{i}")
    return _Rows(frame, body.probabilities, csv=False)


@router.post(
    "/predict", response_model=PredictOut, openapi_extra=PREDICT_BODY, responses=PREDICT_ANSWERS
)
async def predict(
    request: Request, session: SessionDep, settings: SettingsDep, job_id: JobId
) -> Any:
    """Predictions of the job's best model for the rows sent: JSON `{"rows": [...]}` (objects
    keyed by the data set's column names with strings, numbers or nulls, or lists in column
    order), or a CSV file as the multipart field `file`. Answers JSON, or CSV when the
    request says `Accept: text/csv`."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = None
    if ctype != "multipart/form-data":
        body = PredictIn.model_validate_json(await request.body())  # 422s name the field
    if body is not None and len(body.rows) > settings.max_predict_rows:
        limit = f"at most {settings.max_predict_rows} rows per call (NAS_MAX_PREDICT_ROWS)"
        raise ApiError(413, limit, "rows")
    trial_id, estimator, preprocessing = await run_in_threadpool(_served, session, job_id)
    rows = _json_rows(body, preprocessing.input_columns) if body else None
    if rows is None:
        rows = await _csv_rows(request, settings)
        if len(rows.frame) > settings.max_predict_rows:
            limit = f"at most {settings.max_predict_rows} rows per call (NAS_MAX_PREDICT_ROWS)"
            raise ApiError(413, limit, "file")
    out = await run_in_threadpool(_predictions, estimator, preprocessing, rows, trial_id)
    if CSV in request.headers.get("accept", ""):
        return Response(_as_csv(out), media_type=CSV)
    return out


def _served(session: Session, job_id: int) -> tuple[int, Any, Preprocessing]:
    """The best trial's id, its network, and how raw rows reach it (loads the model once)."""
    job, trial, model = _best(session, job_id)
    loaded = _model(trial.id, model.payload)
    return trial.id, _estimator(trial.id, model.payload), _preprocessing(session, job, loaded)


def _predictions(
    estimator: Any, preprocessing: Preprocessing, rows: _Rows, trial_id: int
) -> PredictOut:
    try:
        X = preprocessing.transform(rows.frame)
    except InputError as exc:
        raise rows.refusal(exc) from None
    if len(X) == 0:
        raise ApiError(422, "no rows to predict", "file" if rows.csv else "rows")
    out = PredictOut(trial_id=trial_id, predictions=estimator.predict(X).tolist())
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        out.classes = classes.tolist()
        if rows.probabilities:
            out.probabilities = estimator.predict_proba(X).tolist()
    return out


def _as_csv(out: PredictOut) -> str:
    """One line per row: the prediction, and P(class) per class when asked."""
    table = pd.DataFrame({"prediction": out.predictions})
    if out.probabilities is not None and out.classes is not None:
        P = np.asarray(out.probabilities)
        for j, label in enumerate(out.classes):
            table[f"P({label})"] = P[:, j]
    buf = io.StringIO()
    table.to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue()
