"""`nas run` as a user calls it: a spec file in, a leaderboard out, honest exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nas_cli.main import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.yaml")))
def test_every_example_spec_is_valid(example):
    from nas.spec import load_spec

    assert load_spec(EXAMPLES / example).budget.trials


def test_run_prints_a_leaderboard_and_writes_json(tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(
        [
            "run",
            str(EXAMPLES / "wine-evolution-pareto.yaml"),
            "--trials",
            "4",
            "--db",
            f"sqlite:///{tmp_path / 'nas.db'}",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "leaderboard" in printed and "Pareto front" in printed
    result = json.loads(out.read_text())
    assert len(result["trials"]) == 4


def test_a_bad_spec_names_the_field_and_exits_2(tmp_path, capsys):
    spec = tmp_path / "bad.yaml"
    spec.write_text("dataset: digits\nspace:\n  width: [0, 64]\n")
    assert main(["run", str(spec), "--db", f"sqlite:///{tmp_path / 'nas.db'}"]) == 2
    err = capsys.readouterr().err
    assert "space.width" in err and "width must lie within [1, 4096]" in err
    assert not (tmp_path / "nas.db").exists()  # refused before anything was written


def test_run_help_documents_the_overrides():
    done = subprocess.run(
        [sys.executable, "-m", "nas_cli.main", "run", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ("--searcher", "--trials", "--seed", "--db", "--out"):
        assert flag in done.stdout


def test_a_warm_start_from_a_missing_job_is_refused_before_any_job_exists(tmp_path, capsys):
    from nas import store as db

    spec = tmp_path / "warm.yaml"
    spec.write_text("dataset: iris\nwarm_start: {job_id: 7, top: 2}\n")
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    assert main(["run", str(spec), "--db", url]) == 2
    err = capsys.readouterr().err
    assert "warm_start.job_id: no job with id 7" in err
    with db.open_store(url).session() as s:
        assert db.count_jobs(s) == 0


def test_a_csv_without_its_target_exits_2_in_one_line_and_leaves_no_job(tmp_path, capsys):
    from nas import store as db

    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n1,2,0\n3,4,1\n")
    spec = tmp_path / "csv.yaml"
    spec.write_text(f"dataset: {{csv: {data}, target: label}}\n")
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    assert main(["run", str(spec), "--db", url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"nas: error: dataset: target column 'label' is not in the CSV header {['a', 'b', 'y']}"
    ]
    with db.open_store(url).session() as s:
        assert db.count_jobs(s) == 0


def test_a_stored_data_set_by_id_runs_from_the_cli(tmp_path, capsys):
    from nas import store as db
    from nas.data import load_builtin, to_npz

    url = f"sqlite:///{tmp_path / 'nas.db'}"
    iris = load_builtin("iris")
    with db.open_store(url).session() as s:
        row = db.add_dataset(
            s,
            name="iris",
            source="test",
            task=iris.task,
            n_rows=len(iris.y),
            n_features=iris.n_features,
            payload=to_npz(iris),
        )
        dataset_id = row.id
    spec = tmp_path / "stored.yaml"
    spec.write_text(
        f"dataset: {{id: {dataset_id}}}\nbudget: {{trials: 2}}\nspace: {{max_epochs: 4}}\n"
    )
    assert main(["run", str(spec), "--db", url]) == 0
    with db.open_store(url).session() as s:
        assert [j.status for j in db.list_jobs(s)] == ["finished"]


def test_a_failure_after_the_claim_fails_the_job_at_once(tmp_path, monkeypatch):
    from nas import store as db
    from nas_cli import batch as runs

    def broken(*args, **kwargs):
        raise RuntimeError("no executor today")

    monkeypatch.setattr(runs, "make_executor", broken)
    spec = tmp_path / "iris.yaml"
    spec.write_text("dataset: iris\nbudget: {trials: 2}\n")
    url = f"sqlite:///{tmp_path / 'nas.db'}"
    with pytest.raises(RuntimeError, match="no executor today"):
        main(["run", str(spec), "--db", url])
    with db.open_store(url).session() as s:
        (job,) = db.list_jobs(s)
    assert job.status == "failed" and "no executor today" in job.error


def test_run_ends_with_where_the_time_went(tmp_path, capsys):
    import re

    db = f"sqlite:///{tmp_path / 'nas.db'}"
    spec = EXAMPLES / "digits-tpe.yaml"
    assert main(["run", str(spec), "--trials", "2", "--db", db]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    wall = float(re.match(r"time (\d+\.\d) s: ", last).group(1))
    found = re.findall(r"(?:: |, )([a-z -]+?) (\d+\.\d) s \(", last)
    parts = {name: float(s) for name, s in found}
    assert {"training", "start-up", "store"} <= set(parts)
    assert sum(parts.values()) == pytest.approx(wall, abs=0.1 * len(parts))  # rounded to 0.1
    assert re.search(r"the driver's own cost \d+% of it$", last)


def test_nas_refuses_a_bad_thread_count_naming_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("NAS_THREADS", "0")
    code = main(["run", str(EXAMPLES / "digits-tpe.yaml"), "--db", f"sqlite:///{tmp_path}/x.db"])
    assert code == 2
    assert "NAS_THREADS must be an integer in [1, 1024]; got '0'" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()
