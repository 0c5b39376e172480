"""Index trials by (job_id, val_metric): the API's trials page sorted by validation metric.

Without it, a page of a 10,000-trial job sorted by val_metric sorts every trial of the job
on each request (about 10 ms on SQLite); with it the page is read in index order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 06:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_nas_trials_job_id_val_metric"), "nas_trials", ["job_id", "val_metric"])


def downgrade() -> None:
    op.drop_index(op.f("ix_nas_trials_job_id_val_metric"), table_name="nas_trials")
