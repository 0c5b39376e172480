"""Alembic revisions of the store schema, oldest first."""
