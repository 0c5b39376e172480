"""Browser fixtures: Debian's headless Chromium driven by Playwright, against the real
service (uvicorn on a free loopback port, SQLite in tmp_path, the local executor).

Skips with the reason when Chromium or Playwright is missing (CI installs both). Each
test's page keeps its console errors, and leaves a screenshot in NAS_TEST_ARTIFACTS
(default: test-artifacts/dashboard, gitignored).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import serve  # noqa: F401 (a fixture: servers on tmp SQLite)
from tests.api.util import Server

CHROMIUM = os.environ.get("NAS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("NAS_TEST_ARTIFACTS", "test-artifacts")) / "dashboard"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@dataclass
class Tab:
    """A page plus what it said: console errors and uncaught exceptions."""

    page: Any
    server: Server
    errors: list[str] = field(default_factory=list)

    def open(self, hash_path: str = "#/") -> None:
        self.page.goto(f"{self.server.url}/{hash_path}")

    def js(self, expression: str, arg: Any = None) -> Any:
        return self.page.evaluate(expression, arg)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll a JS expression until truthy (page.wait_for_function evals a string,
        which the page's Content-Security-Policy rightly forbids)."""
        deadline = time.monotonic() + timeout
        while not (value := self.page.evaluate(expression)):
            if time.monotonic() > deadline:
                raise AssertionError(f"still false after {timeout} s: {expression}")
            time.sleep(0.05)
        return value

    def unexpected_errors(self, allowed: tuple[int, ...] = ()) -> list[str]:
        """Errors other than the browser's note on an HTTP status the test provoked.

        A 404 from .../model/weights is allowed too: the driver saves the best model a
        moment after it ends the trial, and a poll that falls in between asks again.
        """
        pattern = re.compile(r"status of (\d+)")
        out = []
        for text in self.errors:
            found = pattern.search(text)
            status = int(found.group(1)) if found else None
            if status in allowed or (status == 404 and "/model/weights" in text):
                continue
            out.append(text)
        return out


def note(message: Any) -> str:
    """A console error's text and, for a failed request, the URL it concerns."""
    url = (message.location or {}).get("url", "")
    return f"{message.text} ({url})" if url else str(message.text)


@pytest.fixture
def tab(browser: Any, request: pytest.FixtureRequest) -> Iterator[Callable[[Server], Tab]]:
    """Open a fresh browser context on a server; screenshot each at teardown."""
    opened: list[Tab] = []

    def open_tab(server: Server) -> Tab:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        tab = Tab(context.new_page(), server)
        tab.page.on("console", lambda m: m.type == "error" and tab.errors.append(note(m)))
        tab.page.on("pageerror", lambda e: tab.errors.append(f"uncaught: {e}"))
        opened.append(tab)
        return tab

    yield open_tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, tab in enumerate(opened):
        name = re.sub(r"[^\w.-]+", "_", request.node.name) + (f"-{i}" if i else "")
        tab.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        tab.page.context.close()
