"""Data set uploads over HTTP: CSV validated and stored; every bad file is a 4xx."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.api.util import Server, iris_csv, submit, tiny_spec, wait_job


def _first_cell(payload: bytes, value: bytes) -> bytes:
    """The CSV with its first data row's first cell replaced by `value`."""
    header, first, rest = payload.split(b"\n", 2)
    return b"\n".join([header, value + first[first.index(b",") :], rest])


def _upload(client: httpx.Client, payload: bytes, **form: str) -> httpx.Response:
    data = {"target": "species"} | form
    return client.post("/datasets", files={"file": ("iris.csv", payload, "text/csv")}, data=data)


def test_upload_then_search_and_predict_on_it(client: httpx.Client) -> None:
    r = _upload(client, iris_csv(90))
    assert r.status_code == 201, r.text
    ds = r.json()
    assert ds["n_rows"] == 90 and ds["n_features"] == 4 and ds["task"] == "classification"
    assert ds["classes"] == ["setosa", "versicolor", "virginica"]
    assert client.get(f"/datasets/{ds['id']}").json()["feature_names"][0] == "sepal_l"
    assert any(d["id"] == ds["id"] for d in client.get("/datasets").json()["items"])
    job = wait_job(client, submit(client, tiny_spec(dataset={"id": ds["id"]}, trials=2)))
    assert job["status"] == "finished", job["error"]
    out = client.post(f"/jobs/{job['id']}/predict", json={"rows": [[5.1, 3.5, 1.4, 0.2]]}).json()
    assert out["predictions"][0] in ds["classes"]


def test_text_columns_are_encoded_by_default_or_refused(client: httpx.Client) -> None:
    lines = ["size,colour,species"] + [
        f"{i % 7},{['red', 'blue', 'None'][i % 3]},{['a', 'b'][i % 2]}" for i in range(20)
    ]
    payload = "\n".join(lines).encode()
    r = _upload(client, payload)
    assert r.status_code == 201, r.text
    assert r.json()["feature_names"] == ["size", "colour"]  # raw columns are stored
    colour = r.json()["columns"][1]
    assert colour["role"] == "categorical" and colour["levels"] == ["None", "blue", "red"]
    refused = _upload(client, payload, categorical="refuse")
    assert refused.status_code == 422
    assert (
        "'colour' is not numeric (e.g. 'red', row 2); upload with categorical=auto"
        in (refused.json()["message"])
    )


def test_missing_values_imputed_by_default_or_refused(client: httpx.Client) -> None:
    payload = _first_cell(iris_csv(30), b"")
    r = _upload(client, payload)
    assert r.status_code == 201 and r.json()["columns"][0]["missing"] == 1
    refused = _upload(client, payload, missing="refuse")
    assert refused.status_code == 422 and "missing value in column 'sepal_l', row 2" in refused.text
    assert _upload(client, payload, missing="impute").status_code == 201  # the old name


@pytest.mark.parametrize(
    ("payload", "form", "message"),
    [
        (b"", {}, "empty"),
        (b"a,b,species\n1,2,3,4\n", {}, "row 2 has 4 cells; the header has 3"),
        (b"\xff\xfe\x00garbage", {}, "UTF-8"),
        (_first_cell(iris_csv(30), b"5.x"), {"categorical": "refuse"}, "not numeric"),
        (_first_cell(iris_csv(30), b"NaN"), {"missing": "refuse"}, "missing value"),
        (_first_cell(iris_csv(30), b"-inf"), {}, "non-finite"),
        (b"x,species\n" + b"1,a\n" * 12, {}, "single class"),
        (b"x,y\n" + b"1,2\n" * 12, {}, "target column 'species'"),
        (b'a,species\n"unclosed,1\n', {}, "malformed CSV"),
    ],
)
def test_bad_csv_is_422_with_a_message(
    client: httpx.Client, payload: bytes, form: dict[str, str], message: str
) -> None:
    r = _upload(client, payload, **form)
    assert r.status_code == 422, r.text
    assert message in r.json()["message"] and r.json()["errors"][0]["field"] == "file"


def test_missing_form_fields_are_422(client: httpx.Client) -> None:
    r = client.post("/datasets", files={"file": ("x.csv", b"a,b\n", "text/csv")})
    assert r.status_code == 422 and any(e["field"] == "target" for e in r.json()["errors"])
    r = _upload(client, iris_csv(30), categorical="maybe")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "categorical"


def test_oversized_upload_is_413(serve: Callable[..., Server]) -> None:
    server = serve(max_upload_bytes=4096, runner=False)
    with httpx.Client(base_url=server.api) as client:
        r = _upload(client, iris_csv(150) * 4)  # over the file limit
        assert r.status_code == 413 and "larger than the upload limit" in r.json()["message"]
        r = _upload(client, iris_csv(150) * 40)  # over the request body limit
        assert r.status_code == 413 and "too large" in r.json()["message"]
        assert _upload(client, iris_csv(30)).status_code == 201


def test_unknown_dataset_is_404(client: httpx.Client) -> None:
    r = client.get("/datasets/987654")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "dataset_id"
