"""What the form may offer: data sets, searchers, policies, space defaults, limits."""

from __future__ import annotations

import httpx

from nas.searchers import SEARCHERS
from nas.space import SearchSpace
from nas.stopping import POLICIES


def test_choices_name_what_a_job_spec_accepts(client: httpx.Client) -> None:
    got = client.get("/choices").json()
    assert {"iris", "digits", "xor"} <= {d["name"] for d in got["datasets"]}
    assert got["searchers"] == list(SEARCHERS) and got["stopping_policies"] == list(POLICIES)
    assert got["space"] == SearchSpace().model_dump(mode="json")
    assert got["limits"]["budget.trials"] == 1000
    for name in ("iris", "moons"):  # each offered data set is one a job may name
        assert (
            client.post("/jobs", json={"dataset": name, "budget": {"trials": 0}}).json()["errors"][
                0
            ]["field"]
            == "budget.trials"
        )


def test_every_offered_space_option_is_one_a_job_may_choose(client: httpx.Client) -> None:
    got = client.get("/choices").json()
    options = got["space_options"]
    assert set(options) == {
        "activation",
        "optimizer",
        "shape",
        "scaling",
        "target_scaling",
        "lr_schedule",
    }
    assert "threshold" not in options["activation"]  # g' = 0: backpropagation cannot train it
    for field, values in options.items():
        for value in values:
            assert SearchSpace.model_validate({field: [value]}).model_dump()[field] == [value]
    assert got["final_job_statuses"] == ["finished", "failed", "cancelled"]
