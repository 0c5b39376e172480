"""A minimal runner for the crash test: claim a job, run its trials, finish it.

Run as a child process (python crash_runner.py URL N_TRIALS EPOCHS SECONDS_PER_EPOCH) so
the test can SIGKILL it mid-job. It resumes the way the real driver must: first retry the
job's failed trials under their own numbers, then start new ones until N_TRIALS exist.
"""

from __future__ import annotations

import os
import sys
import time

from nas.store import (
    EpochPoint,
    claim_job,
    claim_retry,
    count_trials,
    end_trial,
    finish_job,
    heartbeat_job,
    open_store,
    record_epoch,
    start_trial,
)


def metric(number: int, epoch: int) -> float:
    """The curve every attempt of trial `number` reports: checkable after any crash."""
    return number + epoch / 100


def main(url: str, n_trials: int, epochs: int, pause: float) -> int:
    runner = f"crash-runner-{os.getpid()}"
    store = open_store(url)
    with store.session() as session:
        job = claim_job(session, runner=runner)
        if job is None:
            return 1
        while True:
            trial = claim_retry(session, job.id, worker=runner)
            if trial is None and count_trials(session, job.id) < n_trials:
                trial = start_trial(session, job.id, params={"i": 0}, worker=runner)
            if trial is None:
                break
            for epoch in range(1, epochs + 1):
                time.sleep(pause)
                point = EpochPoint(epoch, val_metric=metric(trial.number, epoch), seconds=pause)
                assert record_epoch(session, trial.id, point, attempt=trial.attempt)
            assert end_trial(session, trial.id, status="finished", attempt=trial.attempt)
            assert heartbeat_job(session, job.id, runner=runner)
        finish_job(session, job.id, runner=runner)
    store.close()
    return 0


if __name__ == "__main__":
    url, n_trials, epochs, pause = sys.argv[1:5]
    sys.exit(main(url, int(n_trials), int(epochs), float(pause)))
