"""What a submitted job may ask of this server: limits from the settings, and data sets
that exist and split. Refusals are 422s naming the field, before anything is queued."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.config import Settings
from api.errors import ApiError
from nas import store as db
from nas.data import DataError, check_drop, check_refusals, from_npz, split_rows
from nas.spec import JobSpec


def _refuse(field: str, message: str) -> ApiError:
    return ApiError(422, f"{field}: {message}", field, "body")


def check_limits(spec: JobSpec, settings: Settings, session: Session) -> None:
    budget = spec.budget
    if budget.trials is None or budget.trials > settings.max_trials:
        limit = f"must be set, at most {settings.max_trials} (NAS_MAX_TRIALS)"
        raise _refuse("budget.trials", limit)
    if spec.space.max_epochs > settings.max_epochs:
        limit = f"at most {settings.max_epochs} (NAS_MAX_EPOCHS); got {spec.space.max_epochs}"
        raise _refuse("space.max_epochs", limit)
    if spec.parallelism > settings.max_workers:
        limit = f"at most {settings.max_workers} (NAS_MAX_WORKERS); got {spec.parallelism}"
        raise _refuse("parallelism", limit)
    if spec.warm_start is not None:
        try:
            db.warm_start_source(session, spec.warm_start.job_id, spec.warm_start.top)
        except db.WarmStartError as exc:
            raise _refuse("warm_start.job_id", str(exc)) from None
    ds = spec.dataset
    if ds.id is not None:
        row = db.get_dataset(session, ds.id)
        if row is None:
            raise _refuse("dataset.id", f"no stored data set with id {ds.id}")
        data = from_npz(row.payload)
        if ds.task is not None and ds.task != data.task:
            raise _refuse("dataset.task", f"data set {ds.id} was stored as {data.task}")
        try:  # refused options, or too small or unbalanced to split: here, not in the runner
            check_refusals(data, ds.categorical, ds.missing, "set dataset.{option}: auto")
        except DataError as exc:
            raise _refuse("dataset", f"data set {ds.id}: {exc}") from None
        try:
            check_drop(data.features, ds.drop)
        except DataError as exc:
            raise _refuse("dataset.drop", f"data set {ds.id}: {exc}") from None
        try:
            split_rows(data.y, data.task, spec.seed, ds.test_fraction, ds.val_fraction)
        except ValueError as exc:
            raise _refuse("dataset", f"data set {ds.id} cannot be split: {exc}") from None
