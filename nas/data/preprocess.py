"""Preprocessing fitted on a job's training rows: column roles, imputation, one-hot levels.

The roles (nas.nn.tabular describes each) are inferred from the training rows: a column
with no value is dropped (all missing), one with a single value and no gap too (constant),
and a text column whose values are all different is an ID (dropped), as is a numeric one
of distinct whole numbers as dense as a row count (_is_row_number); a text column of ISO
8601 dates is a date, one of two values a boolean, any other text categorical.

The fitting is scikit-learn's: SimpleImputer(strategy="median", add_indicator=True) for
the numeric, boolean and date columns, and per categorical column OneHotEncoder with
min_frequency=min_frequency(rows), max_categories=MAX_LEVELS and
handle_unknown="infrequent_if_exist". Their fitted state (medians, which columns had gaps,
frequent and infrequent levels) is exported to nas.nn.tabular's JSON, which applies it the
same way (tests/data/test_preprocess.py checks it against the encoders' own transform), so
the model file holds no pickle and nas.nn needs nothing of nas.data.

MIN_FREQUENCY, MIN_SHARE and MAX_LEVELS are plain defaults (RealMLP and AutoGluon group
rare levels alike), not tuned on a benchmark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nas.data.dataset import DataError, Dataset, Split, split_rows
from nas.data.reader import FIRST_ROW
from nas.nn.tabular import Column, InputError, Preprocessing, numbers_of, text_cells

MIN_FREQUENCY = 5  # a level seen in fewer training rows joins the infrequent column ...
MIN_SHARE = 0.01  # ... or in fewer than 1 % of them, when that is less (small tables)
MAX_LEVELS = 32  # one-hot columns per categorical column, the infrequent one included
MIN_ID_ROWS = 20  # fewer rows than this: distinct whole numbers say nothing
ID_SPAN = 2.0  # a row number's span is at most this many times the rows seen


def min_frequency(n_rows: int) -> int:
    """Rows a level needs to keep a column of its own: 5, or 1 % of a small table's rows
    (a 12-row table would otherwise put every level into the infrequent column)."""
    return min(MIN_FREQUENCY, max(1, math.ceil(MIN_SHARE * n_rows)))


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _all_dates(text: pd.Series) -> bool:
    if not text.iloc[:100].str.match(r"\d{4}-\d\d").all():  # cheap: most text is no date
        return False
    stamps = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    return bool(stamps.notna().all())


def _is_row_number(values: pd.Series, present: pd.Series) -> bool:
    """A numeric column that numbers the rows (1..n, or any run of consecutive whole
    numbers, in any order): distinct whole numbers, none missing, spanning no more than
    twice the rows seen. The roles are inferred from a job's training rows, a random share
    of the table, so a row number there has gaps but stays dense; a measured quantity
    that happens to be distinct (an income, a price) spans far more. A table's exported
    index ("rownames", "Unnamed: 0", "id") is the common case."""
    n = len(values)
    if n < MIN_ID_ROWS or not present.all() or values.nunique() != n:
        return False
    numbers = values.to_numpy(dtype=float)
    if not np.all(np.isfinite(numbers)) or not np.all(numbers == np.round(numbers)):
        return False
    return bool(numbers.max() - numbers.min() + 1 <= ID_SPAN * n)


def infer_role(column: pd.Series) -> Column:
    """The role of one raw column, from its (training) values; nothing fitted yet."""
    name = str(column.name)
    present = column.notna()
    values = column[present]
    if values.empty:
        return Column(name, "dropped", reason="all missing")
    distinct = values.nunique()
    if distinct == 1 and present.all():
        return Column(name, "dropped", reason="constant")
    if _is_number(column):
        if _is_row_number(values, present):
            return Column(name, "dropped", reason="ID-like: distinct whole numbers, a row count")
        return Column(name, "numeric")
    text = text_cells(values)[0]
    if _all_dates(text):
        return Column(name, "date")
    if distinct == 2:
        return Column(name, "boolean", levels=tuple(sorted(text.unique())))
    if distinct == len(values):
        return Column(name, "dropped", reason="ID-like: every value differs")
    return Column(name, "categorical")


def fit_preprocessing(
    features: pd.DataFrame, target: str | None = None, drop: Sequence[str] = ()
) -> Preprocessing:
    """Roles and fitted state from these rows (a job's training rows); the columns named
    in `drop` are left out (and still accepted, then ignored, in rows to predict)."""
    from sklearn.impute import SimpleImputer

    check_drop(features, drop)
    columns = [
        Column(str(name), "dropped", reason="named in dataset.drop")
        if name in drop
        else infer_role(features[name])
        for name in features.columns
    ]
    numbered = [c for c in columns if c.role in ("numeric", "boolean", "date")]
    fitted: dict[str, Column] = {}
    if numbered:
        matrix = np.column_stack([numbers_of(c, features[c.name])[0] for c in numbered])
        imputer = SimpleImputer(strategy="median", add_indicator=True).fit(matrix)
        gaps = set() if imputer.indicator_ is None else set(imputer.indicator_.features_)
        for j, c in enumerate(numbered):
            fill = float(imputer.statistics_[j])
            fitted[c.name] = Column(c.name, c.role, fill, j in gaps, c.levels)
    for c in columns:
        if c.role == "categorical":
            fitted[c.name] = _fit_levels(c.name, features[c.name])
    return Preprocessing(tuple(fitted.get(c.name, c) for c in columns), target)


def check_drop(features: pd.DataFrame, drop: Sequence[str]) -> None:
    """DataError naming the first column in `drop` that the data set does not have."""
    known = [str(c) for c in features.columns]
    for name in drop:
        if name not in known:
            some = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            raise DataError(f"drop: {name!r} is not a feature column (columns: {some})")


def _fit_levels(name: str, column: pd.Series) -> Column:
    from sklearn.preprocessing import OneHotEncoder

    present = column.notna()
    text = text_cells(column[present])[0].to_numpy(dtype=object).reshape(-1, 1)
    encoder = OneHotEncoder(
        min_frequency=min_frequency(len(text)),
        max_categories=MAX_LEVELS,
        handle_unknown="infrequent_if_exist",
    ).fit(text)
    rare = encoder.infrequent_categories_[0]
    infrequent = tuple(str(x) for x in rare) if rare is not None else ()
    levels = tuple(str(x) for x in encoder.categories_[0] if str(x) not in set(infrequent))
    return Column(
        name, "categorical", indicator=not present.all(), levels=levels, infrequent=infrequent
    )


@dataclass(frozen=True)
class Prepared:
    """A job's rows as the network sees them, and the preprocessing that made them."""

    split: Split
    preprocessing: Preprocessing


def prepare(
    data: Dataset,
    seed: int,
    test_fraction: float = 0.2,
    val_fraction: float = 0.2,
    drop: Sequence[str] = (),
) -> Prepared:
    """Split the rows by seed, fit the preprocessing on the training rows only (leaving
    out the columns in `drop`), and transform every row with it."""
    train, val, test = split_rows(data.y, data.task, seed, test_fraction, val_fraction)
    preprocessing = fit_preprocessing(data.features.iloc[train], data.target, drop)
    try:
        X = preprocessing.transform(data.features)
    except InputError as exc:  # e.g. a date column with text only in validation rows
        row = "" if exc.row is None else f", row {exc.row + FIRST_ROW}"
        raise DataError(f"column {exc.column!r}{row}: {exc.problem}") from None
    y = data.y
    parts = Split(X[train], y[train], X[val], y[val], X[test], y[test])
    return Prepared(parts, preprocessing)


def check_refusals(data: Dataset, categorical: str, missing: str, how: str) -> None:
    """The user's `refuse` options: a text column or a missing cell is a DataError naming
    the column and row; `how` says how to ask for automatic handling instead."""
    for name in data.features.columns:
        column = data.features[name]
        if categorical == "refuse" and not _is_number(column):
            present = column.notna().to_numpy()
            row = int(np.argmax(present))
            raise DataError(
                f"column {name!r} is not numeric (e.g. {column.iloc[row]!r}, row "
                f"{row + FIRST_ROW}); {how.format(option='categorical')} to encode it"
            )
        holes = np.flatnonzero(column.isna().to_numpy())
        if missing == "refuse" and holes.size:
            raise DataError(
                f"missing value in column {name!r}, row {holes[0] + FIRST_ROW}; "
                f"{how.format(option='missing')} to impute it"
            )
