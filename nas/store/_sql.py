"""Small SQL helpers shared by the store's modules."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and return how many rows it matched.

    Row counts are how the store tells a writer that it lost ownership of a job or
    trial: its guarded UPDATE matched nothing.
    """
    result = cast(CursorResult[Any], session.execute(statement))
    return result.rowcount
