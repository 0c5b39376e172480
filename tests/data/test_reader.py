"""The one CSV reader: pandas parses, our rules decide (NA markers, header, types, task)."""

from __future__ import annotations

import numpy as np
import pytest

from nas.data import DataError, read_csv, read_rows


def _csv(*rows: str) -> bytes:
    return "\n".join(rows).encode()


ROWS = [f"{i},{i * 0.5},{'xy'[i % 2]}" for i in range(12)]


def test_na_markers_are_pandas_defaults_except_none() -> None:
    cells = read_rows(_csv("a,b,c", "NA,None,1", "null,n/a,2", " ,x,3", "N/A,<NA>,4", ",,"))
    assert cells["a"].tolist() == [None, None, None, None]  # the row of no cells is no row
    assert cells["b"].tolist() == ["None", None, "x", None]


def test_quoting_bom_spaces_and_blank_rows() -> None:
    payload = '\ufeff"size, m2", kind ,y\n"1,5" ,  a b ,p\n,,\n\n2, c,q\n'.encode()
    cells = read_rows(payload)
    assert list(cells.columns) == ["size, m2", "kind", "y"]
    assert cells.values.tolist() == [["1,5", "a b", "p"], ["2", "c", "q"]]


def test_a_short_row_has_missing_cells_and_a_long_one_is_refused() -> None:
    cells = read_rows(_csv("a,b,c", "1,2", "3,4,5"))
    assert cells["c"].tolist() == [None, "5"]
    with pytest.raises(DataError, match="row 3 has 4 cells; the header has 3"):
        read_rows(_csv("a,b,c", "1,2,3", "1,2,3,4"))


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"", "the file is empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text"),
        (b'a,y\n"unclosed,1\n', "malformed CSV"),
        (_csv("a,a,y", *ROWS), "repeats column names \\['a'\\]"),
        (_csv("a,,y", *ROWS), "empty column name"),
        (_csv("a,b,y", *ROWS[:3]), "at least 10 data rows"),
        (_csv("y", *["p"] * 12), "at least one feature"),
        (_csv("a,b,k", *ROWS), "target column 'y' is not in the CSV header"),
        (_csv("a,b,y", *ROWS[:11], "-inf,1,x"), "non-finite value '-inf' in column 'a', row 13"),
        (_csv("a,b,y", *ROWS[:5], "1,2,", *ROWS[5:]), "missing target in column 'y', row 7"),
        (_csv("a,b,y", *[f"{i},1,p" for i in range(12)]), "single class 'p'"),
    ],
)
def test_refusals_are_one_line_naming_column_and_row(payload: bytes, message: str) -> None:
    with pytest.raises(DataError, match=message) as info:
        read_csv(payload, "y")
    assert "\n" not in str(info.value)


def test_columns_are_numbers_when_every_present_cell_is_one() -> None:
    data = read_csv(_csv("a,b,kind,y", *[f"{i},{'' if i == 3 else i},{'xy'[i % 2]},{i % 2}"
                                          for i in range(12)]), "y")  # fmt: skip
    assert data.features.dtypes.astype(str).tolist() == ["float64", "float64", "object"]
    assert np.isnan(data.features["b"][3]) and data.features["kind"][0] == "x"


def test_task_inferred_from_the_target_and_said_why() -> None:
    real = read_csv(_csv("x,t", *[f"{i},{i * 1.5 + 0.25}" for i in range(12)]), "t")
    assert real.task == "regression" and real.y.dtype == np.float64
    assert real.task_note == "target 't' holds numbers (12 distinct)"
    few = read_csv(_csv("x,t", *[f"{i},{i % 3}" for i in range(12)]), "t")
    assert few.task == "classification" and few.y.dtype == np.int64
    assert few.task_note == "target 't' has 3 integer values"
    text = read_csv(_csv("x,t", *[f"{i},{'ab'[i % 2]}" for i in range(12)]), "t")
    assert text.task == "classification" and text.task_note == "target 't' holds text"
    given = read_csv(_csv("x,t", *[f"{i},{i % 3}" for i in range(12)]), "t", "regression")
    assert given.task == "regression" and given.task_note is None
    with pytest.raises(DataError, match="regression target 't' is not numeric at row 2"):
        read_csv(_csv("x,t", *(["1,a"] * 12)), "t", "regression")
