"""Property-based: the Trigger form's Params refuse bad values with an error naming the field."""

from __future__ import annotations

import copy
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.config import FAULT_KINDS, SCALES
from tests.support.ecom import REPO

FORM = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def params():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "ecommerce_generate_daily.py"))
    assert bag.import_errors == {}
    return bag.dags["ecommerce_generate_daily"].params


def refused(params, name: str, value) -> str:
    from airflow.sdk.definitions.param import ParamValidationError

    param = copy.deepcopy(params.get_param(name))
    with pytest.raises(ParamValidationError) as err:
        param.resolve(value)
    return str(err.value)


@FORM
@given(value=st.one_of(st.text(max_size=12).filter(lambda s: s not in SCALES), st.integers(), st.none()))
def test_scale_outside_the_presets(params, value):
    assert str(list(SCALES)) in refused(params, "scale", value)  # the form tells what is allowed


@FORM
@given(
    value=st.one_of(st.integers(max_value=-1), st.text(alphabet=string.ascii_letters, min_size=1, max_size=6))
)
def test_seed_not_a_non_negative_integer(params, value):
    refused(params, "seed", value)


@FORM
@given(
    kinds=st.lists(
        st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=15).filter(
            lambda s: s not in FAULT_KINDS
        ),
        min_size=1,
        max_size=3,
    )
)
def test_unknown_fault_kinds(params, kinds):
    refused(params, "inject", kinds)


@FORM
@given(kinds=st.lists(st.sampled_from(sorted(FAULT_KINDS)), unique=True, max_size=3))
def test_known_fault_kinds_are_accepted(params, kinds):
    param = copy.deepcopy(params.get_param("inject"))
    assert param.resolve(kinds) == kinds


def test_every_text_field_left_empty_submits():
    """The Trigger form sends a text field left empty as null: a Param that starts empty ("" or None) must take
    null, or the form's Trigger button stays disabled with the defaults (as the training DAG's `as_of` did)."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    assert len(bag.dags) >= 4
    empty = []
    for dag_id, dag in sorted(bag.dags.items()):
        for name in dag.params:
            param = copy.deepcopy(dag.params.get_param(name))
            if param.value in ("", None):
                empty.append(f"{dag_id}.{name}")
                assert param.resolve(None) is None, f"{dag_id}.{name}"
    assert empty  # the refresh's `select`, the generation's `day`, the training's `as_of`
    # the training form offers exactly the models `ecom train --model` knows
    from pipeline.train.models import MODELS

    models = bag.dags["ecommerce_models_train"].params.get_param("models")
    assert models.schema["items"]["enum"] == models.schema["examples"] == list(MODELS)
