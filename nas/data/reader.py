"""The one CSV reader: `nas run`'s `dataset: {csv: ...}`, uploads and predictions read alike.

pandas parses (quoting, a BOM, line endings, short rows); the rules around it are ours and
the same everywhere: a header row names the columns (no empty or repeated names), cells
are stripped of surrounding spaces, pandas' default NA markers except "None" are missing
(nas.nn.tabular.NA_MARKERS: a category called "None" stays one), rows with no cell at all
are skipped, and a column is numeric when every cell that is not missing is a number.
Every refusal is a DataError naming the column and the row as a spreadsheet counts them
(the header is row 1).
"""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from nas.data.dataset import DataError, Dataset
from nas.nn.tabular import NA_MARKERS

MIN_ROWS = 10
MAX_COLUMNS = 10_000
MAX_CLASSES_AUTO = 20  # a numeric target with at most this many integer values is a label
FIRST_ROW = 2  # the first data row's number as a spreadsheet shows it
_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"the file is not UTF-8 text (byte {exc.start})") from None


def _parse(text: str) -> pd.DataFrame:
    """Every cell as text, the header as row 0 (read by us, so pandas renames nothing)."""
    try:
        return pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty: a header row and data rows are needed") from None
    except pd.errors.ParserError as exc:
        fields = _FIELDS.search(str(exc))
        if fields:
            expected, line, saw = fields.groups()
            raise DataError(f"row {line} has {saw} cells; the header has {expected}") from None
        detail = str(exc).removeprefix("Error tokenizing data. ")
        raise DataError(f"malformed CSV: {detail}") from None


def _header(cells: list[str]) -> list[str]:
    header = [c.strip() for c in cells]
    if any(not h for h in header):
        raise DataError(f"the header row has an empty column name: {header[:20]}")
    dupes = sorted(h for h, n in Counter(header).items() if n > 1)
    if dupes:
        raise DataError(f"the header row repeats column names {dupes}")
    if len(header) > MAX_COLUMNS:
        raise DataError(f"at most {MAX_COLUMNS} columns; got {len(header)}")
    return header


def read_rows(payload: bytes) -> pd.DataFrame:
    """A CSV's rows as raw cells: text stripped of spaces, None where missing."""
    raw = _parse(_text(payload))
    header = _header(list(raw.iloc[0]))
    body = raw.iloc[1:].apply(lambda column: column.str.strip())
    body = body.mask(body.isin(sorted(NA_MARKERS)), None)
    body = body[body.notna().any(axis=1)]  # rows with no cell at all (",,,") are not rows
    if body.empty:
        raise DataError("the file has a header row but no data rows")
    return pd.DataFrame(body.to_numpy(object), columns=header)


def typed(cells: pd.DataFrame) -> pd.DataFrame:
    """Columns whose cells are all numbers (or missing) as float64; the rest stay text."""
    out = {}
    for name in cells.columns:
        column = cells[name]
        sample = column.dropna().iloc[:100]  # text shows at once; to_numeric is slow on it
        if pd.to_numeric(sample, errors="coerce").isna().any():
            out[name] = column.astype(object)
            continue
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.isna().equals(column.isna()):
            values = numbers.to_numpy(np.float64)
            infinite = np.isinf(values)
            if infinite.any():
                row = int(np.argmax(infinite))
                raise DataError(
                    f"non-finite value {column.iloc[row]!r} in column {name!r}, "
                    f"row {row + FIRST_ROW}"
                )
            out[name] = pd.Series(values, index=column.index)
        else:
            out[name] = column.astype(object)
    return pd.DataFrame(out, index=cells.index)


def infer_task(name: str, y: pd.Series) -> tuple[str, str]:
    """classification for a text target or one of few integer values, else regression;
    with the reason, to report."""
    if not pd.api.types.is_numeric_dtype(y):
        return "classification", f"target {name!r} holds text"
    values = y.to_numpy(np.float64)
    distinct = len(np.unique(values))
    if np.all(values == np.round(values)) and distinct <= MAX_CLASSES_AUTO:
        return "classification", f"target {name!r} has {distinct} integer values"
    return "regression", f"target {name!r} holds numbers ({distinct} distinct)"


def as_labels(y: pd.Series) -> np.ndarray:
    """Class labels: integers when the target is integral numbers, else the text."""
    if pd.api.types.is_numeric_dtype(y):
        values = y.to_numpy(np.float64)
        if np.all(values == np.round(values)):
            return values.astype(np.int64)
        return values
    return y.astype(str).to_numpy()


def to_dataset(cells: pd.DataFrame, target: str, task: str | None, name: str) -> Dataset:
    """Raw cells (read_rows) as a Dataset of at least MIN_ROWS rows: the target split off,
    the task inferred when not given, and the columns typed."""
    if target not in cells.columns:
        raise DataError(f"target column {target!r} is not in the CSV header {list(cells)[:20]}")
    if cells.shape[1] < 2:
        raise DataError("at least one feature column besides the target is needed")
    if len(cells) < MIN_ROWS:
        raise DataError(f"at least {MIN_ROWS} data rows are needed; got {len(cells)}")
    frame = typed(cells)
    y = frame.pop(target)
    holes = np.flatnonzero(y.isna().to_numpy())
    if holes.size:
        raise DataError(f"missing target in column {target!r}, row {holes[0] + FIRST_ROW}")
    note = None
    if task is None:
        task, note = infer_task(target, y)
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            bad = int(np.flatnonzero(pd.to_numeric(y, errors="coerce").isna())[0])
            raise DataError(f"regression target {target!r} is not numeric at row {bad + FIRST_ROW}")
        labels = y.to_numpy(np.float64)
    elif task == "classification":
        labels = as_labels(y)
        if len(np.unique(labels)) < 2:
            raise DataError(f"classification target {target!r} has a single class {labels[0]!r}")
    else:
        raise DataError(f"task must be 'classification' or 'regression'; got {task!r}")
    frame = frame.reset_index(drop=True)
    return Dataset(name, frame, labels, task, target, note)


def read_csv(payload: bytes, target: str, task: str | None = None, name: str = "csv") -> Dataset:
    """CSV bytes as a Dataset (at least MIN_ROWS data rows)."""
    return to_dataset(read_rows(payload), target, task, name)


def load_csv(path: str | Path, target: str, task: str | None = None) -> Dataset:
    """A CSV file with a header row and the named target column (nas run's dataset.csv)."""
    try:
        payload = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return read_csv(payload, target, task, Path(path).stem)
