"""CSV uploads into Datasets: parsed, checked and encoded before anything is stored.

Options decide what happens to the two things tabular data usually has: categorical
columns (one-hot encoded, or refused) and missing cells (refused, or imputed: the mean of
a numeric column, the most frequent value of a categorical one). Every refusal is a
ValueError naming the column and the row as a spreadsheet counts them (header = row 1).
The target column is never imputed: a row without a target is refused.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nas.data.dataset import Dataset

Categorical = Literal["onehot", "refuse"]
Missing = Literal["refuse", "impute"]
Task = Literal["classification", "regression", "auto"]

MISSING_MARKS = frozenset({"", "na", "nan", "null", "none", "?"})
MAX_LEVELS = 100  # one-hot columns per categorical column
MAX_COLUMNS = 10_000
MIN_ROWS = 10
MAX_CLASSES_AUTO = 20  # a numeric target with at most this many integer values is a class label


@dataclass(frozen=True)
class IngestReport:
    """What the upload turned into: encoded columns and imputed cells, for the response."""

    onehot: dict[str, list[str]] = field(default_factory=dict)
    imputed: dict[str, int] = field(default_factory=dict)


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_MARKS


def _as_float(cell: str) -> float | None:
    try:
        return float(cell)
    except ValueError:
        return None


def _read_rows(payload: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text (byte {exc.start})") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error as exc:
        raise ValueError(f"malformed CSV: {exc}") from None
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise ValueError("the file is empty: a header row and data rows are needed")
    header = [h.strip() for h in rows[0]]
    if any(not h for h in header):
        raise ValueError(f"the header row has an empty column name: {header}")
    dupes = sorted(h for h, n in Counter(header).items() if n > 1)
    if dupes:
        raise ValueError(f"the header row repeats column names {dupes}")
    if len(header) > MAX_COLUMNS:
        raise ValueError(f"at most {MAX_COLUMNS} columns; got {len(header)}")
    body = rows[1:]
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise ValueError(f"row {i + 2} has {len(r)} cells; the header has {len(header)}")
    if len(body) < MIN_ROWS:
        raise ValueError(f"at least {MIN_ROWS} data rows are needed; got {len(body)}")
    return header, body


def _numeric_column(name: str, cells: list[str], missing: Missing, report: IngestReport) -> list:
    values = np.array([np.nan if _is_missing(c) else float(c) for c in cells])
    bad = ~np.isfinite(values) & ~np.array([_is_missing(c) for c in cells])
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"non-finite value {cells[row]!r} in column {name!r}, row {row + 2}")
    holes = np.isnan(values)
    if holes.any():
        if missing == "refuse":
            row = int(np.argmax(holes))
            raise ValueError(
                f"missing value in column {name!r}, row {row + 2} "
                "(upload with missing=impute to fill it with the column mean)"
            )
        if holes.all():
            raise ValueError(f"column {name!r} has no values at all")
        values[holes] = float(np.mean(values[~holes]))
        report.imputed[name] = int(holes.sum())
    return [values]


def _categorical_column(
    name: str, cells: list[str], categorical: Categorical, missing: Missing, report: IngestReport
) -> list:
    if categorical == "refuse":
        example = next(c for c in cells if not _is_missing(c) and _as_float(c) is None)
        raise ValueError(
            f"column {name!r} is not numeric (e.g. {example!r}); "
            "upload with categorical=onehot to encode it"
        )
    cells = [c.strip() for c in cells]
    holes = [i for i, c in enumerate(cells) if _is_missing(c)]
    if holes:
        if missing == "refuse":
            raise ValueError(
                f"missing value in column {name!r}, row {holes[0] + 2} "
                "(upload with missing=impute to fill it with the most frequent value)"
            )
        mode = Counter(c for c in cells if not _is_missing(c)).most_common(1)[0][0]
        cells = [mode if _is_missing(c) else c for c in cells]
        report.imputed[name] = len(holes)
    levels = sorted(set(cells))
    if len(levels) > MAX_LEVELS:
        raise ValueError(f"column {name!r} has {len(levels)} categories; at most {MAX_LEVELS}")
    report.onehot[name] = levels
    column = np.array(cells)
    return [(column == level).astype(np.float64) for level in levels]


def _target(name: str, cells: list[str], task: Task) -> tuple[np.ndarray, str]:
    holes = [i for i, c in enumerate(cells) if _is_missing(c)]
    if holes:
        raise ValueError(f"missing target in column {name!r}, row {holes[0] + 2}")
    cells = [c.strip() for c in cells]
    numbers = [_as_float(c) for c in cells]
    numeric = all(x is not None for x in numbers)
    if task == "auto":
        integral = numeric and all(float(x).is_integer() for x in numbers if x is not None)
        few = len(set(cells)) <= MAX_CLASSES_AUTO
        task = "classification" if not numeric or (integral and few) else "regression"
    if task == "regression":
        if not numeric:
            bad = next(i for i, x in enumerate(numbers) if x is None)
            raise ValueError(f"regression target {name!r} is not numeric at row {bad + 2}")
        y = np.array(numbers, dtype=np.float64)
        if not np.isfinite(y).all():
            row = int(np.argmax(~np.isfinite(y))) + 2
            raise ValueError(f"non-finite target in column {name!r}, row {row}")
        return y, task
    y_labels = np.array(cells)
    if len(set(cells)) < 2:
        raise ValueError(f"classification target {name!r} has a single class {cells[0]!r}")
    return y_labels, task


def read_csv(
    payload: bytes,
    *,
    target: str,
    name: str = "upload",
    task: Task = "auto",
    categorical: Categorical = "refuse",
    missing: Missing = "refuse",
) -> tuple[Dataset, IngestReport]:
    """Parse CSV bytes (header row first) into a Dataset ready for to_npz."""
    header, body = _read_rows(payload)
    if target not in header:
        raise ValueError(f"target column {target!r} is not in the header {header[:20]}")
    if len(header) < 2:
        raise ValueError("at least one feature column besides the target is needed")
    report = IngestReport()
    columns: list[np.ndarray] = []
    names: list[str] = []
    for j, column_name in enumerate(header):
        if column_name == target:
            continue
        cells = [r[j] for r in body]
        if all(_is_missing(c) or _as_float(c) is not None for c in cells):
            columns += _numeric_column(column_name, cells, missing, report)
            names.append(column_name)
        else:
            encoded = _categorical_column(column_name, cells, categorical, missing, report)
            columns += encoded
            names += [f"{column_name}={level}" for level in report.onehot[column_name]]
    y, resolved = _target(target, [r[header.index(target)] for r in body], task)
    X = np.column_stack(columns).astype(np.float64)
    return Dataset(name, X, y, resolved, tuple(names)), report
