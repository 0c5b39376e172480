"""The one status vocabulary of jobs and trials: the store, the driver, the searchers, the
API and the dashboard (through GET /choices) all read it from here."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TrialStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    PRUNED = "pruned"  # stopped early by the stopping policy
    FAILED = "failed"  # an error; retried up to the store's attempt limit
    DIVERGED = "diverged"  # its cost became NaN or inf


FINAL_JOB_STATUSES = (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELLED)
ENDED_TRIAL_STATUSES = tuple(s for s in TrialStatus if s is not TrialStatus.RUNNING)
STOPPED_TRIAL_STATUSES = (TrialStatus.PRUNED, TrialStatus.DIVERGED)  # ended before the budget
SCORED_TRIAL_STATUSES = (TrialStatus.FINISHED, TrialStatus.PRUNED)  # a searcher learns a value
