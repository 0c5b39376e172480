import io
import json

import numpy as np
import pandas as pd
import pytest

from nas.data import BUILTINS, DataError, Dataset, from_npz, load_builtin, load_csv, split, to_npz
from nas_cli.main import main


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_data_sets_load_and_split_without_overlap(name):
    data = load_builtin(name)
    parts = split(data, seed=0)
    assert len(parts.y_train) + len(parts.y_val) + len(parts.y_test) == data.n_rows
    assert parts.X_train.shape[1] == data.n_features == len(data.feature_names)
    again = split(data, seed=0)
    np.testing.assert_array_equal(parts.X_test, again.X_test)


def test_unknown_builtin_is_refused():
    with pytest.raises(ValueError, match="dataset must be one of"):
        load_builtin("mnist")


def test_csv_with_named_target(tmp_path):
    path = tmp_path / "toy.csv"
    path.write_text("a,b,label\n" + "".join(f"{i},{i + 1},{'xy'[i % 2]}\n" for i in range(12)))
    data = load_csv(path, "label")
    assert data.X[:2].tolist() == [[0, 1], [1, 2]] and data.y[:3].tolist() == ["x", "y", "x"]
    assert data.task == "classification" and data.task_note == "target 'label' holds text"
    with pytest.raises(DataError, match="target column 'c' is not in the CSV header"):
        load_csv(path, "c")
    with pytest.raises(DataError, match="cannot read"):
        load_csv(tmp_path / "absent.csv", "label")


def test_split_without_test_rows_keeps_every_row_for_train_and_validation():
    data = load_builtin("iris")
    parts = split(data, seed=0, test_fraction=0.0)
    assert len(parts.y_test) == 0 and parts.X_test.shape == (0, 4)
    assert len(parts.y_train) + len(parts.y_val) == data.n_rows
    assert len(parts.y_val) == pytest.approx(0.2 * data.n_rows, abs=1)


def test_stored_data_sets_keep_raw_columns_and_old_payloads_still_read():
    frame = pd.DataFrame(
        {"size": [1.0, np.nan, 3.0], "colour": ["red", None, "None"]},
    )
    data = Dataset("mixed", frame, np.array(["a", "b", "a"]), "classification", "kind")
    back = from_npz(to_npz(data))
    assert back.features.equals(frame) and back.target == "kind"
    assert back.features["colour"].tolist() == ["red", None, "None"]  # "None" is a category
    iris = load_builtin("iris")  # the format uploads had before raw columns were kept
    meta = {"name": "old", "task": "classification", "feature_names": ["a", "b", "c", "d"]}
    buf = io.BytesIO()
    np.savez(buf, X=iris.X, y=iris.y, meta=np.array(json.dumps(meta)))
    old = from_npz(buf.getvalue())
    assert np.array_equal(old.X, iris.X) and old.feature_names == ("a", "b", "c", "d")


def test_demo_trains_saves_and_reloads(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--dataset", "iris"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "predicts identically: True" in out
    assert (tmp_path / "out" / "demo-iris.npz").exists()
