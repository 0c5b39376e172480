"""Run a small search through the real driver (local executor, SQLite) for searcher tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nas import store as db
from nas.search import SearchDriver, submit_and_claim
from nas.spec import JobSpec

SMALL_SPACE = {
    "n_layers": [1, 2],
    "width": [4, 32],
    "activation": ["relu", "tanh"],
    "batch_size": [32, 64],
    "learning_rate": [1e-3, 3e-2],
    "max_epochs": 4,
}


def drive(folder: Path, searcher: str, trials: int, **options: Any) -> tuple[list, dict]:
    """A job on wine with `searcher`; its trials and its searcher's saved state."""
    spec = JobSpec.model_validate(
        {
            "dataset": "wine",
            "space": SMALL_SPACE,
            "searcher": searcher,
            "searcher_options": options,
            "stopping": {"policy": "none"},
            "budget": {"trials": trials},
            "seed": 5,
        }
    )
    store = db.open_store(f"sqlite:///{folder / 'nas.db'}")
    try:
        job_id = submit_and_claim(store, spec, "test")
        assert SearchDriver(spec, store, job_id, runner="test").run() == "finished"
        with store.session() as s:
            trials = db.list_trials(s, job_id)
            job = db.get_job(s, job_id)
            assert job is not None and job.searcher_state is not None
            return trials, job.searcher_state["searcher"]
    finally:
        store.close()
