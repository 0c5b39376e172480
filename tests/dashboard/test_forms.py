"""The submit form shows the API's 422 messages next to their fields; a CSV uploaded
through it becomes the job's data set; with NAS_API_TOKEN the page asks for the token."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.util import Server, iris_csv
from tests.dashboard.conftest import Tab
from tests.dashboard.test_job_flow import fill_small_search

SUBMIT = "form.submit button[type=submit]"


def error_of(t: Tab, field: str) -> str:
    return str(t.page.locator(f'[data-field="{field}"] .field-error').inner_text())


def test_validation_messages_appear_next_to_their_fields(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve(runner=False)
    t = tab(server)
    t.open("#/new")
    fill_small_search(t)
    t.page.fill("input[name='budget.trials']", "0")
    t.page.click(SUBMIT)
    t.page.wait_for_selector('[data-field="budget.trials"].invalid')
    assert "greater than or equal to 1" in error_of(t, "budget.trials")
    assert t.page.url.endswith("#/new")  # nothing was queued

    t.page.fill("input[name='budget.trials']", "3")
    t.page.fill("input[name='space.width.low']", "0")
    t.page.click(SUBMIT)
    t.page.wait_for_selector('[data-field="space.width"].invalid')
    assert "width must lie within [1, 4096]" in error_of(t, "space.width")
    assert error_of(t, "budget.trials") == ""  # the fixed field's message is gone
    t.screenshot("form-validation")
    with httpx.Client(base_url=server.api) as client:
        assert client.get("/jobs").json()["total"] == 0
    assert t.unexpected_errors(allowed=(422,)) == []


def test_a_csv_uploaded_through_the_form_is_searched(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve()
    t = tab(server)
    t.open("#/new")
    fill_small_search(t, trials=2)
    t.page.check("input[name=source][value=upload]")
    csv = {"name": "flowers.csv", "mimeType": "text/csv", "buffer": iris_csv(rows=90)}
    t.page.set_input_files("input[name=file]", files=[csv])
    t.page.fill("input[name=target]", "specis")  # a typo: the server names the columns
    t.page.click(SUBMIT)
    t.page.wait_for_selector('[data-field="file"].invalid')
    assert "specis" in error_of(t, "file")
    t.page.fill("input[name=target]", "species")
    t.page.click(SUBMIT)
    t.page.wait_for_url("**/#/jobs/*")
    job_id = int(t.page.url.rsplit("/", 1)[1])
    t.page.wait_for_selector(".job-head .badge.finished", timeout=60_000)
    with httpx.Client(base_url=server.api) as client:
        spec = client.get(f"/jobs/{job_id}").json()["spec"]
        stored = client.get(f"/datasets/{spec['dataset']['id']}").json()
    assert stored["name"] == "flowers" and stored["n_rows"] == 90
    assert t.unexpected_errors(allowed=(422,)) == []


def test_token_is_asked_for_kept_and_sent(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve(api_token="s3cret", runner=False)
    with httpx.Client(base_url=server.api) as client:
        created = client.post(
            "/jobs",
            json={"name": "private-job", "dataset": "iris", "budget": {"trials": 1}},
            headers={"Authorization": "Bearer s3cret"},
        )
        assert created.status_code == 202
        page = httpx.get(server.url + "/")  # the page itself needs no token, carries no data
        assert page.status_code == 200 and "private-job" not in page.text
    t = tab(server)
    t.open("#/")
    t.page.wait_for_selector("#token-form:not([hidden])")
    t.page.fill("#token-form input[name=token]", "wrong")
    t.page.click("#token-form button")
    t.page.wait_for_selector("#token-why:has-text('refused')")
    t.page.fill("#token-form input[name=token]", "s3cret")
    t.page.click("#token-form button")
    t.page.wait_for_selector("table.jobs td:has-text('private-job')")
    assert t.js("localStorage.getItem('nas.token')") == "s3cret"
    t.page.reload()  # kept: no second prompt
    t.page.wait_for_selector("table.jobs td:has-text('private-job')")
    assert t.page.locator("#token-form").is_hidden()
    t.page.click("#forget-token")
    t.page.wait_for_selector("#token-form:not([hidden])")
    assert t.unexpected_errors(allowed=(401,)) == []
