"""Fuzzing the OpenAPI schema (schemathesis): whatever a client sends, no 5xx.

Bounded: 20 valid and 20 invalid examples per operation, no shrinking. The server has
no runner (fuzzed jobs stay queued instead of training) and one finished job to read, so
ids 1 and up reach real rows. The SSE stream is left out: it is open-ended by design.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable

from nas import store as db
from nas.search.job_runner import JobRunner, RunnerTiming
from tests.api.conftest import fast_settings
from tests.api.util import Server, iris_csv, start_server, submit, tiny_spec


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'nas.db'}"
    with start_server(fast_settings(url, runner=False)) as server:
        with httpx.Client(base_url=server.api, timeout=30) as client:
            client.post("/datasets", files={"file": ("i.csv", iris_csv(60))},
                        data={"target": "species"})  # fmt: skip
            submit(client, tiny_spec(trials=2))
        store = db.open_store(url)
        JobRunner(store, timing=RunnerTiming(poll_seconds=0.05)).run_once()
        store.close()
        yield server


def test_no_server_errors(fuzz_server: Server) -> None:
    api = schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")
    api = api.exclude(path_regex=r"/events$")
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15

    modes = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
    for operation, mode in [(op, mode) for op in operations for mode in modes]:

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=20,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case) -> None:
            response = case.call(timeout=30)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.text[:300]}")
            elif response.status_code >= 400 and response.status_code != 405:
                # the app's refusals are JSON with a message; uvicorn refuses a malformed
                # request (400, plain text) before the app sees it
                text = response.text
                assert text.startswith('{"message":"') or response.status_code == 400, (
                    f"{case.method} {case.formatted_path}: {response.status_code} {text[:200]}"
                )

        try:
            check()
        except Unsatisfiable:  # no invalid input exists (an operation without parameters)
            assert mode == schemathesis.GenerationMode.NEGATIVE
    assert not failures, "\n".join(failures[:10])
    assert sum(statuses.values()) >= 10 * len(operations)
    assert any(200 <= code < 300 for code in statuses), statuses  # not only refusals
    print(f"fuzz: {len(operations)} operations, status codes {dict(sorted(statuses.items()))}")
