"""Raw table rows into the network's input: the fitted preprocessing that travels with a model.

A tabular model takes rows as a spreadsheet has them (text categories, empty cells) and
turns them into the float columns its network was trained on. The state is plain JSON
(column roles, fill values, one-hot levels), so a model file stays npz + JSON with no
pickle, and `nas.nn.load` of a downloaded model predicts from a DataFrame of raw columns
exactly as the service does. Fitting the state (from a job's training rows, with
scikit-learn's SimpleImputer and OneHotEncoder) is nas.data's job; this module only
applies it, so the trainer needs nothing of the rest of the core.

Roles, one per raw column:

    numeric      the number; a missing cell gets the training median, and a column that had
                 missing cells in training gets an indicator column (1 where missing)
    boolean      two text values as 0 / 1 (the second in sorted order is 1), imputed and
                 indicated as a number; a value unseen in training counts as missing
    date         ISO 8601 dates as days since 1970-01-01, imputed and indicated as a number
    categorical  one-hot over the frequent levels; rare levels (and, like scikit-learn's
                 handle_unknown='infrequent_if_exist', unseen ones) share an "infrequent"
                 column when training had rare levels, else they are all zeros; a missing
                 cell sets the column's missing indicator (all zeros if training had none)
    dropped      not used: constant, all missing, or an ID (a text column, all values unique)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# pandas' default NA markers minus "None": a category called "None" is a category.
NA_MARKERS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "n/a",
        "nan",
        "null",
    }
)
_NA_LIST = sorted(NA_MARKERS)
ROLES = ("numeric", "boolean", "date", "categorical", "dropped")
NUMBER_ROLES = ("numeric", "boolean", "date")
FORMAT_VERSION = 1
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


class InputError(ValueError):
    """A cell or column the preprocessing cannot turn into numbers: names the column and
    the row (0-based position in the rows given; None when the whole column is at fault)."""

    def __init__(self, column: str, row: int | None, problem: str) -> None:
        self.column, self.row, self.problem = column, row, problem
        where = f"column {column!r}" + ("" if row is None else f", row {row}")
        super().__init__(f"{where}: {problem}")


def is_missing(value: Any) -> bool:
    """None, NaN, pandas' NA, or a text NA marker (after stripping spaces)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, str):
        return value.strip() in NA_MARKERS
    return False


def as_text(value: Any) -> str:
    """A cell as the text a CSV would hold: integral numbers without '.0'."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def text_cells(cells: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """The cells as stripped text (NaN where missing) and the missing mask; vectorized for
    a column of text (the reader's, a DataFrame's), cell by cell for mixed JSON values."""
    if pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):
        text = cells.astype(object).str.strip()
    else:
        text = cells.map(lambda v: None if is_missing(v) else as_text(v)).astype(object)
    missing = (text.isna() | text.isin(_NA_LIST)).to_numpy(bool)
    return text.where(~missing), missing


@dataclass(frozen=True)
class Column:
    """One raw column's fitted state."""

    name: str
    role: str
    fill: float | None = None  # numeric, boolean, date: the training median
    indicator: bool = False  # a missing-indicator column follows (training had missing cells)
    levels: tuple[str, ...] = ()  # categorical: frequent levels; boolean: (false, true)
    infrequent: tuple[str, ...] = ()  # categorical: levels grouped into one column
    reason: str | None = None  # dropped: why

    @property
    def outputs(self) -> list[str]:
        """The names of the float columns this column becomes."""
        if self.role == "dropped":
            return []
        if self.role == "categorical":
            names = [f"{self.name}={level}" for level in self.levels]
            names += [f"{self.name}:infrequent"] if self.infrequent else []
        elif self.role == "boolean":
            names = [f"{self.name}={self.levels[1]}"]
        else:
            names = [self.name]
        return names + ([f"{self.name}:missing"] if self.indicator else [])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "role": self.role}
        if self.role in NUMBER_ROLES:
            out["fill"] = self.fill
        if self.role != "dropped":
            out["indicator"] = self.indicator
        if self.levels:
            out["levels"] = list(self.levels)
        if self.infrequent:
            out["infrequent"] = list(self.infrequent)
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Column:
        role = str(raw["role"])
        if role not in ROLES:
            raise ValueError(f"unknown column role {role!r}; one of {list(ROLES)}")
        fill = raw.get("fill")
        return cls(
            name=str(raw["name"]),
            role=role,
            fill=None if fill is None else float(fill),
            indicator=bool(raw.get("indicator", False)),
            levels=tuple(str(x) for x in raw.get("levels", ())),
            infrequent=tuple(str(x) for x in raw.get("infrequent", ())),
            reason=raw.get("reason"),
        )


