"""`nas serve` and `nas runner` refuse, in one line, what they cannot run here."""

from __future__ import annotations

import pytest

from nas.cli import main


@pytest.mark.parametrize("command", ["serve", "runner"])
def test_ray_executor_is_refused_until_workers_land(
    command: str, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    code = main([command, "--executor", "ray", "--db", f"sqlite:///{tmp_path}/x.db"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("nas: error: executor 'ray'") and "--executor local" in err


@pytest.mark.parametrize("command", ["serve", "runner"])
def test_unreachable_database_is_one_line(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    assert main([command, "--executor", "local", "--db", url]) == 2
    assert capsys.readouterr().err.startswith("nas: error: cannot reach database")
