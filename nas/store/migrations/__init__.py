"""Alembic migration scripts for the store (env.py and versions/), shipped as package data."""
