"""The job page's predict form: drop a CSV of raw rows, get the best model's predictions
(a table and a CSV download); a refusal shows the API's message naming column and row."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from tests.api.util import Server, submit, wait_job
from tests.dashboard.conftest import Tab
from tests.test_tabular_end_to_end import SPACE, penguins_csv


def test_a_dropped_csv_is_predicted_on_the_job_page(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve()
    with httpx.Client(base_url=server.api, timeout=60) as client:
        files = {"file": ("penguins.csv", penguins_csv(), "text/csv")}
        ds = client.post("/datasets", files=files, data={"target": "species"}).json()
        spec = {"dataset": {"id": ds["id"]}, "space": SPACE, "budget": {"trials": 1},
                "stopping": {"policy": "none"}, "searcher": "random"}  # fmt: skip
        job = wait_job(client, submit(client, spec), timeout=120)
        expected = client.post(f"/jobs/{job['id']}/predict", files=files).json()["predictions"]
    t = tab(server)
    t.open(f"#/jobs/{job['id']}")
    t.page.wait_for_selector("form.predict")
    csv = {"name": "penguins.csv", "mimeType": "text/csv", "buffer": penguins_csv()}
    t.page.set_input_files("form.predict input[name=file]", files=[csv])
    t.page.check("form.predict input[name=probabilities]")
    t.page.click("form.predict button")
    t.page.wait_for_selector("table.predictions tbody tr")
    cells = t.page.locator("table.predictions tbody tr td:nth-child(2)").all_inner_texts()
    assert cells == expected[:20]
    assert t.page.locator("table.predictions th").all_inner_texts()[2:] == [
        "P(Adelie)", "P(Chinstrap)", "P(Gentoo)",
    ]  # fmt: skip
    with t.page.expect_download() as download:
        t.page.click(".predict-result a[download]")
    lines = Path(download.value.path()).read_text().splitlines()
    assert len(lines) == 151 and lines[0] == "prediction,P(Adelie),P(Chinstrap),P(Gentoo)"
    bad = penguins_csv().replace(b",2007,", b",soon,", 1)
    t.page.set_input_files("form.predict input[name=file]", files=[csv | {"buffer": bad}])
    t.page.click("form.predict button")
    t.page.wait_for_selector(".predict-result .error")
    message = t.page.locator(".predict-result .error").inner_text()
    assert message == "column 'year', row 2: 'soon' is not a number"
    assert t.unexpected_errors(allowed=(422,)) == []
