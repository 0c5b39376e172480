"""The job page follows a job live: new epochs and trials appear without a reload, and
each poll fetches only what changed (a cursor), never the curves it already holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nas import store as db
from nas.data import load_builtin
from nas.nn import MLPClassifier, to_bytes
from tests.api.util import Server
from tests.dashboard.conftest import Tab

PARAMS = {"widths": [8], "activation": "relu", "dropout": 0.1, "weight_decay": 1e-4}
SPEC = {"dataset": {"name": "iris"}, "space": {"max_epochs": 20}, "budget": {"trials": 5}}


def points(n: int, first: int = 1) -> list[db.EpochPoint]:
    return [db.EpochPoint(e, val_metric=0.3 + 0.02 * e) for e in range(first, first + n)]


def seed(store: db.Store) -> dict[str, Any]:
    """A job as a search leaves it midway: finished (with its model), pruned, running."""
    iris = load_builtin("iris")
    model = MLPClassifier((8,), max_iter=3, random_state=0).fit(iris.X, iris.y)
    with store.session() as s:
        job = db.create_job(s, name="seeded", spec=SPEC, seed=0)
        ids = [db.start_trial(s, job.id, params=PARAMS, n_params=67).id for _ in range(3)]
        db.record_epochs(s, ids[0], points(20))
        db.end_trial(s, ids[0], status="finished")
        db.save_model(s, ids[0], to_bytes(model))
        db.record_epochs(s, ids[1], points(5))
        db.end_trial(s, ids[1], status="pruned", predicted_final=0.5)
        db.record_epochs(s, ids[2], points(4))
    return {"job": job.id, "finished": ids[0], "pruned": ids[1], "running": ids[2]}


SHOWN = """() => {
  const c = window.nas.state.curves;
  const held = (i) => c.ys[i].filter((v) => v !== null).length;
  return Object.fromEntries(c.trials.map((t, i) => [t.id, held(i)]));
}"""


def test_live_updates_fetch_only_new_epochs(
    serve: Callable[..., Server], tab: Callable[[Server], Tab]
) -> None:
    server = serve(runner=False)  # the test is the search: it writes to the store
    store = db.open_store(server.settings.database_url)
    ids = seed(store)
    t = tab(server)
    t.open(f"#/jobs/{ids['job']}")
    t.wait_for("document.body.dataset.rendered")
    shown = {int(k): v for k, v in t.js(SHOWN).items()}
    assert shown == {ids["finished"]: 20, ids["pruned"]: 5, ids["running"]: 4}
    assert t.js("window.nas.state.curves.forecasts") == 1  # the pruned trial's dashed line
    assert t.page.locator("#network svg line").count() == 4 * 8 + 8 * 3
    initial = t.js("window.nas.state.fetches.length")

    with store.session() as s:
        db.record_epochs(s, ids["running"], points(3, first=5))
    t.wait_for("window.nas.state.curves.ys[2].filter((v) => v !== null).length === 7")
    with store.session() as s:
        newcomer = db.start_trial(s, ids["job"], params=PARAMS, n_params=67).id
        db.record_epochs(s, newcomer, points(2))
    t.wait_for("window.nas.state.curves.plot.series.length === 5")
    assert t.js("window.nas.state.curves.ys[3].filter((v) => v !== null).length") == 2

    follow_ups = t.js("window.nas.state.fetches")[initial:]
    assert sum(f["points"] for f in follow_ups) == 3 + 2  # only the new epochs travelled
    assert max(f["trials"] for f in follow_ups) <= 2  # the watched running trials' rows
    assert t.unexpected_errors() == []
    store.close()
