"""`nas db`: migrate from the command line; an unreachable database is one error line."""

from __future__ import annotations

import pytest

from nas_cli.main import main


def test_db_upgrade_then_current(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "current", "--url", db_url]) == 0
    assert "none (empty)" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", db_url]) == 0
    assert main(["db", "upgrade", "--url", db_url]) == 0
    assert capsys.readouterr().out.count("up to date") == 2


def test_db_uses_env_url(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NAS_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    assert main(["db", "upgrade"]) == 0
    assert "env.db: revision" in capsys.readouterr().out


@pytest.mark.parametrize(
    "url", ["postgresql+psycopg://postgres@127.0.0.1:1/test", "sqlite:////no/such/dir/x.db"]
)
def test_unreachable_database_prints_one_line(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade", "--url", url]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("nas: error: cannot reach database")
    assert "Traceback" not in captured.err
