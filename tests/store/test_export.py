"""Export: CSV with one column per parameter, JSON with curves, both complete."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy.orm import Session

from nas.store import (
    EpochPoint,
    create_job,
    end_trial,
    export_csv,
    export_json,
    record_epochs,
    start_trial,
)


def _job(session: Session) -> int:
    job = create_job(session, name="exp", spec={"max_epochs": 2}, seed=7)
    for i, params in enumerate([{"depth": 1, "widths": [8]}, {"depth": 2, "lr": 0.01}]):
        trial = start_trial(session, job.id, params=params, n_params=10 * (i + 1))
        points = [EpochPoint(1, 1.0, 0.9, 0.5), EpochPoint(2, 0.5, 0.4, 0.75)]
        record_epochs(session, trial.id, points)
        end_trial(session, trial.id, status="finished", test_metric=0.7)
    return job.id


def test_csv_has_a_row_per_trial_and_a_column_per_param(session: Session) -> None:
    out = io.StringIO()
    assert export_csv(session, _job(session), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["number"] for r in rows] == ["0", "1"]
    assert rows[0]["param_widths"] == "[8]" and rows[0]["param_lr"] == ""
    assert rows[1]["param_lr"] == "0.01" and float(rows[1]["val_metric"]) == 0.75
    assert rows[0]["status"] == "finished" and rows[0]["test_metric"] == "0.7"


def test_json_holds_job_trials_and_curves(session: Session) -> None:
    out = io.StringIO()
    job_id = _job(session)
    assert export_json(session, job_id, out) == 2
    doc = json.loads(out.getvalue())
    assert doc["job"]["id"] == job_id and doc["job"]["seed"] == 7
    assert doc["trials"][1]["params"] == {"depth": 2, "lr": 0.01}
    assert doc["trials"][0]["curve"][1] == {
        "epoch": 2,
        "train_loss": 0.5,
        "val_loss": 0.4,
        "val_metric": 0.75,
        "seconds": None,
        "data_fraction": 1.0,  # all training rows unless a data-fraction fidelity is on
    }
    lean = io.StringIO()
    export_json(session, job_id, lean, curves=False)
    assert "curve" not in json.loads(lean.getvalue())["trials"][0]
