"""The best model of a job: its npz bytes, its JSON metadata, its weights as JSON for the
dashboard's picture, and predictions from it. The model is one network, or an ensemble of
the job's best trials (spec.ensemble): both predict the same way here."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.deps import JobId, SessionDep, SettingsDep, job_or_404
from api.errors import ApiError
from api.picture import network_picture
from api.schemas import ModelMeta, NetworkPicture, PredictIn, PredictOut
from nas import store as db
from nas.data import BUILTINS, from_npz, load_builtin
from nas.search.ensemble import Ensemble, load_model

router = APIRouter(prefix="/jobs/{job_id}", tags=["models"])
NPZ = "application/octet-stream"


@lru_cache(maxsize=16)
def _estimator(trial_id: int, payload: bytes) -> Any:
    return load_model(payload)


def _ensemble(model: db.Model) -> dict[str, Any] | None:
    """The ensemble's members and weights, as its meta records them; None for one network."""
    found = model.meta.get("ensemble")
    return dict(found) if isinstance(found, dict) else None


@lru_cache(maxsize=64)
def _builtin_features(name: str) -> tuple[str, ...]:
    return load_builtin(name).feature_names if name in BUILTINS else ("x0", "x1")


def _feature_names(session: Session, spec: dict[str, Any]) -> list[str] | None:
    ds = spec.get("dataset") or {}
    if ds.get("name"):
        return list(_builtin_features(ds["name"]))
    if ds.get("id"):
        row = db.get_dataset(session, ds["id"])
        return None if row is None else list(from_npz(row.payload).feature_names)
    return None


def _best(session: Session, job_id: int) -> tuple[db.Job, db.Trial, db.Model]:
    job = job_or_404(session, job_id)
    found = db.best_model(session, job_id)
    if found is None:
        raise ApiError(404, f"job {job_id} has no trained model yet ({job.status})", "job_id")
    return job, found[0], found[1]


def _meta(session: Session, job: db.Job, trial: db.Trial, model: db.Model) -> ModelMeta:
    estimator = _estimator(trial.id, model.payload)
    classes = getattr(estimator, "classes_", None)
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
        feature_names=_feature_names(session, job.spec),
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
    """The job's model as npz bytes (nas.search.load_model reads it: one network, which
    nas.nn.load reads too, or an ensemble); metadata in the X-Model-Meta header (JSON),
    also at GET .../model/meta."""
    job, trial, model = _best(session, job_id)
    meta = _meta(session, job, trial, model).model_dump(
        exclude={"feature_names", "classes", "ensemble"}
    )
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
        _feature_names(session, job.spec),
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


def _matrix(body: PredictIn, names: list[str] | None, n_features: int) -> np.ndarray:
    if body.rows and isinstance(body.rows[0], dict):
        if names is None:
            raise ApiError(422, "this model's feature names are unknown; send rows as lists")
        rows = []
        for i, named in enumerate(body.rows):
            assert isinstance(named, dict)
            absent = [n for n in names if n not in named]
            extra = [k for k in named if k not in set(names)]
            if absent or extra:
                why = f"missing {absent[:5]}" if absent else f"unknown {extra[:5]}"
                raise ApiError(422, f"rows.{i}: {why} feature names", f"rows.{i}")
            rows.append([named[n] for n in names])
        return np.asarray(rows, dtype=np.float64)
    for i, row in enumerate(body.rows):
        assert isinstance(row, list)
        if len(row) != n_features:
            message = f"rows.{i}: {len(row)} values; the model takes {n_features} features"
            raise ApiError(422, message, f"rows.{i}")
    return np.asarray(body.rows, dtype=np.float64)


@router.post("/predict", response_model=PredictOut)
def predict(
    body: PredictIn, session: SessionDep, settings: SettingsDep, job_id: JobId
) -> PredictOut:
    """Predictions of the job's best model for the rows sent (numbers, finite)."""
    if len(body.rows) > settings.max_predict_rows:
        limit = f"at most {settings.max_predict_rows} rows per call (NAS_MAX_PREDICT_ROWS)"
        raise ApiError(413, limit, "rows")
    job, trial, model = _best(session, job_id)
    estimator = _estimator(trial.id, model.payload)
    names = _feature_names(session, job.spec)
    X = _matrix(body, names, int(estimator.n_features_in_))
    predictions = estimator.predict(X)
    out = PredictOut(trial_id=trial.id, predictions=predictions.tolist())
    classes = getattr(estimator, "classes_", None)
    if classes is not None:
        out.classes = classes.tolist()
        if body.probabilities:
            out.probabilities = estimator.predict_proba(X).tolist()
    return out
