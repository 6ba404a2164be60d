"""The generation DAG's `market` Param: the form offers the markets and refuses anything else."""

from __future__ import annotations

import copy

import pytest

from generator.markets import MARKETS
from tests.support.ecom import REPO


@pytest.fixture(scope="module")
def params():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags" / "ecommerce_generate_daily.py"))
    assert bag.import_errors == {}
    return bag.dags["ecommerce_generate_daily"].params


@pytest.mark.parametrize("value", ["fr", "US", "", None, 1])
def test_unknown_markets_are_refused(params, value):
    from airflow.sdk.definitions.param import ParamValidationError

    param = copy.deepcopy(params.get_param("market"))
    with pytest.raises(ParamValidationError) as err:
        param.resolve(value)
    assert str(list(MARKETS)) in str(err.value)  # the form tells what is allowed


def test_the_markets_are_offered_with_the_settings_default(params):
    param = copy.deepcopy(params.get_param("market"))
    assert param.schema["enum"] == list(MARKETS)
    assert param.resolve() == "us"  # ECOM_MARKET is unset in tests
    assert param.resolve("kr") == "kr"
