"""`nas run --executor ray` starts a local Ray for the job and leaves no Ray process behind."""

from __future__ import annotations

import json

import psutil
import ray

from tests.workers.conftest import SMALL_SPACE, ray_children
from workers import RayExecutor


def test_nas_run_on_ray_finishes_and_leaves_no_ray_process(tmp_path, monkeypatch, capsys):
    from nas_cli.main import main

    seen: dict[psutil.Process, str] = {}
    close = RayExecutor.close

    def close_and_look(self: RayExecutor) -> None:
        seen.update((p, p.name()) for p in ray_children())  # Ray's daemons, still up
        close(self)

    monkeypatch.setattr(RayExecutor, "close", close_and_look)
    spec = tmp_path / "spec.json"
    spec.write_text(
        json.dumps(
            {
                "dataset": "iris",
                "space": SMALL_SPACE,
                "budget": {"trials": 4},
                "searcher": "random",
            }
        )
    )
    assert not ray.is_initialized()
    db = f"sqlite:///{tmp_path / 'nas.db'}"
    code = main(["run", str(spec), "--executor", "ray", "--workers", "2", "--db", db])
    assert code == 0 and "leaderboard" in capsys.readouterr().out
    assert set(seen.values()) == {"raylet", "gcs_server"}
    assert not ray.is_initialized()
    _, alive = psutil.wait_procs(list(seen), timeout=10)
    assert not alive and not ray_children()
