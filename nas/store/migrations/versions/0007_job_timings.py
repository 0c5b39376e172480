"""Where a job's time went (training, stopping decisions, store, searcher, start-up), as
JSON on the job row: the driver writes it with its heartbeat and when the job ends.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("nas_jobs", sa.Column("timings", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nas_jobs") as batch:  # SQLite drops a column by copying
        batch.drop_column("timings")
