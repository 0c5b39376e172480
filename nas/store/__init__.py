"""The SQL store: the one place results live, so they outlive every process.

SQLAlchemy 2 models (tables prefixed nas_), Alembic migrations shipped in the package,
SQLite by default (WAL, busy timeout) and PostgreSQL for clusters. The driver writes
jobs, trials and epochs here; the API and dashboard read only from here; a crashed run
resumes from here. Functions take a Session first, in the FastAPI template's crud style.
"""

from nas.store.artifacts import (
    add_dataset,
    best_model,
    count_datasets,
    find_dataset,
    get_dataset,
    list_datasets,
    load_model,
    save_model,
)
from nas.store.engine import DEFAULT_URL, ENV_VAR, StoreUnavailable, database_url, make_engine
from nas.store.export import export_csv, export_json
from nas.store.jobs import (
    RUNNER_LOST,
    ReapReport,
    cancel_job,
    claim_job,
    count_jobs,
    create_job,
    delete_job,
    finish_job,
    get_job,
    heartbeat_job,
    list_jobs,
    reap_stale,
    release_job,
    save_searcher_state,
)
from nas.store.migrate import current_revision, ensure_schema, head_revision, upgrade
from nas.store.models import Dataset, Epoch, Job, Model, Trial
from nas.store.queries import JobSummary, job_summary, leaderboard, param_importance, pareto_front
from nas.store.session import Store, open_store
from nas.store.trials import (
    EpochPoint,
    claim_retry,
    count_trials,
    curve,
    end_trial,
    get_trial,
    heartbeat_trial,
    list_trials,
    page_trials,
    record_epoch,
    record_epochs,
    start_trial,
)

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "RUNNER_LOST",
    "Dataset",
    "Epoch",
    "EpochPoint",
    "Job",
    "JobSummary",
    "Model",
    "ReapReport",
    "Store",
    "StoreUnavailable",
    "Trial",
    "add_dataset",
    "best_model",
    "cancel_job",
    "claim_job",
    "claim_retry",
    "count_datasets",
    "count_jobs",
    "count_trials",
    "create_job",
    "current_revision",
    "curve",
    "database_url",
    "delete_job",
    "end_trial",
    "ensure_schema",
    "export_csv",
    "export_json",
    "find_dataset",
    "finish_job",
    "get_dataset",
    "get_job",
    "get_trial",
    "head_revision",
    "heartbeat_job",
    "heartbeat_trial",
    "job_summary",
    "leaderboard",
    "list_datasets",
    "list_jobs",
    "list_trials",
    "load_model",
    "make_engine",
    "open_store",
    "page_trials",
    "param_importance",
    "pareto_front",
    "reap_stale",
    "record_epoch",
    "record_epochs",
    "release_job",
    "save_model",
    "save_searcher_state",
    "start_trial",
    "upgrade",
]
