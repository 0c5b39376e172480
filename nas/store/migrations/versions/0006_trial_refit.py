"""Refit: the chosen trial retrained on the training and validation rows (spec.refit),
recorded on its trial row so the refit model is told apart from the searched one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("nas_trials", sa.Column("refit_epochs", sa.Integer(), nullable=True))
    op.add_column("nas_trials", sa.Column("refit_test_metric", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("nas_trials") as batch:  # SQLite drops a column by copying
        batch.drop_column("refit_test_metric")
        batch.drop_column("refit_epochs")
