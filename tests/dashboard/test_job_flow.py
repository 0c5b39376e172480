"""The dashboard in a real browser: submit a search through the form, watch its trials
and curves arrive, open a trial; the charts must hold and show the trials' points."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.api.util import Server, submit, tiny_spec, wait_job
from tests.dashboard.conftest import Tab

# Non-grey pixels of a chart's canvas: only series draw in colour (axes and grid are grey).
COLOURED_PIXELS = """(selector) => {
  const canvas = document.querySelector(selector + ' canvas');
  const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  let n = 0;
  for (let i = 0; i < data.length; i += 4) {
    const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
    if (a > 40 && Math.abs(r - g) + Math.abs(g - b) + Math.abs(r - b) > 60) n++;
  }
  return n;
}"""


def fill_small_search(tab: Tab, trials: int = 6) -> None:
    page = tab.page
    page.select_option("select[name=builtin]", "iris")
    page.select_option("select[name=searcher]", "random")
    page.select_option("select[name='stopping.policy']", "asha")
    page.fill("input[name='budget.trials']", str(trials))
    page.fill("input[name='space.max_epochs']", "9")
    page.fill("input[name='space.n_layers.low']", "1")
    page.fill("input[name='space.n_layers.high']", "2")
    page.fill("input[name='space.width.low']", "4")
    page.fill("input[name='space.width.high']", "16")
    page.fill("input[name='space.batch_size']", "32, 64")
    page.fill("input[name=seed]", "3")


def test_submit_watch_curves_and_open_a_trial(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve()
    t = tab(server)
    t.open("#/new")
    fill_small_search(t)
    t.page.click("form.submit button[type=submit]")
    t.page.wait_for_url("**/#/jobs/*")
    job_id = int(t.page.url.rsplit("/", 1)[1])
    t.page.wait_for_selector(".job-head .badge.finished", timeout=60_000)
    # the page stops polling once it has the final state: wait for that last draw
    t.wait_for("window.nas.state.job.status === 'finished'")
    t.page.wait_for_selector("table.leaderboard tbody tr")

    with httpx.Client(base_url=server.api) as client:
        trials = client.get(f"/jobs/{job_id}/trials", params={"limit": 500}).json()["items"]
    assert len(trials) == 6
    shown = t.js(
        """() => {
      const c = window.nas.state.curves;
      return {
        series: c.plot.series.length,
        points: c.plot.data.slice(1).map((ys) => ys.filter((v) => v !== null).length),
        ids: c.trials.map((t) => t.id),
        draws: c.draws,
      };
    }"""
    )
    assert shown["series"] == 1 + len(trials)
    epochs = {tr["id"]: tr["epochs_run"] for tr in trials}
    assert dict(zip(shown["ids"], shown["points"])) == epochs
    assert t.js(COLOURED_PIXELS, "#curves") > 500
    assert t.page.locator("table.leaderboard tbody tr").count() == 6
    assert t.page.locator("#network svg line").count() > 0
    assert t.js(COLOURED_PIXELS, "#pareto") > 20
    assert t.page.locator(".bars .bar-row").count() > 0
    assert t.unexpected_errors() == []
    t.screenshot("job-page")

    t.page.click("table.leaderboard tbody tr:first-child a")
    t.page.wait_for_url("**/#/trials/*")
    t.wait_for("window.nas.chart && window.nas.chart.data[0].length > 0")
    trial_id = int(t.page.url.rsplit("/", 1)[1])
    assert t.js("window.nas.chart.data[0].length") == epochs[trial_id]
    assert t.js(COLOURED_PIXELS, "#trial-curve") > 100
    assert t.unexpected_errors() == []


def test_an_ensemble_job_says_so_on_its_network_card(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve()
    with httpx.Client(base_url=server.api, timeout=30) as client:
        job_id = submit(client, tiny_spec(trials=4, ensemble={"size": 6, "pool": 3}))
        wait_job(client, job_id)
        members = client.get(f"/jobs/{job_id}/model/meta").json()["ensemble"]["members"]
    t = tab(server)
    t.open(f"#/jobs/{job_id}")
    line = t.page.wait_for_selector("#network .ensemble-line", timeout=30_000).inner_text()
    n = len(members)
    assert line.startswith(f"ensemble of {n} trial{'s' if n != 1 else ''} (weights): ")
    assert all(f"#{m['number']} {m['weight']:.2f}" in line for m in members)
    assert t.page.locator("#network svg line").count() > 0
    assert t.unexpected_errors() == []
    t.screenshot("ensemble-network")
