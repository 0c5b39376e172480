"""A mixed-type CSV end to end, as a user brings it: text categories, empty cells, an ID,
a constant and two boolean columns. Uploaded with the defaults, searched, predicted from
raw rows (JSON and CSV, an unseen category, a missing cell), the downloaded model file
predicting the same from a DataFrame, and `nas run` on the same file."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from nas.nn import Ensemble, TabularModel, load
from nas.search import load_problem
from nas.spec import JobSpec
from nas_cli.main import main
from tests.api.conftest import fast_settings
from tests.api.util import start_server, submit, wait_job

ISLANDS = ["Biscoe", "Dream", "Torgersen"]
SPACE = {
    "n_layers": [1, 1],
    "width": [16, 32],
    "activation": ["relu"],
    "batch_size": [16],
    "learning_rate": [1e-2, 3e-2],
    "max_epochs": 40,
}


def penguins_csv(n: int = 150, seed: int = 0) -> bytes:
    """Penguin-like rows: species from island and bill length, empty cells in four columns."""
    rng = np.random.default_rng(seed)
    lines = ["id,island,bill_length_mm,flipper_mm,sex,tagged,station,year,mass_g,species"]
    for i in range(n):
        island = ISLANDS[i % 3] if i != 7 else "Shetland"  # one rare level
        bill = rng.uniform(34, 52)
        species = "Adelie" if bill < 42 else ("Gentoo" if island == "Biscoe" else "Chinstrap")
        flipper = 180 + 0.8 * (bill - 34) + rng.normal(0, 2)
        mass = 2500 + 40 * bill + 300 * (island == "Biscoe") + rng.normal(0, 50)
        cells = [
            f"P{i:03d}",
            island,
            "" if i % 13 == 5 else f"{bill:.1f}",
            "NA" if i % 17 == 3 else f"{flipper:.0f}",
            "" if i % 11 == 2 else ["male", "female"][i % 2],
            ["TRUE", "FALSE"][(i // 2) % 2],
            "A",
            str(2007 + i % 3),
            f"{mass:.1f}",
            species,
        ]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    url = f"sqlite:///{tmp_path_factory.mktemp('tabular') / 'nas.db'}"
    with start_server(fast_settings(url)) as server, httpx.Client(base_url=server.api) as c:
        c.timeout = httpx.Timeout(60)
        yield c


def _upload(client: httpx.Client, target: str = "species") -> dict[str, Any]:
    files = {"file": ("penguins.csv", penguins_csv(), "text/csv")}
    r = client.post("/datasets", files=files, data={"target": target})
    assert r.status_code == 201, r.text
    return r.json()


def _search(
    client: httpx.Client, dataset_id: int, trials: int = 2, ensemble: Any = None, **data: Any
) -> dict[str, Any]:
    spec = {
        "dataset": {"id": dataset_id, **data},
        "space": SPACE,
        "ensemble": ensemble or False,
        "budget": {"trials": trials},
        "stopping": {"policy": "none"},
        "searcher": "random",
        "seed": 0,
    }
    job = wait_job(client, submit(client, spec), timeout=180)
    assert job["status"] == "finished", job["error"]
    return job


@pytest.fixture(scope="module")
def species_job(client: httpx.Client) -> dict[str, Any]:
    return _search(client, _upload(client)["id"])


def _raw_rows() -> list[dict[str, Any]]:
    """The CSV's rows as a user's JSON would carry them: strings, numbers, nulls."""
    frame = pd.read_csv(io.BytesIO(penguins_csv()), keep_default_na=True)
    return json.loads(frame.drop(columns="species").to_json(orient="records"))


def test_an_upload_with_defaults_says_what_each_column_becomes(client: httpx.Client) -> None:
    ds = _upload(client)
    assert ds["task"] == "classification" and ds["task_inferred"] == "target 'species' holds text"
    assert ds["classes"] == ["Adelie", "Chinstrap", "Gentoo"] and ds["n_rows"] == 150
    roles = {c["name"]: (c["role"], c["missing"]) for c in ds["columns"]}
    assert roles == {
        "id": ("dropped", 0),
        "island": ("categorical", 0),
        "bill_length_mm": ("numeric", 12),
        "flipper_mm": ("numeric", 9),
        "sex": ("boolean", 14),
        "tagged": ("boolean", 0),
        "station": ("dropped", 0),
        "year": ("numeric", 0),
        "mass_g": ("numeric", 0),
    }
    island = next(c for c in ds["columns"] if c["name"] == "island")
    assert island["levels"] == ISLANDS and island["infrequent"] == 1  # Shetland, once


def test_raw_rows_predict_by_json_and_by_csv_alike(
    client: httpx.Client, species_job: dict[str, Any]
) -> None:
    url = f"/jobs/{species_job['id']}/predict"
    rows = _raw_rows()
    by_json = client.post(url, json={"rows": rows, "probabilities": True})
    assert by_json.status_code == 200, by_json.text
    out = by_json.json()
    files = {"file": ("penguins.csv", penguins_csv(), "text/csv")}
    by_csv = client.post(url, files=files, data={"probabilities": "true"})
    assert by_csv.status_code == 200, by_csv.text
    assert by_csv.json()["predictions"] == out["predictions"]
    assert np.allclose(by_csv.json()["probabilities"], out["probabilities"])
    species = pd.read_csv(io.BytesIO(penguins_csv()))["species"]
    accuracy = np.mean(np.array(out["predictions"]) == species.to_numpy())
    assert accuracy > 0.7, accuracy  # a CSV predicted from its own rows, by a tiny search
    as_csv = client.post(url, files=files, headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.StringIO(as_csv.text))
    assert (
        list(table.columns) == ["prediction"]
        and table["prediction"].tolist() == (out["predictions"])
    )


def test_unseen_categories_and_missing_cells_are_handled_as_in_training(
    client: httpx.Client, species_job: dict[str, Any]
) -> None:
    url = f"/jobs/{species_job['id']}/predict"
    row = _raw_rows()[0]
    odd = [row | {"island": "Atlantis"}, row | {"bill_length_mm": None, "sex": None}]
    r = client.post(url, json={"rows": odd})
    assert r.status_code == 200, r.text
    assert set(r.json()["predictions"]) <= {"Adelie", "Chinstrap", "Gentoo"}
    bad = client.post(url, json={"rows": [row, row | {"bill_length_mm": "long"}]})
    assert bad.status_code == 422
    assert bad.json()["message"] == "rows.1: column 'bill_length_mm': 'long' is not a number"
    assert bad.json()["errors"][0]["field"] == "rows.1"
    lines = penguins_csv().decode().splitlines()
    lines[3] = lines[3].replace(",2007,", ",soon,").replace(",2008,", ",soon,")
    lines[3] = lines[3].replace(",2009,", ",soon,")
    files = {"file": ("p.csv", "\n".join(lines).encode(), "text/csv")}
    bad_csv = client.post(url, files=files)
    assert bad_csv.status_code == 422
    assert bad_csv.json()["message"] == "column 'year', row 4: 'soon' is not a number"
    typo = client.post(url, json={"rows": [row | {"beak": 1}]})
    assert typo.status_code == 422 and "column 'beak'" in typo.json()["message"]


def test_the_downloaded_model_predicts_a_dataframe_as_the_service_does(
    client: httpx.Client, species_job: dict[str, Any]
) -> None:
    r = client.get(f"/jobs/{species_job['id']}/model")
    model = load(io.BytesIO(r.content))
    assert isinstance(model, TabularModel)
    frame = pd.read_csv(io.BytesIO(penguins_csv()))  # pandas' own reading, as a user does
    body = {"rows": _raw_rows(), "probabilities": True}
    served = client.post(f"/jobs/{species_job['id']}/predict", json=body).json()
    assert model.predict(frame).tolist() == served["predictions"]
    assert np.allclose(model.predict_proba(frame), served["probabilities"], atol=1e-6)
    meta = client.get(f"/jobs/{species_job['id']}/model/meta").json()
    assert meta["input_columns"][0] == "id" and meta["feature_names"][0] == "island=Biscoe"
    roles = {c["name"]: c["role"] for c in meta["preprocessing"]["columns"]}
    assert roles["station"] == "dropped" and roles["sex"] == "boolean"


def test_an_ensemble_job_predicts_raw_rows_as_its_downloaded_model_does(
    client: httpx.Client,
) -> None:
    ensemble = {"size": 6, "pool": 3}
    job = _search(client, _upload(client)["id"], trials=3, ensemble=ensemble)
    url = f"/jobs/{job['id']}/predict"
    model = load(io.BytesIO(client.get(f"/jobs/{job['id']}/model").content))
    assert isinstance(model, TabularModel) and isinstance(model.estimator, Ensemble)
    rows = _raw_rows()
    assert rows[5]["bill_length_mm"] is None and rows[0]["island"] == "Biscoe"  # gaps, text
    served = client.post(url, json={"rows": rows, "probabilities": True})
    assert served.status_code == 200, served.text
    files = {"file": ("penguins.csv", penguins_csv(), "text/csv")}
    by_csv = client.post(url, files=files, data={"probabilities": "true"}).json()
    frame = pd.read_csv(io.BytesIO(penguins_csv()))  # pandas' own reading, as a user does
    P = model.predict_proba(frame)
    assert model.predict(frame).tolist() == served.json()["predictions"] == by_csv["predictions"]
    assert np.allclose(P, served.json()["probabilities"], atol=1e-6)
    assert np.allclose(P, by_csv["probabilities"], atol=1e-6)
    # the preprocessing runs once, then each member predicts the same network input
    X = model.transform(frame)
    members = model.estimator.members
    average = sum(w * m.predict_proba(X) for m, w in zip(members, model.estimator.weights))
    assert np.allclose(P, average)
    meta = client.get(f"/jobs/{job['id']}/model/meta").json()
    assert [m["weight"] for m in meta["ensemble"]["members"]] == pytest.approx(
        model.estimator.weights
    )
    header = json.loads(client.get(f"/jobs/{job['id']}/model").headers["x-model-meta"])
    assert "ensemble" not in header and "preprocessing" not in header


def test_a_real_valued_target_is_regressed(client: httpx.Client) -> None:
    ds = _upload(client, target="mass_g")
    assert ds["task"] == "regression" and ds["task_inferred"].startswith("target 'mass_g' holds")
    job = _search(client, ds["id"])
    rows = [{k: v for k, v in row.items() if k != "mass_g"} for row in _raw_rows()[:3]]
    rows = [row | {"species": "Adelie"} for row in rows]
    r = client.post(f"/jobs/{job['id']}/predict", json={"rows": rows})
    assert r.status_code == 200, r.text
    assert all(isinstance(p, float) for p in r.json()["predictions"])


def test_test_fraction_zero_keeps_every_row_for_the_search_and_refit(
    client: httpx.Client,
) -> None:
    job = _search(client, _upload(client)["id"], test_fraction=0)
    trials = client.get(f"/jobs/{job['id']}/trials").json()["items"]
    assert trials and all(t["test_metric"] is None for t in trials)
    meta = client.get(f"/jobs/{job['id']}/model/meta").json()
    assert meta["refit"] is True and meta["test_metric"] is None
    assert client.get(f"/jobs/{job['id']}/leaderboard").status_code == 200


def test_refused_options_on_a_stored_data_set_refuse_the_job(client: httpx.Client) -> None:
    spec = {"dataset": {"id": _upload(client)["id"], "missing": "refuse"}}
    r = client.post("/jobs", json=spec)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "dataset"
    assert "missing value in column 'bill_length_mm', row 7" in r.json()["message"]


def test_columns_named_in_drop_are_left_out_and_still_accepted_when_predicting(
    client: httpx.Client,
) -> None:
    dataset_id = _upload(client)["id"]
    r = client.post("/jobs", json={"dataset": {"id": dataset_id, "drop": ["year", "nope"]}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "dataset.drop"
    assert "'nope' is not a feature column" in r.json()["message"]
    job = _search(client, dataset_id, drop=["year", "mass_g"])
    meta = client.get(f"/jobs/{job['id']}/model/meta").json()
    roles = {c["name"]: c for c in meta["preprocessing"]["columns"]}
    assert roles["year"]["role"] == roles["mass_g"]["role"] == "dropped"
    assert not any(n.startswith(("year", "mass_g")) for n in meta["feature_names"])
    rows = _raw_rows()[:3]  # the dropped columns still in them, as in the CSV
    answer = client.post(f"/jobs/{job['id']}/predict", json={"rows": rows})
    assert answer.status_code == 200 and len(answer.json()["predictions"]) == 3


def test_without_test_rows_the_search_splits_every_row_in_two(tmp_path: Path) -> None:
    csv = tmp_path / "penguins.csv"
    csv.write_bytes(penguins_csv())
    spec = JobSpec.model_validate(
        {"dataset": {"csv": str(csv), "target": "species", "test_fraction": 0}}
    )
    data = load_problem(spec).data
    assert len(data.y_test) == 0 and len(data.y_train) + len(data.y_val) == 150


def test_nas_run_on_the_same_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "penguins.csv"
    csv.write_bytes(penguins_csv())
    spec = tmp_path / "penguins.yaml"
    spec.write_text(
        f"dataset: {{csv: {csv}, target: species, test_fraction: 0}}\n"
        f"space: {json.dumps(SPACE)}\nbudget: {{trials: 2}}\nsearcher: random\n"
    )
    db = f"sqlite:///{tmp_path / 'nas.db'}"
    assert main(["run", str(spec), "--db", db]) == 0
    captured = capsys.readouterr()
    assert "task: classification (inferred: target 'species' holds text)" in captured.err
    assert "id dropped (ID-like: every value differs)" in captured.err
    assert "island categorical (3 levels)" in captured.err
    assert "retrained on every row" in captured.out
    refused = tmp_path / "refused.yaml"
    refused.write_text(f"dataset: {{csv: {csv}, target: species, missing: refuse}}\n")
    assert main(["run", str(refused), "--db", db]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "nas: error: dataset: missing value in column 'bill_length_mm', row 7; "
        "set dataset.missing: auto to impute it"
    ]


def test_nas_run_refuses_an_unknown_drop_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "penguins.csv"
    csv.write_bytes(penguins_csv())
    spec = tmp_path / "penguins.yaml"
    spec.write_text(f"dataset: {{csv: {csv}, target: species, drop: [yeer]}}\n")
    assert main(["run", str(spec), "--db", f"sqlite:///{tmp_path / 'nas.db'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "drop: 'yeer' is not a feature column" in err
