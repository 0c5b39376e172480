"""Preprocessing fitted on training rows: roles, and scikit-learn's fitted state applied
by nas.nn.tabular exactly as scikit-learn's own encoders apply it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder

from nas.data import DataError, Dataset, check_refusals, fit_preprocessing, prepare
from nas.data.preprocess import MAX_LEVELS, min_frequency


def _frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "island": [["Biscoe", "Dream", "None", "Torgersen"][i % 4] for i in range(n)],
            "bill": [np.nan if i % 7 == 0 else 40 + rng.normal() for i in range(n)],
            "sex": [["male", "female", None][i % 3] for i in range(n)],
            "constant": [1.0] * n,
            "empty": [None] * n,
            "day": [f"2024-01-{i % 28 + 1:02d}" for i in range(n)],
        }
    )


def test_roles_are_inferred_from_the_columns() -> None:
    pre = fit_preprocessing(_frame(), target="species")
    roles = {c.name: (c.role, c.reason) for c in pre.columns}
    assert roles == {
        "id": ("dropped", "ID-like: every value differs"),
        "island": ("categorical", None),
        "bill": ("numeric", None),
        "sex": ("boolean", None),
        "constant": ("dropped", "constant"),
        "empty": ("dropped", "all missing"),
        "day": ("date", None),
    }
    assert pre.feature_names == [
        "island=Biscoe", "island=Dream", "island=None", "island=Torgersen",
        "bill", "bill:missing", "sex=male", "sex:missing", "day",
    ]  # fmt: skip


def test_a_numeric_row_number_is_dropped_but_distinct_quantities_are_kept() -> None:
    rng = np.random.default_rng(1)
    n = 200
    rows = rng.permutation(n)[: int(0.6 * n)]  # a job's training rows: a random share
    frame = pd.DataFrame(
        {
            "rownames": np.arange(1, n + 1)[rows],  # an exported index, with gaps
            "income": rng.choice(np.arange(10_000, 200_000), size=n, replace=False)[rows],
            "length": rng.normal(size=n)[rows],  # distinct, not whole numbers
            "count": rng.integers(0, 5, size=n)[rows],  # whole numbers, not distinct
        }
    )
    roles = {c.name: (c.role, c.reason) for c in fit_preprocessing(frame).columns}
    assert roles == {
        "rownames": ("dropped", "ID-like: distinct whole numbers, a row count"),
        "income": ("numeric", None),
        "length": ("numeric", None),
        "count": ("numeric", None),
    }
    few = pd.DataFrame({"n": [3, 1, 2, 5, 4]})  # too few rows to tell
    assert fit_preprocessing(few).columns[0].role == "numeric"


def test_drop_leaves_named_columns_out_and_refuses_unknown_ones() -> None:
    pre = fit_preprocessing(_frame(), target="species", drop=["bill", "day"])
    roles = {c.name: (c.role, c.reason) for c in pre.columns}
    assert roles["bill"] == roles["day"] == ("dropped", "named in dataset.drop")
    assert roles["island"] == ("categorical", None)
    with pytest.raises(DataError, match=r"drop: 'bil' is not a feature column \(columns: id, "):
        fit_preprocessing(_frame(), target="species", drop=["bil"])


def test_numbers_match_scikit_learns_imputer_with_indicator() -> None:
    train, rows = _frame(60, seed=0), _frame(30, seed=1)
    pre = fit_preprocessing(train)
    imputer = SimpleImputer(strategy="median", add_indicator=True).fit(train[["bill"]])
    ours = pre.transform(rows)[:, 4:6]
    assert np.array_equal(ours, imputer.transform(rows[["bill"]]))


@pytest.mark.parametrize(
    ("n_levels", "power", "n_rows"),
    [(12, 2.0, 700), (80, 0.0, 1200)],  # rare levels; more frequent levels than MAX_LEVELS
)
def test_levels_match_scikit_learns_one_hot_encoder(
    n_levels: int, power: float, n_rows: int
) -> None:
    rng = np.random.default_rng(n_levels)
    weights = 1 / np.arange(1, n_levels + 1) ** power
    levels = rng.choice([f"L{k}" for k in range(n_levels)], n_rows, p=weights / weights.sum())
    train = pd.DataFrame({"c": levels[100:], "x": rng.normal(size=n_rows - 100)})
    rows = pd.DataFrame({"c": [*levels[:100], "never seen"], "x": rng.normal(size=101)})
    pre = fit_preprocessing(train)
    encoder = OneHotEncoder(
        min_frequency=min_frequency(len(train)),
        max_categories=MAX_LEVELS,
        handle_unknown="infrequent_if_exist",
        sparse_output=False,
    ).fit(train[["c"]])
    column = pre.columns[0]
    assert column.infrequent  # both cases group some levels
    assert len(column.levels) + 1 <= MAX_LEVELS
    if n_levels > MAX_LEVELS:
        assert len(column.levels) + 1 == MAX_LEVELS
    ours = pre.transform(rows)[:, : len(column.levels) + 1]
    assert np.array_equal(ours, encoder.transform(rows[["c"]]))
    assert ours[-1, -1] == 1  # the unseen level joins the infrequent column


def _mixed(n: int = 80) -> Dataset:
    frame = _frame(n)
    y = np.array(["a", "b"] * (n // 2))
    return Dataset("mixed", frame, y, "classification", "species")


def test_prepare_fits_on_the_training_rows_only() -> None:
    data = _mixed()
    prepared = prepare(data, seed=3)
    parts, pre = prepared.split, prepared.preprocessing
    assert len(parts.y_train) + len(parts.y_val) + len(parts.y_test) == data.n_rows
    assert parts.X_train.shape[1] == len(pre.feature_names)
    bill = next(c for c in pre.columns if c.name == "bill")
    train_rows = parts.X_train[:, pre.feature_names.index("bill:missing")] == 0
    train_bills = parts.X_train[train_rows, pre.feature_names.index("bill")]
    assert bill.fill == pytest.approx(np.median(train_bills))
    assert bill.fill != pytest.approx(np.nanmedian(data.features["bill"]))  # not all rows'


def test_refusals_name_the_column_and_the_row() -> None:
    data = _mixed()
    with pytest.raises(DataError, match=r"column 'id' is not numeric \(e.g. 'p0', row 2\)"):
        check_refusals(data, "refuse", "auto", "set dataset.{option}: auto")
    with pytest.raises(DataError, match="missing value in column 'bill', row 2; set dataset.m"):
        check_refusals(data, "auto", "refuse", "set dataset.{option}: auto")
    check_refusals(data, "auto", "auto", "")
