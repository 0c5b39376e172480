"""Cheaper evaluations: the data fraction of each epoch, proxy screening results, and the
link from a warm-started job to the job that seeded it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "nas_epochs",
        sa.Column("data_fraction", sa.Float(), server_default="1.0", nullable=False),
    )
    with op.batch_alter_table("nas_jobs") as batch:  # SQLite adds a foreign key by copying
        batch.add_column(sa.Column("warm_start_job_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_nas_jobs_warm_start_job_id_nas_jobs"),
            "nas_jobs",
            ["warm_start_job_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "nas_proxies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("width_scale", sa.Float(), nullable=False),
        sa.Column("epochs", sa.Integer(), nullable=False),
        sa.Column("n_params", sa.Integer(), nullable=False),
        sa.Column("val_metric", sa.Float(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["nas_jobs.id"],
            name=op.f("fk_nas_proxies_job_id_nas_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nas_proxies")),
        sa.UniqueConstraint("job_id", "number", name=op.f("uq_nas_proxies_job_id_number")),
    )


def downgrade() -> None:
    op.drop_table("nas_proxies")
    with op.batch_alter_table("nas_jobs") as batch:
        batch.drop_constraint(op.f("fk_nas_jobs_warm_start_job_id_nas_jobs"), type_="foreignkey")
        batch.drop_column("warm_start_job_id")
    with op.batch_alter_table("nas_epochs") as batch:
        batch.drop_column("data_fraction")
