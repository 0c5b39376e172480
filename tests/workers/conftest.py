"""Shared pieces of the Ray tests: the digits split, no cluster address, Ray's daemons.

The local Ray (`local_ray`) and Ray's authentication mode are in tests/conftest.py, the
job helpers in tests/jobs.py: the executor suite in tests/search uses them too. The
cluster and shutdown tests start their own Ray.
"""

from __future__ import annotations

import os

import psutil
import pytest

from nas.data import Split
from nas.search import load_problem
from tests.jobs import job_spec

RAY_PROCESSES = ("raylet", "gcs_server")


@pytest.fixture(scope="session")
def digits() -> Split:
    """The rows the driver trains on for job_spec(): executors must be given the same."""
    return load_problem(job_spec()).data


@pytest.fixture(autouse=True)
def _no_cluster_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NAS_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def ray_children() -> list[psutil.Process]:
    """Ray's daemons that this process started (a local Ray's are its children)."""
    me = psutil.Process(os.getpid())
    return [p for p in me.children(recursive=True) if _name(p) in RAY_PROCESSES]


def _name(p: psutil.Process) -> str:
    try:
        return p.name()
    except psutil.Error:
        return ""
