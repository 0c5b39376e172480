"""CSV uploads into Datasets: read by the one reader, checked, and described for the answer.

The stored data set keeps the raw columns; each job fits its preprocessing on its own
training rows. The upload's answer shows what that preprocessing will do (column roles,
levels, gaps), inferred here from all rows as a preview. Automatic handling is the
default; `refuse` turns a text column or a missing cell into a refusal naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nas.data.dataset import Dataset
from nas.data.preprocess import check_refusals, fit_preprocessing
from nas.data.reader import read_csv as read_table

Categorical = Literal["auto", "onehot", "refuse"]  # onehot: the earlier name of auto
Missing = Literal["auto", "impute", "refuse"]  # impute: the earlier name of auto
Task = Literal["classification", "regression", "auto"]
UPLOAD_HINT = "upload with {option}=auto"


@dataclass(frozen=True)
class UploadReport:
    """What the upload found: the task (and why, when inferred) and each column's role."""

    task_note: str | None
    columns: list[dict[str, Any]]


def describe_columns(data: Dataset) -> list[dict[str, Any]]:
    """Each raw feature column: its kind, missing cells, and the role a job would give it
    (fitted here on all rows: a preview; a job fits on its training rows)."""
    preview = fit_preprocessing(data.features, data.target)
    out = []
    for column in preview.columns:
        cells = data.features[column.name]
        entry: dict[str, Any] = {
            "name": column.name,
            "kind": "number" if cells.dtype.kind == "f" else "text",
            "role": column.role,
            "missing": int(cells.isna().sum()),
        }
        if column.role in ("categorical", "boolean"):
            entry["levels"] = list(column.levels)
        if column.infrequent:
            entry["infrequent"] = len(column.infrequent)
        if column.reason:
            entry["reason"] = column.reason
        out.append(entry)
    return out


def read_csv(
    payload: bytes,
    *,
    target: str,
    name: str = "upload",
    task: Task = "auto",
    categorical: Categorical = "auto",
    missing: Missing = "auto",
) -> tuple[Dataset, UploadReport]:
    """Parse CSV bytes into a Dataset of raw columns, ready for to_npz; DataError refuses."""
    data = read_table(payload, target, None if task == "auto" else task, name)
    check_refusals(data, categorical, missing, UPLOAD_HINT)
    return data, UploadReport(data.task_note, describe_columns(data))
