"""Index trials in the API's sort order: val_metric descending, ties by number.

0001 and 0002 indexed (job_id[, status], val_metric), but the trials page and the
leaderboard order by val_metric DESC NULLS LAST and then by number; an index without the
tie-break column leaves the database a sort of every trial of the job on each request
(SQLite: about 4 ms at offset 5,000 of a 10,000-trial job, 9 ms with a status filter).
These two indexes hold rows in exactly that order, so a page is an index range read.
PostgreSQL needs NULLS LAST spelled out (its DESC puts NULLs first); SQLite's DESC
already puts them last and does not accept the clause in an index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NAMES = ("ix_nas_trials_by_val_metric", "ix_nas_trials_by_status_val_metric")


def _names_and_order() -> tuple[tuple[str, str], sa.TextClause]:
    if op.get_bind().dialect.name == "postgresql":
        by_val, by_status_val = (f"{name}_nulls_last" for name in NAMES)
        return (by_val, by_status_val), sa.text("val_metric DESC NULLS LAST")
    return NAMES, sa.text("val_metric DESC")


def upgrade() -> None:
    op.drop_index(op.f("ix_nas_trials_job_id_val_metric"), table_name="nas_trials")
    op.drop_index(op.f("ix_nas_trials_job_id_status_val_metric"), table_name="nas_trials")
    (by_val, by_status_val), val_desc = _names_and_order()
    op.create_index(by_val, "nas_trials", ["job_id", val_desc, "number"])
    op.create_index(by_status_val, "nas_trials", ["job_id", "status", val_desc, "number"])


def downgrade() -> None:
    for name in _names_and_order()[0]:
        op.drop_index(name, table_name="nas_trials")
    op.create_index(
        op.f("ix_nas_trials_job_id_status_val_metric"),
        "nas_trials",
        ["job_id", "status", "val_metric"],
    )
    op.create_index(op.f("ix_nas_trials_job_id_val_metric"), "nas_trials", ["job_id", "val_metric"])
