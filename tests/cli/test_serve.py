"""`nas serve` and `nas runner` refuse, in one line, what they cannot run here.

(`--executor ray` itself is exercised end to end in tests/workers/test_cluster.py.)"""

from __future__ import annotations

import pytest

from nas_cli.main import main


@pytest.mark.parametrize("command", ["serve", "runner"])
def test_unreachable_database_is_one_line(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    assert main([command, "--executor", "local", "--db", url]) == 2
    assert capsys.readouterr().err.startswith("nas: error: cannot reach database")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "example.org"])
def test_serving_beyond_loopback_without_a_token_is_refused(
    host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NAS_API_TOKEN", raising=False)
    assert main(["serve", "--host", host, "--executor", "local", "--db", "sqlite://"]) == 2
    err = capsys.readouterr().err
    assert "NAS_API_TOKEN is not set" in err and "--insecure" in err


@pytest.mark.parametrize("flag", ["--insecure", None])
def test_a_token_or_insecure_lets_a_public_host_through_to_the_next_check(
    flag: str | None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if flag is None:
        monkeypatch.setenv("NAS_API_TOKEN", "s3cret")
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # stops before binding anything
    args = ["serve", "--host", "0.0.0.0", "--executor", "local", "--db", url]
    assert main(args + ([flag] if flag else [])) == 2
    assert capsys.readouterr().err.startswith("nas: error: cannot reach database")
