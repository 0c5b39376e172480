"""The job page with 500 trials of 100 epochs: time to render, then what a poll fetches.

Seeds one job straight into a SQLite store with the store API (500 trials, 100 epochs
each; a third pruned early with a forecast final value, four still running, the best
trial's model saved), serves it with `nas serve --no-runner` on a free loopback port,
and opens the job page in headless Chromium (Debian's /usr/bin/chromium, via Playwright).
Render time is from navigation start to the page's own "nas:rendered" mark, set after
every chart drew. Then it adds a few epochs to the running trials and counts what the
page's next polls fetched.

    .venv/bin/python benchmarks/dashboard.py [--runs 5] [--trials 500] [--epochs 100]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from nas import store as db
from nas.data import load_builtin
from nas.nn import MLPClassifier, to_bytes

TARGET_S = 1.5
RUNNING = 4
CHROMIUM = os.environ.get("NAS_CHROMIUM", "/usr/bin/chromium")


def _sibling(name: str) -> ModuleType:
    """benchmarks/api.py's server helpers (that file's name shadows the api package)."""
    path = Path(__file__).resolve().parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def curve(rng: np.random.Generator, epochs: int) -> list[float]:
    top, speed = rng.uniform(0.6, 0.97), rng.uniform(3, 30)
    e = np.arange(1, epochs + 1)
    noisy = top - (top - 0.3) * np.exp(-e / speed) + rng.normal(0, 0.01, epochs)
    return np.clip(noisy, 0, 1).tolist()


def seed(url: str, n_trials: int, n_epochs: int) -> tuple[int, list[int]]:
    """One job through the store API, as a search with stopping would leave it."""
    rng = np.random.default_rng(0)
    store = db.open_store(url)
    iris = load_builtin("iris")
    spec = {"name": "bench", "dataset": {"name": "iris"}, "space": {"max_epochs": n_epochs}}
    spec |= {"budget": {"trials": n_trials}, "stopping": {"policy": "lce"}}
    running: list[int] = []
    with store.session() as s:
        job = db.create_job(s, name="bench", spec=spec, seed=0)
        best = (-1.0, 0, [8])
        for i in range(n_trials):
            widths = [int(w) for w in rng.choice([8, 16, 32, 64, 128], size=rng.integers(1, 4))]
            params = {"widths": widths, "activation": str(rng.choice(["relu", "tanh"]))}
            params |= {"dropout": round(float(rng.uniform(0, 0.5)), 2), "weight_decay": 1e-4}
            n_params = sum(a * b + b for a, b in zip([4, *widths], [*widths, 3]))
            trial = db.start_trial(s, job.id, params=params, n_params=n_params)
            values = curve(rng, n_epochs)
            stop_at = n_epochs
            if i >= n_trials - RUNNING:
                stop_at = n_epochs // 2
            elif i % 3 == 1:
                stop_at = int(rng.integers(5, n_epochs // 3))
            points = [db.EpochPoint(e + 1, val_metric=v) for e, v in enumerate(values[:stop_at])]
            db.record_epochs(s, trial.id, points)
            if i >= n_trials - RUNNING:
                running.append(trial.id)
            elif stop_at < n_epochs:
                db.end_trial(s, trial.id, status="pruned", predicted_final=values[-1])
            else:
                db.end_trial(s, trial.id, status="finished", test_metric=values[-1] - 0.01)
                best = max(best, (values[-1], trial.id, widths))
        model = MLPClassifier(tuple(best[2]), max_iter=5, random_state=0).fit(iris.X, iris.y)
        db.save_model(s, best[1], to_bytes(model))
    store.close()
    return job.id, running


MEASURE = """() => {
  const mark = performance.getEntriesByName('nas:rendered')[0];
  const data = performance.getEntriesByName('nas:data')[0];
  const main = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/main.js'));
  const bulk = performance.getEntriesByType('resource').filter((r) => r.name.includes('/curves'));
  return {
    rendered_ms: mark.startTime,
    data_ms: data.startTime,
    modules_ms: main ? main.responseEnd : null,
    curves_fetch_ms: bulk.length ? bulk[0].responseEnd - bulk[0].startTime : null,
    curves_bytes: bulk.length ? bulk[0].encodedBodySize : null,
    series: window.nas.state.curves.plot.series.length - 1,
    points: window.nas.state.curves.ys.flat().filter((v) => v !== null).length,
  };
}"""


def wait_for(page: Any, expression: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {expression}")
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--add-epochs", type=int, default=3, help="per running trial")
    parser.add_argument("--screenshot", help="save the job page here (PNG)")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM}: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    served = _sibling("api")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/dashboard.db"
        started = time.perf_counter()
        job_id, running = seed(url, args.trials, args.epochs)
        seeded = time.perf_counter() - started
        print(f"stored {args.trials} trials x {args.epochs} epochs in {seeded:.1f} s (store API)")
        port = served.free_port()
        server = served.start_server(url, port, runner=False)
        page_url = f"http://127.0.0.1:{port}/#/jobs/{job_id}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                runs = []
                for _ in range(args.runs):  # a fresh context each time: a cold cache
                    context = browser.new_context(viewport={"width": 1400, "height": 1000})
                    page = context.new_page()
                    page.goto(page_url)
                    wait_for(page, "document.body.dataset.rendered")
                    runs.append(page.evaluate(MEASURE))
                    if len(runs) < args.runs:
                        context.close()
                report(runs, args)
                follow_up(page, url, running, args.add_epochs)
                if args.screenshot:
                    page.screenshot(path=args.screenshot, full_page=True)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 0


def report(runs: list[dict[str, Any]], args: argparse.Namespace) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"headless Chromium, {len(runs)} cold page loads, load average {load}")
    first = runs[0]
    print(f"  series drawn {first['series']}, curve points drawn {first['points']}")
    print(
        f"  bulk curves call: {first['curves_bytes'] / 1e6:.2f} MB, "
        f"{statistics.median(r['curves_fetch_ms'] for r in runs):.0f} ms (median)"
    )
    for key, what in (("modules_ms", "main.js loaded"), ("data_ms", "all data arrived")):
        print(
            f"  navigation start to {what}: median {statistics.median(r[key] for r in runs):.0f} ms"
        )
    rendered = [r["rendered_ms"] / 1000 for r in runs]
    verdict = "met" if statistics.median(rendered) < TARGET_S else "MISSED"
    print(
        f"  navigation start to rendered: median {statistics.median(rendered):.2f} s, "
        f"min {min(rendered):.2f}, max {max(rendered):.2f} (target < {TARGET_S} s: {verdict})"
    )


def follow_up(page: Any, url: str, running: list[int], add: int) -> None:
    """Add epochs to the running trials; count what the page's next polls fetched."""
    before = page.evaluate("window.nas.state.fetches.length")
    held = page.evaluate(MEASURE)["points"]
    store = db.open_store(url)
    with store.session() as s:
        for trial_id in running:
            last = db.curve(s, trial_id)[-1].epoch
            points = [db.EpochPoint(last + k, val_metric=0.5) for k in range(1, add + 1)]
            db.record_epochs(s, trial_id, points)
    store.close()
    expected = held + add * len(running)
    wait_for(page, f"(({MEASURE})()).points === {expected}")
    time.sleep(2.5)  # two more polls with nothing new
    fetches = page.evaluate("window.nas.state.fetches")[before:]
    initial = page.evaluate("window.nas.state.fetches")[0]
    print(
        f"follow-up: added {add} epochs to each of {len(running)} running trials; "
        f"the next {len(fetches)} polls of the curves fetched "
        f"{sum(f['points'] for f in fetches)} points, {sum(f['trials'] for f in fetches)} "
        f"trial rows, {sum(f['bytes'] for f in fetches)} bytes in all "
        f"(largest {max(f['bytes'] for f in fetches)} bytes; the first load: "
        f"{initial['points']} points, {initial['trials']} rows, {initial['bytes']} bytes)"
    )


if __name__ == "__main__":
    sys.exit(main())
