"""DataSpec sources: exactly one of a built-in name, a CSV path or a stored data set id."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nas.spec import DataSpec, JobSpec


def test_a_stored_data_set_by_id() -> None:
    spec = JobSpec.model_validate({"dataset": {"id": 7}})
    assert spec.dataset.id == 7 and spec.dataset.name is None


@pytest.mark.parametrize(
    "raw", [{}, {"name": "iris", "id": 3}, {"csv": "x.csv", "id": 3, "target": "y"}, {"id": 0}]
)
def test_exactly_one_source(raw: dict) -> None:
    with pytest.raises(ValidationError):
        DataSpec.model_validate(raw)


def test_drop_names_columns_of_a_csv_or_stored_data_set_only() -> None:
    assert DataSpec.model_validate({"id": 3, "drop": ["customer"]}).drop == ["customer"]
    with pytest.raises(ValidationError, match="drop applies to a CSV or a stored data set"):
        DataSpec.model_validate({"name": "iris", "drop": ["sepal length (cm)"]})
    with pytest.raises(ValidationError, match="drop.0"):
        DataSpec.model_validate({"id": 3, "drop": [""]})
