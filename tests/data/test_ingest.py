"""CSV uploads: raw columns kept, each column's role previewed, `refuse` still available."""

from __future__ import annotations

import numpy as np
import pytest

from nas.data import DataError, from_npz, to_npz
from nas.data.ingest import read_csv


def _csv(*rows: str) -> bytes:
    return "\n".join(rows).encode()


BASE = ["a,b,kind,y"] + [f"{i},{i * 0.5},{'xyz'[i % 3]},{'pq'[i % 3 == 0]}" for i in range(12)]


def test_an_upload_keeps_raw_columns_and_previews_their_roles() -> None:
    rows = list(BASE)
    rows[1] = ",0.0,None,p"  # row 2: a missing; "None" is a category, not a gap
    data, report = read_csv(_csv(*rows), target="y")
    assert data.task == "classification" and data.feature_names == ("a", "b", "kind")
    assert report.task_note == "target 'y' holds text"
    assert data.features["kind"].tolist()[:2] == ["None", "y"]
    assert report.columns == [
        {"name": "a", "kind": "number", "role": "numeric", "missing": 1},
        {"name": "b", "kind": "number", "role": "numeric", "missing": 0},
        {"name": "kind", "kind": "text", "role": "categorical", "missing": 0,
         "levels": ["None", "x", "y", "z"]},
    ]  # fmt: skip
    back = from_npz(to_npz(data))
    assert back.features.equals(data.features) and np.array_equal(back.y, data.y)


def test_refuse_stays_available() -> None:
    rows = list(BASE)
    rows[1] = ",0.0,x,p"
    with pytest.raises(DataError, match="column 'kind' is not numeric .* categorical=auto"):
        read_csv(_csv(*rows), target="y", categorical="refuse")
    with pytest.raises(DataError, match=r"missing value in column 'a', row 2; upload with miss"):
        read_csv(_csv(*rows), target="y", missing="refuse")
    data, _ = read_csv(_csv(*rows), target="y", categorical="onehot", missing="impute")
    assert data.n_rows == 12  # the earlier option names still mean auto
