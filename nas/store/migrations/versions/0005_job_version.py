"""A version number per job, bumped by every write that changes what the job's reads return.

The API keeps rendered responses of a job's hot reads (trials pages, the leaderboard, a
curve) and serves one again only while the job's version is the one it was rendered
under: a single primary-key read instead of the route's queries and serialization, and
never a stale answer, across any number of API processes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "nas_jobs", sa.Column("version", sa.BigInteger(), server_default="0", nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("nas_jobs") as batch:  # SQLite drops a column by copying
        batch.drop_column("version")
