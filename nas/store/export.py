"""Export a job's trials to CSV (one row per trial) and JSON (job, trials, curves).

For users who analyse results elsewhere; the columns are the trial table's, with each
search parameter as its own `param_<name>` column (JSON-encoded when not a scalar).
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from datetime import datetime
from typing import Any, TextIO

from sqlalchemy.orm import Session

from nas.store.models import Job, Trial
from nas.store.trials import curve, list_trials

TRIAL_COLUMNS = (
    "number",
    "status",
    "val_metric",
    "test_metric",
    "n_params",
    "epochs_run",
    "predicted_final",
    "refit_epochs",
    "refit_test_metric",
    "attempt",
    "seed",
    "worker",
    "started",
    "finished",
    "error",
)
CURVE_PAGE = 10_000


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return "" if value is None else _plain(value)


def trial_record(trial: Trial) -> dict[str, Any]:
    """A trial as a JSON-ready dict."""
    record = {name: _plain(getattr(trial, name)) for name in TRIAL_COLUMNS}
    record["id"] = trial.id
    record["params"] = trial.params
    return record


def job_record(job: Job) -> dict[str, Any]:
    """A job as a JSON-ready dict."""
    names = ("id", "name", "status", "spec", "seed", "created", "started", "finished", "error")
    return {name: _plain(getattr(job, name)) for name in names}


def export_csv(session: Session, job_id: int, out: TextIO) -> int:
    """Write the job's trials as CSV to `out`; returns the number of trials written."""
    trials = list_trials(session, job_id)
    param_names = sorted({name for t in trials for name in t.params})
    writer = csv.writer(out)
    writer.writerow([*TRIAL_COLUMNS, *(f"param_{name}" for name in param_names)])
    for trial in trials:
        row = [_cell(getattr(trial, name)) for name in TRIAL_COLUMNS]
        row += [_cell(trial.params.get(name)) for name in param_names]
        writer.writerow(row)
    return len(trials)


def _whole_curve(session: Session, trial_id: int) -> list[dict[str, Any]]:
    points, after = [], 0
    while page := curve(session, trial_id, after_epoch=after, limit=CURVE_PAGE):
        points += [asdict(p) for p in page]
        after = page[-1].epoch
    return points


def export_json(session: Session, job_id: int, out: TextIO, *, curves: bool = True) -> int:
    """Write the job, its trials and (by default) their curves as one JSON document."""
    job = session.get(Job, job_id)
    if job is None:
        raise KeyError(f"no job with id {job_id}")
    trials = []
    for trial in list_trials(session, job_id):
        record = trial_record(trial)
        if curves:
            record["curve"] = _whole_curve(session, trial.id)
        trials.append(record)
    json.dump({"job": job_record(job), "trials": trials}, out, indent=1)
    return len(trials)
