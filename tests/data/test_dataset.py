import numpy as np
import pytest

from nas.data import BUILTINS, load_builtin, load_csv, split
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
    path.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x\n")
    data = load_csv(path, "label")
    assert data.X.tolist() == [[1, 2], [3, 4], [5, 6]] and data.y.tolist() == ["x", "y", "x"]
    with pytest.raises(ValueError, match="target column 'c' is not in the CSV header"):
        load_csv(path, "c")
    path.write_text("a,b,label\n1,,x\n3,4,y\n")
    with pytest.raises(ValueError, match="column 'b', row 2"):
        load_csv(path, "label")


def test_demo_trains_saves_and_reloads(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--dataset", "iris"]) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and "predicts identically: True" in out
    assert (tmp_path / "out" / "demo-iris.npz").exists()
