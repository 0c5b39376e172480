"""No answer of the API reveals a server file, or whether a path exists on the server.

Every field of a job spec that could carry a path is sent existing, missing, relative and
`..` paths; the answers must not differ between an existing and a missing file, and must
hold nothing of the file's content.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.api.util import tiny_spec

SECRET = "s3cr3t-line-of-a-server-file"


@pytest.fixture(scope="module")
def server_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("server") / "secret.csv"
    path.write_text(f"{SECRET},x\n1,2\n")
    return path


def _paths(existing: Path) -> dict[str, str]:
    return {
        "existing": str(existing),
        "missing": str(existing.with_name("missing.csv")),
        "relative": "secret.csv",
        "dotdot": f"{existing.parent}/../{existing.parent.name}/secret.csv",
        "etc": "/etc/passwd",
    }


def _specs(path: str) -> list[dict]:
    """Each place of a job spec where a client could put a path."""
    spec = tiny_spec(trials=1)
    return [
        spec | {"dataset": {"csv": path, "target": SECRET}},
        spec | {"dataset": {"csv": path, "target": "x", "name": "iris"}},
        spec | {"dataset": {"name": path}},
        spec | {"dataset": path},
        spec | {"searcher_options": {"storage": f"sqlite:///{path}", "path": path}},
        spec | {"stopping": {"policy": "lce", "options": {"path": path}}},
        spec | {"name": path, "dataset": {"csv": path, "target": "x"}},
    ]


def _answers(client: httpx.Client, path: str) -> list[tuple[int, str]]:
    return [(r.status_code, r.text) for r in (client.post("/jobs", json=s) for s in _specs(path))]


def test_job_specs_never_read_or_reveal_server_files(
    client: httpx.Client, server_file: Path
) -> None:
    paths = _paths(server_file)
    answers = {kind: _answers(client, path) for kind, path in paths.items()}
    for kind, replies in answers.items():
        for status, body in replies:
            assert status == 422, (kind, body)
            assert SECRET not in body
            assert "root:x:0:0" not in body
            assert "does not exist" not in body and "header" not in body
    # an existing and a missing file get the same answers, path aside: no existence oracle
    same = [b.replace(paths["existing"], "P") for _, b in answers["existing"]]
    assert same == [b.replace(paths["missing"], "P") for _, b in answers["missing"]]


def test_a_csv_path_is_refused_naming_the_upload_route(client: httpx.Client) -> None:
    r = client.post("/jobs", json=tiny_spec(trials=1) | {"dataset": {"csv": "/etc/passwd"}})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors[0]["field"] == "dataset.csv"
    assert "POST /api/v1/datasets" in errors[0]["message"]
