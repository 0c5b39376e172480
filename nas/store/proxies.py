"""Proxy screening results: each scaled-down stand-in a job trained, and whether its
candidate was kept for full training (spec.proxy)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nas.store.models import Proxy


def record_proxies(session: Session, job_id: int, rows: list[dict[str, Any]]) -> list[Proxy]:
    """Store one screened pool; rows hold Proxy's columns but job_id and number."""
    first = count_proxies(session, job_id)
    proxies = [Proxy(job_id=job_id, number=first + i, **row) for i, row in enumerate(rows)]
    session.add_all(proxies)
    session.commit()
    return proxies


def count_proxies(session: Session, job_id: int) -> int:
    return session.scalar(select(func.count()).where(Proxy.job_id == job_id)) or 0


def list_proxies(session: Session, job_id: int) -> list[Proxy]:
    """A job's proxies in the order they were trained."""
    return list(session.scalars(select(Proxy).where(Proxy.job_id == job_id).order_by(Proxy.number)))


def proxies_cost(session: Session, job_id: int) -> float:
    """Epochs the job's proxies cost, in full-candidate epochs."""
    return float(session.scalar(select(func.sum(Proxy.cost)).where(Proxy.job_id == job_id)) or 0)
