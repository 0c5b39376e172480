"""The dashboard's files: served at / without a token (they carry no data), with a strict
Content-Security-Policy, its modules and the vendored uPlot (and licence) alongside, and
all of them named in the package data so an installed service has them too."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import httpx

from api.routes.dashboard import STATIC
from tests.api.util import Server

ROOT = Path(__file__).resolve().parents[3]


def test_the_page_is_served_without_a_token(serve: Callable[..., Server]) -> None:
    server = serve(api_token="s3cret", runner=False)
    page = httpx.get(server.url + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for src in re.findall(r'(?:src|href)="(/dashboard/[^"]+)"', page.text):
        assert httpx.get(server.url + src).status_code == 200, src
    assert httpx.get(server.api + "/jobs").status_code == 401  # the data still needs it


def test_every_module_the_page_imports_is_served(server: Server) -> None:
    modules = list((STATIC / "js").glob("*.js"))
    for module in modules:
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', module.read_text()):
            url = f"{server.url}/dashboard/js/{target}"
            assert httpx.get(url).status_code == 200, (module.name, target)


def test_package_data_holds_every_dashboard_file_and_the_licence() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["api"]
    files = {p.relative_to(STATIC.parent) for p in STATIC.rglob("*") if p.is_file()}
    covered = {p.relative_to(STATIC.parent) for g in globs for p in STATIC.parent.glob(g)}
    assert files == covered
    assert "MIT License" in (STATIC / "vendor" / "uPlot.LICENSE").read_text()
