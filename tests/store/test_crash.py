"""A runner killed with SIGKILL mid-job resumes with every trial number exactly once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from crash_runner import metric

from nas.store import (
    EpochPoint,
    Store,
    create_job,
    curve,
    get_job,
    list_trials,
    reap_stale,
)
from nas.store.models import utcnow

RUNNER = Path(__file__).with_name("crash_runner.py")
N_TRIALS, EPOCHS, PAUSE = 8, 5, 0.03


def _run(url: str) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(RUNNER), url, str(N_TRIALS), str(EPOCHS), str(PAUSE)]
    return subprocess.Popen(args)


def test_sigkill_mid_job_then_resume(store: Store, db_url: str) -> None:
    with store.session() as session:
        job = create_job(session, name="crash", spec={"n_trials": N_TRIALS})
        child = _run(db_url)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # kill once 2 trials are done and one is midway
            trials = list_trials(session, job.id)
            done = [t for t in trials if t.status == "finished"]
            midway = [t for t in trials if t.status == "running" and 1 <= t.epochs_run < EPOCHS]
            if len(done) >= 2 and midway:
                break
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=10) == -signal.SIGKILL
        killed_at = {t.number: t.status for t in list_trials(session, job.id)}
        assert "running" in killed_at.values() and len(killed_at) < N_TRIALS

        report = reap_stale(session, older_than=timedelta(0), now=utcnow() + timedelta(seconds=1))
        assert report.jobs_requeued == [job.id] and report.trials_failed

        assert _run(db_url).wait(timeout=120) == 0
        assert get_job(session, job.id).status == "finished"  # type: ignore[union-attr]
        trials = list_trials(session, job.id)
        assert [t.number for t in trials] == list(range(N_TRIALS))
        assert all(t.status == "finished" and t.epochs_run == EPOCHS for t in trials)
        assert any(t.attempt == 2 for t in trials)
        for t in trials:
            expected = [
                EpochPoint(e, val_metric=metric(t.number, e), seconds=PAUSE)
                for e in range(1, EPOCHS + 1)
            ]
            assert curve(session, t.id) == expected
