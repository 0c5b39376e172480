"""Data sets: CSV upload (read, checked, stored as raw columns in npz), list, one by id.

The answer says what a job will make of each column (its role, levels, gaps) and the
task, and why when it was inferred; each job fits that preprocessing on its training rows.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import DatasetId, SessionDep, SettingsDep
from api.errors import ApiError, not_found
from api.schemas import DatasetCreated, DatasetDetail, DatasetOut, Page
from nas import store as db
from nas.data import Dataset, from_npz, to_npz
from nas.data.ingest import Categorical, Missing, Task, describe_columns, read_csv

router = APIRouter(prefix="/datasets", tags=["datasets"])
CHUNK = 1 << 20
CATEGORICAL = (
    "text columns: auto (one-hot, rare levels grouped; 'onehot' is its old name) or refuse"
)
MISSING = "missing cells: auto (imputed, with an indicator; 'impute' is its old name) or refuse"


def _described(data: Dataset, columns: list[dict] | None = None) -> dict:
    classes = None
    if data.task == "classification":
        classes = [str(c) for c in np.unique(data.y)]
    return {
        "feature_names": list(data.feature_names),
        "classes": classes,
        "target": data.target,
        "columns": describe_columns(data) if columns is None else columns,
    }


_DESCRIBED: OrderedDict[str, dict] = OrderedDict()  # by sha256; the payload is not kept
_DESCRIBED_MAX = 32
_DESCRIBED_LOCK = threading.Lock()


def _stored(row: db.Dataset) -> dict:
    """A stored data set's description: read and previewed once (seconds on a big table)."""
    found = _DESCRIBED.get(row.sha256)
    if found is None:
        found = _described(from_npz(row.payload))
        with _DESCRIBED_LOCK:  # routes run in a thread pool
            _DESCRIBED[row.sha256] = found
            while len(_DESCRIBED) > _DESCRIBED_MAX:
                _DESCRIBED.popitem(last=False)
    return found


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            message = f"the file is larger than the upload limit of {limit} bytes"
            raise ApiError(413, message, "file")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", status_code=201, response_model=DatasetCreated)
async def upload_dataset(
    session: SessionDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV with a header row")],
    target: Annotated[str, Form(min_length=1, max_length=200, description="target column")],
    name: Annotated[str | None, Form(max_length=200)] = None,
    task: Annotated[Task, Form(description="auto: inferred from the target")] = "auto",
    categorical: Annotated[Categorical, Form(description=CATEGORICAL)] = "auto",
    missing: Annotated[Missing, Form(description=MISSING)] = "auto",
) -> dict:
    payload = await _read_limited(file, settings.max_upload_bytes)
    label = name or (file.filename or "upload").removesuffix(".csv")[:200] or "upload"
    try:
        data, report = await run_in_threadpool(
            read_csv,
            payload,
            target=target,
            name=label,
            task=task,
            categorical=categorical,
            missing=missing,
        )
    except ValueError as exc:
        raise ApiError(422, str(exc), "file") from None
    npz = await run_in_threadpool(to_npz, data)
    row = await run_in_threadpool(
        db.add_dataset,
        session,
        name=label,
        source=f"upload:{file.filename or 'csv'}"[:500],
        task=data.task,
        n_rows=data.n_rows,
        n_features=data.n_features,
        payload=npz,
    )
    fields = DatasetOut.model_validate(row).model_dump()
    return fields | _described(data, report.columns) | {"task_inferred": report.task_note}


@router.get("", response_model=Page[DatasetOut])
def list_datasets(
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=2**31)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict:
    items = db.list_datasets(session, limit=limit, offset=offset)
    return {"items": items, "total": db.count_datasets(session), "offset": offset, "limit": limit}


@router.get("/{dataset_id}", response_model=DatasetDetail)
def get_dataset(session: SessionDep, dataset_id: DatasetId) -> dict:
    row = db.get_dataset(session, dataset_id)
    if row is None:
        raise not_found("data set", dataset_id, "dataset_id")
    fields = DatasetOut.model_validate(row).model_dump()
    return fields | _stored(row)
