"""The best model over HTTP: npz download with JSON metadata, and predictions."""

from __future__ import annotations

import io
import json

import httpx
import numpy as np
import pytest

from nas.data import load_builtin
from nas.nn import Ensemble, from_bytes, load
from tests.api.util import submit, tiny_spec, wait_job


def test_model_download_loads_and_predicts_like_the_api(
    client: httpx.Client, finished_job: dict
) -> None:
    job_id = finished_job["id"]
    r = client.get(f"/jobs/{job_id}/model")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    meta = json.loads(r.headers["x-model-meta"])
    assert meta["trial_id"] == finished_job["best_trial_id"] and meta["n_features_in"] == 4
    model = load(io.BytesIO(r.content))
    X = load_builtin("iris").X[:5]
    body = client.post(f"/jobs/{job_id}/predict", json={"rows": X.tolist(), "probabilities": True})
    assert body.status_code == 200, body.text
    out = body.json()
    assert out["predictions"] == model.predict(X).tolist() and out["classes"] == [0, 1, 2]
    assert np.allclose(out["probabilities"], model.predict_proba(X), atol=1e-6)
    full = client.get(f"/jobs/{job_id}/model/meta").json()
    assert full["feature_names"][0] == "sepal length (cm)" and full["size_bytes"] == len(r.content)
    # the default (spec.refit_seeds 5): the chosen trial refit from five seeds, averaged
    assert full["ensemble"]["kind"] == "seeds" and len(model.members) == 5
    assert {m["number"] for m in full["ensemble"]["members"]} == {meta["number"]}


def test_predict_accepts_rows_by_feature_name(client: httpx.Client, finished_job: dict) -> None:
    names = client.get(f"/jobs/{finished_job['id']}/model/meta").json()["feature_names"]
    row = dict(zip(names, [5.1, 3.5, 1.4, 0.2]))
    r = client.post(f"/jobs/{finished_job['id']}/predict", json={"rows": [row]})
    assert r.status_code == 200 and len(r.json()["predictions"]) == 1
    del row[names[0]]
    bad = client.post(f"/jobs/{finished_job['id']}/predict", json={"rows": [row]})
    assert bad.status_code == 422 and "missing" in bad.json()["message"]


def test_predict_refuses_bad_rows(client: httpx.Client, finished_job: dict) -> None:
    url = f"/jobs/{finished_job['id']}/predict"
    short = client.post(url, json={"rows": [[1.0, 2.0]]})
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "rows.0"
    nan = client.post(url, content=b'{"rows": [[NaN, 1, 2, 3]]}',
                      headers={"content-type": "application/json"})  # fmt: skip
    assert nan.status_code == 422 and nan.json()["errors"][0]["field"].startswith("rows")
    assert client.post(url, json={"rows": []}).status_code == 422
    assert client.post(url, json={"rows": [["a", 1, 2, 3]]}).status_code == 422


def test_no_model_yet_is_404(client: httpx.Client) -> None:
    job_id = submit(client, tiny_spec(trials=1))
    client.post(f"/jobs/{job_id}/cancel")
    r = client.get(f"/jobs/{job_id}/model")
    assert r.status_code in (200, 404)  # the one trial may have finished before the cancel
    if r.status_code == 404:
        assert "no trained model" in r.json()["message"]


def test_model_weights_as_json_for_the_picture(client: httpx.Client, finished_job: dict) -> None:
    job_id = finished_job["id"]
    model = load(io.BytesIO(client.get(f"/jobs/{job_id}/model").content))
    picture = client.get(f"/jobs/{job_id}/model/weights", params={"max_units": 3}).json()
    assert picture["trial_id"] == finished_job["best_trial_id"]
    assert picture["member"] == model.info[0]["number"]  # equal weights: the first is drawn
    model = model.members[0]  # the default model averages five refits of one trial
    sizes = [4, *model.hidden_layer_sizes, 3]
    assert [layer["units"] for layer in picture["layers"]] == sizes
    assert [len(layer["shown"]) for layer in picture["layers"]] == [min(n, 3) for n in sizes]
    features = load_builtin("iris").feature_names
    assert picture["layers"][0]["names"] == [features[j] for j in picture["layers"][0]["shown"]]
    for i, w in enumerate(picture["weights"]):  # each edge is the model's own weight
        rows, cols = picture["layers"][i]["shown"], picture["layers"][i + 1]["shown"]
        assert np.allclose(w, model.coefs_[i][np.ix_(rows, cols)], atol=1e-5)
    assert client.get(f"/jobs/{job_id}/model/weights", params={"max_units": 65}).status_code == 422


