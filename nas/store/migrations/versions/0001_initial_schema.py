"""Initial schema: datasets, jobs, trials, epochs and models (DESIGN.md data model).

Timestamps are naive UTC (see nas.store.models.UTCDateTime). Types are spelled out here,
not imported from the models, so this revision stays what it was when later models change.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:43:28.808747
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nas_datasets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("task", sa.String(length=32), nullable=False),
        sa.Column("n_rows", sa.Integer(), nullable=False),
        sa.Column("n_features", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas_datasets")),
        sa.UniqueConstraint("sha256", name=op.f("uq_nas_datasets_sha256")),
    )
    op.create_table(
        "nas_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("searcher_state", sa.JSON(), nullable=True),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("heartbeat", sa.DateTime(), nullable=True),
        sa.Column("runner", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas_jobs")),
    )
    op.create_index(op.f("ix_nas_jobs_status_id"), "nas_jobs", ["status", "id"], unique=False)
    op.create_table(
        "nas_trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("epochs_run", sa.Integer(), nullable=False),
        sa.Column("val_metric", sa.Float(), nullable=True),
        sa.Column("test_metric", sa.Float(), nullable=True),
        sa.Column("n_params", sa.Integer(), nullable=True),
        sa.Column("predicted_final", sa.Float(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("started", sa.DateTime(), nullable=False),
        sa.Column("finished", sa.DateTime(), nullable=True),
        sa.Column("heartbeat", sa.DateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["nas_jobs.id"],
            name=op.f("fk_nas_trials_job_id_nas_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas_trials")),
        sa.UniqueConstraint("job_id", "number", name=op.f("uq_nas_trials_job_id_number")),
    )
    op.create_index(
        op.f("ix_nas_trials_job_id_status_val_metric"),
        "nas_trials",
        ["job_id", "status", "val_metric"],
        unique=False,
    )
    op.create_index(
        op.f("ix_nas_trials_status_heartbeat"), "nas_trials", ["status", "heartbeat"], unique=False
    )
    op.create_table(
        "nas_epochs",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("train_loss", sa.Float(), nullable=True),
        sa.Column("val_loss", sa.Float(), nullable=True),
        sa.Column("val_metric", sa.Float(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["nas_trials.id"],
            name=op.f("fk_nas_epochs_trial_id_nas_trials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trial_id", "epoch", name=op.f("pk_nas_epochs")),
    )
    op.create_table(
        "nas_models",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["nas_trials.id"],
            name=op.f("fk_nas_models_trial_id_nas_trials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("trial_id", name=op.f("pk_nas_models")),
    )


def downgrade() -> None:
    op.drop_table("nas_models")
    op.drop_table("nas_epochs")
    op.drop_index(op.f("ix_nas_trials_status_heartbeat"), table_name="nas_trials")
    op.drop_index(op.f("ix_nas_trials_job_id_status_val_metric"), table_name="nas_trials")
    op.drop_table("nas_trials")
    op.drop_index(op.f("ix_nas_jobs_status_id"), table_name="nas_jobs")
    op.drop_table("nas_jobs")
    op.drop_table("nas_datasets")
