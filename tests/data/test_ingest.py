"""CSV ingest: numbers, one-hot categoricals, imputed or refused gaps, the task inferred."""

from __future__ import annotations

import numpy as np
import pytest

from nas.data import from_npz, to_npz
from nas.data.ingest import read_csv


def _csv(*rows: str) -> bytes:
    return "\n".join(rows).encode()


BASE = ["a,b,kind,y"] + [f"{i},{i * 0.5},{'xy'[i % 2]},{'pq'[i % 3 == 0]}" for i in range(12)]


def test_numeric_features_and_label_target() -> None:
    data, report = read_csv(_csv(*BASE), target="y", categorical="onehot")
    assert data.task == "classification" and data.X.shape == (12, 4)
    assert data.feature_names == ("a", "b", "kind=x", "kind=y")
    assert report.onehot == {"kind": ["x", "y"]} and report.imputed == {}
    assert set(data.y) == {"p", "q"}


def test_npz_round_trip_keeps_everything() -> None:
    data, _ = read_csv(_csv(*BASE), target="y", categorical="onehot")
    back = from_npz(to_npz(data))
    assert np.array_equal(back.X, data.X) and np.array_equal(back.y, data.y)
    assert back.feature_names == data.feature_names and back.task == data.task


def test_task_inferred_from_the_target() -> None:
    rows = ["x,t"] + [f"{i},{i * 1.5 + 0.25}" for i in range(12)]
    assert read_csv(_csv(*rows), target="t")[0].task == "regression"
    rows = ["x,t"] + [f"{i},{i % 3}" for i in range(12)]
    assert read_csv(_csv(*rows), target="t")[0].task == "classification"
    with pytest.raises(ValueError, match="not numeric at row 2"):
        read_csv(_csv("x,t", *(["1,a"] * 12)), target="t", task="regression")


def test_gaps_imputed_with_mean_and_mode() -> None:
    rows = list(BASE)
    rows[1] = ",0.0,,p"  # row 2: a and kind missing
    data, report = read_csv(_csv(*rows), target="y", categorical="onehot", missing="impute")
    assert report.imputed == {"a": 1, "kind": 1}
    assert data.X[0, 0] == pytest.approx(np.mean(range(1, 12)))
    with pytest.raises(ValueError, match=r"missing value in column 'a', row 2"):
        read_csv(_csv(*rows), target="y", categorical="onehot")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["a,y", *(["1,"] * 11), "1,p"], "missing target"),
        (["a,a,y", *(["1,2,p"] * 12)], "repeats column names"),
        (["a,,y", *(["1,2,p"] * 12)], "empty column name"),
        (["a,y", *(["1,p"] * 3)], "at least 10 data rows"),
        (["y", *(["p"] * 12)], "at least one feature"),
    ],
)
def test_refusals_name_the_problem(rows: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_csv(_csv(*rows), target="y")
