"""Bad options for data-fraction fidelity, proxies and warm start are refused, field named."""

import pytest
from pydantic import ValidationError

from nas.spec import JobSpec


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        (
            {"fidelity": {"data_fraction": {"min": 0}}},
            "fidelity.data_fraction.min",
            "greater than 0",
        ),
        ({"fidelity": {"data_fraction": {"min": 1.5}}}, "fidelity.data_fraction.min", "1"),
        (
            {"fidelity": {"data_fraction": {"eta": 1}}},
            "fidelity.data_fraction.eta",
            "greater than 1",
        ),
        ({"fidelity": {"data_fractions": {}}}, "fidelity.data_fractions", "not permitted"),
        ({"proxy": {"width_scale": 0}}, "proxy.width_scale", "greater than 0"),
        ({"proxy": {"epochs": 0}}, "proxy.epochs", "greater than or equal to 1"),
        ({"proxy": {"keep": 1.2}}, "proxy.keep", "less than or equal to 1"),
        ({"proxy": {"pool": 1}}, "proxy.pool", "greater than or equal to 2"),
        ({"warm_start": {"top": 3}}, "warm_start.job_id", "required"),
        ({"warm_start": {"job_id": 0}}, "warm_start.job_id", "greater than or equal to 1"),
        ({"warm_start": {"job_id": 1, "top": 0}}, "warm_start.top", "greater than or equal to 1"),
    ],
)
def test_out_of_range_options_name_the_field(extra, field, words):
    with pytest.raises(ValidationError) as info:
        JobSpec.model_validate({"dataset": "iris", **extra})
    errors = {".".join(map(str, e["loc"])): e["msg"] for e in info.value.errors()}
    assert field in errors and words in errors[field], errors


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            {"fidelity": {"data_fraction": {}}, "stopping": {"policy": "none"}},
            "fidelity.data_fraction grows the data at rungs; stopping.policy 'none'",
        ),
        (
            {"proxy": {"epochs": 20}, "space": {"max_epochs": 10}},
            "proxy.epochs must lie within [1, space.max_epochs=10]; got 20",
        ),
    ],
)
def test_options_that_contradict_the_rest_of_the_spec_say_which(extra, words):
    with pytest.raises(ValidationError, match=words.replace("[", r"\[").replace(".", r"\.")):
        JobSpec.model_validate({"dataset": "iris", **extra})


def test_defaults_leave_every_option_off_and_the_examples_read_back():
    spec = JobSpec.model_validate({"dataset": "iris"})
    assert spec.fidelity.data_fraction is None and spec.proxy is None and spec.warm_start is None
    on = JobSpec.model_validate(
        {
            "dataset": "iris",
            "fidelity": {"data_fraction": {"min": 0.25, "eta": 2}},
            "proxy": {"width_scale": 0.25, "epochs": 5, "keep": 0.25},
            "warm_start": {"job_id": 12, "top": 5},
        }
    )
    assert JobSpec.model_validate(on.model_dump(mode="json")) == on
    assert on.proxy is not None and on.proxy.n_keep == 2  # a quarter of a pool of 8