@dataclass(frozen=True)
class Preprocessing:
    """Fitted preprocessing: raw rows (a DataFrame, or dicts keyed by column) to floats."""

    columns: tuple[Column, ...]
    target: str | None = None  # ignored when present in the rows given

    @property
    def feature_names(self) -> list[str]:
        """The network's input columns, in order."""
        return [name for column in self.columns for name in column.outputs]

    @property
    def input_columns(self) -> list[str]:
        """The raw columns rows may carry (the target is also accepted, and ignored)."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.role != "dropped"]

    def to_json(self) -> str:
        return json.dumps(
            {
                "format_version": FORMAT_VERSION,
                "target": self.target,
                "columns": [c.to_json() for c in self.columns],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Preprocessing:
        raw = json.loads(text)
        if raw.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported preprocessing format {raw.get('format_version')!r}")
        return cls(tuple(Column.from_json(c) for c in raw["columns"]), raw.get("target"))

    @classmethod
    def numbers(cls, names: Sequence[str]) -> Preprocessing:
        """Complete numeric columns passed through as they are (a model fitted on numbers):
        a missing cell is refused, as the network never saw one."""
        return cls(tuple(Column(str(n), "numeric") for n in names))

    def transform(self, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The network's input for raw rows; InputError names the column and row at fault."""
        frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
        self._check_columns(frame)
        parts: list[np.ndarray] = []
        for column in self.columns:
            if column.role == "dropped":
                continue
            cells = frame[column.name]
            if column.role == "categorical":
                parts.append(_one_hot(column, cells))
            else:
                parts.append(_number_block(column, cells))
        n = len(frame)
        return np.hstack(parts) if parts else np.zeros((n, 0))

    def _check_columns(self, frame: pd.DataFrame) -> None:
        given = [str(c) for c in frame.columns]
        known = set(self.input_columns) | ({self.target} if self.target else set())
        unknown = [c for c in given if c not in known]
        if unknown:
            raise InputError(unknown[0], None, f"not a column of this model ({_some(known)})")
        absent = [c for c in self.required_columns if c not in set(given)]
        if absent:
            raise InputError(absent[0], None, "absent; send it (null for a missing cell)")


def _some(names: set[str]) -> str:
    listed = sorted(names)
    more = f", ... {len(listed) - 12} more" if len(listed) > 12 else ""
    return "columns: " + ", ".join(listed[:12]) + more


def numbers_of(column: Column, cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The cells as floats (NaN where missing) and the missing mask."""
    if column.role == "date":
        return _days(column, cells)
    if column.role == "boolean":
        return _flags(column, cells)
    if pd.api.types.is_float_dtype(cells) or pd.api.types.is_integer_dtype(cells):
        values = cells.to_numpy(np.float64, na_value=np.nan)
        missing = np.isnan(values)
    else:
        text, missing = text_cells(cells)
        values = pd.to_numeric(text, errors="coerce").to_numpy(np.float64)
        bad = np.isnan(values) & ~missing
        if bad.any():
            row = int(np.argmax(bad))
            raise InputError(column.name, row, f"{cells.iloc[row]!r} is not a number")
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.argmax(infinite))
        raise InputError(column.name, row, f"{cells.iloc[row]!r} is not a finite number")
    return values, missing


def _flags(column: Column, cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    false, true = (level.lower() for level in column.levels)
    text = text_cells(cells)[0].str.lower().to_numpy(object)
    values = np.where(text == true, 1.0, np.where(text == false, 0.0, np.nan))
    return values, np.isnan(values)  # an unseen value counts as missing


def _days(column: Column, cells: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    text, missing = text_cells(cells)
    stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    values = ((stamps - _EPOCH) / pd.Timedelta(days=1)).to_numpy(np.float64, na_value=np.nan)
    bad = np.isnan(values) & ~missing
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(column.name, row, f"{cells.iloc[row]!r} is not an ISO 8601 date")
    return values, missing


def _number_block(column: Column, cells: pd.Series) -> np.ndarray:
    values, missing = numbers_of(column, cells)
    if missing.any():
        if column.fill is None:
            row = int(np.argmax(missing))
            raise InputError(column.name, row, "missing, and this model was fitted without gaps")
        values = np.where(missing, column.fill, values)
    block = [values]
    if column.indicator:
        block.append(missing.astype(np.float64))
    return np.column_stack(block)


def _one_hot(column: Column, cells: pd.Series) -> np.ndarray:
    width = len(column.levels) + bool(column.infrequent)
    index = {level: j for j, level in enumerate(column.levels)}
    other = len(column.levels) if column.infrequent else -1  # unseen and rare levels
    text, missing = text_cells(cells)
    codes = text.map(index).fillna(other).to_numpy(np.int64)
    codes[missing] = -1
    out = np.zeros((len(cells), width + column.indicator))
    hit = codes >= 0
    out[np.flatnonzero(hit), codes[hit]] = 1.0
    if column.indicator:
        out[:, width] = missing
    return out


class TabularModel:
    """A fitted network and the preprocessing of its inputs: raw rows in, predictions out.

    What `nas.nn.load` returns for a model the service trained on a table; `estimator` is
    the MLPClassifier, MLPRegressor or Ensemble (nas.nn.ensemble: the preprocessing is
    applied once, then every member predicts), `preprocessing` its inputs' fitted state.
    """

    def __init__(self, preprocessing: Preprocessing, estimator: Any) -> None:
        self.preprocessing = preprocessing
        self.estimator = estimator

    def transform(self, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.preprocessing.transform(rows)

    def predict(self, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.asarray(self.estimator.predict(self.transform(rows)))

    def predict_proba(self, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.asarray(self.estimator.predict_proba(self.transform(rows)))

    def score(self, rows: pd.DataFrame | Sequence[Mapping[str, Any]], y: Any) -> float:
        return float(self.estimator.score(self.transform(rows), y))

    @property
    def classes_(self) -> np.ndarray | None:
        return getattr(self.estimator, "classes_", None)

    @property
    def feature_names_in_(self) -> np.ndarray:
        return np.asarray(self.preprocessing.input_columns, dtype=object)
