"""A model's preprocessing: raw rows (DataFrame or dicts) to its inputs, saved as JSON in
the model file, and TabularModel predicting raw rows after a save / load round trip."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from nas.nn import InputError, MLPClassifier, Preprocessing, TabularModel, load, save
from nas.nn.tabular import Column

PRE = Preprocessing(
    (
        Column("id", "dropped", reason="ID-like: every value differs"),
        Column(
            "island",
            "categorical",
            indicator=True,
            levels=("Biscoe", "Dream"),
            infrequent=("Torgersen",),
        ),  # fmt: skip
        Column("bill", "numeric", fill=44.5, indicator=True),
        Column("sex", "boolean", fill=1.0, levels=("female", "male")),
        Column("day", "date", fill=0.0),
    ),
    target="species",
)


def test_raw_cells_become_the_fitted_inputs() -> None:
    rows = [
        {"id": "p1", "island": "Dream", "bill": 40, "sex": "female", "day": "1970-01-03"},
        {"id": None, "island": "Atlantis", "bill": None, "sex": "MALE", "day": None},
        {"id": "p3", "island": None, "bill": "41.5", "sex": "NA", "day": "1970-01-01"},
        {"id": "p4", "island": "Torgersen", "bill": " 7 ", "sex": True, "day": "1970-01-02"},
    ]
    assert PRE.feature_names == [
        "island=Biscoe", "island=Dream", "island:infrequent", "island:missing",
        "bill", "bill:missing", "sex=male", "day",
    ]  # fmt: skip
    X = PRE.transform(rows)
    assert X.tolist() == [
        [0, 1, 0, 0, 40.0, 0, 0, 2.0],
        [0, 0, 1, 0, 44.5, 1, 1, 0.0],  # unseen level: infrequent; gaps: fill + indicator
        [0, 0, 0, 1, 41.5, 0, 1, 0.0],  # "NA" is missing, as in a CSV
        [0, 0, 1, 0, 7.0, 0, 1, 1.0],  # a rare level: infrequent; True is "true"
    ]
    assert np.array_equal(PRE.transform(pd.DataFrame(rows)), X)


def test_the_target_is_ignored_and_a_dropped_column_may_be_absent() -> None:
    row = {"island": "Dream", "bill": 40.0, "sex": "male", "day": "1970-01-01", "species": "x"}
    assert PRE.transform([row]).shape == (1, 8)


@pytest.mark.parametrize(
    ("change", "column", "row", "problem"),
    [
        ({"bill": "long"}, "bill", 1, "'long' is not a number"),
        ({"bill": "inf"}, "bill", 1, "'inf' is not a finite number"),
        ({"day": "soon"}, "day", 1, "'soon' is not an ISO 8601 date"),
        ({"beak": 1.0}, "beak", None, "not a column of this model"),
    ],
)
def test_what_cannot_be_handled_names_the_column_and_row(
    change: dict, column: str, row: int | None, problem: str
) -> None:
    good = {"island": "Dream", "bill": 40.0, "sex": "male", "day": "1970-01-01"}
    with pytest.raises(InputError, match=problem) as info:
        PRE.transform([good, good | change])
    assert (info.value.column, info.value.row) == (column, row)
    absent = {k: v for k, v in good.items() if k != "sex"}
    with pytest.raises(InputError, match="column 'sex': absent"):
        PRE.transform([absent])


def test_a_model_of_numbers_refuses_a_gap() -> None:
    pre = Preprocessing.numbers(["a", "b"])
    assert pre.transform([{"a": 1, "b": "2"}]).tolist() == [[1.0, 2.0]]
    with pytest.raises(InputError, match="column 'b', row 0: missing"):
        pre.transform([{"a": 1, "b": None}])


def test_json_round_trip() -> None:
    assert Preprocessing.from_json(PRE.to_json()) == PRE


def test_a_tabular_model_file_predicts_raw_rows_after_loading() -> None:
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(80)],
            "island": rng.choice(["Biscoe", "Dream", "Torgersen"], 80),
            "bill": rng.normal(44, 3, 80),
            "sex": rng.choice(["female", "male"], 80),
            "day": "1970-01-02",
        }
    )
    y = np.where(rows["bill"] > 44, "big", "small")
    net = MLPClassifier((8,), max_iter=30, random_state=0).fit(PRE.transform(rows), y)
    model = TabularModel(PRE, net)
    buf = io.BytesIO()
    save(model, buf)
    back = load(io.BytesIO(buf.getvalue()))
    assert isinstance(back, TabularModel) and back.preprocessing == PRE
    assert np.array_equal(back.predict(rows), model.predict(rows))
    assert np.array_equal(back.predict_proba(rows), net.predict_proba(PRE.transform(rows)))
    assert list(back.classes_) == ["big", "small"] and back.score(rows, y) > 0.5
    with np.load(io.BytesIO(buf.getvalue()), allow_pickle=False) as arrays:
        assert "preprocessing" in arrays.files  # JSON in the npz: no pickle