def test_predict_takes_a_csv_file_and_answers_csv_when_asked(
    client: httpx.Client, finished_job: dict
) -> None:
    url = f"/jobs/{finished_job['id']}/predict"
    names = client.get(f"/jobs/{finished_job['id']}/model/meta").json()["input_columns"]
    X = load_builtin("iris").X[:4]
    lines = [",".join(names)] + [",".join(str(v) for v in row) for row in X]
    files = {"file": ("rows.csv", "\n".join(lines).encode(), "text/csv")}
    by_csv = client.post(url, files=files)
    by_json = client.post(url, json={"rows": X.tolist()})
    assert by_csv.status_code == 200, by_csv.text
    assert by_csv.json()["predictions"] == by_json.json()["predictions"]
    as_csv = client.post(url, json={"rows": X.tolist()}, headers={"Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    expected = "prediction\n" + "".join(f"{p}\n" for p in by_json.json()["predictions"])
    assert as_csv.text == expected


@pytest.mark.parametrize(
    ("files", "data", "status", "message"),
    [
        (None, {"probabilities": "true"}, 422, "CSV file in the form field 'file'"),
        ({"file": ("r.csv", b"\xff\xfe\x00\x01", "text/csv")}, {}, 422, "not UTF-8"),
        ({"file": ("r.csv", b"a,b\n", "text/csv")}, {}, 422, "no data rows"),
        ({"file": ("r.csv", b"x\n1\n", "text/csv")}, {"probabilities": "yes"}, 422, "true or"),
        ({"file": ("r.csv", b"beak\n1\n", "text/csv")}, {}, 422, "column 'beak'"),
        ({"file": ("r.csv", b"sepal length (cm)\n5\n", "text/csv")}, {}, 422, "absent"),
    ],
)
def test_bad_csv_rows_are_refused_naming_what_is_wrong(
    client: httpx.Client,
    finished_job: dict,
    files: dict | None,
    data: dict,
    status: int,
    message: str,
) -> None:
    url = f"/jobs/{finished_job['id']}/predict"
    if files is None:  # a form without the file
        r = client.post(url, data=data, files={"other": ("x", b"1")})
    else:
        r = client.post(url, files=files, data=data)
    assert r.status_code == status, r.text
    assert message in r.json()["message"]


def test_an_ensemble_job_serves_its_weighted_members(client: httpx.Client) -> None:
    spec = tiny_spec(trials=4, ensemble={"size": 6, "pool": 3})
    job = wait_job(client, submit(client, spec))
    job_id = job["id"]
    r = client.get(f"/jobs/{job_id}/model")
    assert r.status_code == 200
    ensemble = from_bytes(r.content)
    assert isinstance(ensemble, Ensemble) and json.loads(r.headers["x-model-meta"])["refit"]
    X = load_builtin("iris").X[:5]
    out = client.post(f"/jobs/{job_id}/predict", json={"rows": X.tolist(), "probabilities": True})
    assert out.status_code == 200, out.text
    assert out.json()["predictions"] == ensemble.predict(X).tolist()
    assert np.allclose(out.json()["probabilities"], ensemble.predict_proba(X), atol=1e-6)
    meta = client.get(f"/jobs/{job_id}/model/meta").json()
    members = meta["ensemble"]["members"]
    assert [m["number"] for m in members] == [i["number"] for i in ensemble.info]
    assert np.allclose([m["weight"] for m in members], ensemble.weights)
    assert meta["refit_test_metric"] == meta["ensemble"]["test_metric"]
    # the picture draws the heaviest member and lists them all
    picture = client.get(f"/jobs/{job_id}/model/weights").json()
    heaviest = int(np.argmax(ensemble.weights))
    assert picture["trial_id"] == job["best_trial_id"]
    assert picture["member"] == ensemble.info[heaviest]["number"]
    assert [m["number"] for m in picture["ensemble"]] == [m["number"] for m in members]
    shown = picture["layers"][1]["units"]
    assert shown == ensemble.members[heaviest].coefs_[0].shape[1]
