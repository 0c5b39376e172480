"""What a job may be made of: data sets, searchers, stopping policies, the default search
space and this server's limits, so a client (the dashboard's form) offers only those; and
the status vocabulary of jobs and trials, so the dashboard names no status of its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import SettingsDep
from nas.data import BUILTINS, SYNTHETIC
from nas.searchers import SEARCHERS
from nas.space import SearchSpace
from nas.status import FINAL_JOB_STATUSES, JobStatus, TrialStatus
from nas.stopping import POLICIES

router = APIRouter(prefix="/choices", tags=["choices"])


@router.get("")
def choices(settings: SettingsDep) -> dict[str, Any]:
    datasets = [{"name": n, "task": t} for n, t in BUILTINS.items()]
    datasets += [{"name": n, "task": "classification"} for n in SYNTHETIC]
    return {
        "datasets": datasets,
        "searchers": list(SEARCHERS),
        "stopping_policies": list(POLICIES),
        "job_statuses": list(JobStatus),
        "final_job_statuses": list(FINAL_JOB_STATUSES),
        "trial_statuses": list(TrialStatus),
        "space": SearchSpace().model_dump(mode="json"),
        "space_options": _space_options(),
        "limits": {
            "budget.trials": settings.max_trials,
            "space.max_epochs": settings.max_epochs,
            "parallelism": settings.max_workers,
        },
    }


def _space_options() -> dict[str, list[Any]]:
    """Every choice field of the space and its allowed values, read from the space's own
    schema: an activation or optimizer added to the trainer shows in the form at once."""
    options = {}
    for name, field in SearchSpace.model_json_schema()["properties"].items():
        enum = field.get("items", {}).get("enum")
        if enum:
            options[name] = enum
    return options
