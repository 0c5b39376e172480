"""`nas serve` and `nas runner` refuse, in one line, what they cannot run here.

(`--executor ray` itself is exercised end to end in tests/workers/test_cluster.py.)"""

from __future__ import annotations

import pytest

from nas.cli import main


@pytest.mark.parametrize("command", ["serve", "runner"])
def test_unreachable_database_is_one_line(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    assert main([command, "--executor", "local", "--db", url]) == 2
    assert capsys.readouterr().err.startswith("nas: error: cannot reach database")
