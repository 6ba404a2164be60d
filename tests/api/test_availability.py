"""A mart the published version does not hold is "not available" (a 503 naming it), never a 500; nothing
published at all is a 503 saying so; a Redis with no version yet falls back to the DuckDB file."""

from __future__ import annotations

import pytest

from pipeline.settings import Settings
from tests.support.api import running_api
from tests.support.ecom import ecom
from tests.support.serving import build_id_of, write_serving_build

pytestmark = pytest.mark.integration


def test_marts_missing_from_the_published_version_are_named(redis_server, tmp_path):
    """A build without the predictive marts (as before they are merged), then one without the product marts."""
    settings = Settings.load(data_dir=tmp_path)
    url = redis_server.new_url()
    write_serving_build(settings, 5, predictive=False)
    ecom("publish", data_dir=tmp_path, env={"ECOM_REDIS_URL": url})
    with running_api(tmp_path, {"ECOM_REDIS_URL": url}) as api, api.client() as client:
        customer = client.get("/v1/customers/1")
        assert customer.status_code == 503
        assert (
            "dm_customer_churn or dm_customer_lifetime_value is not in the published marts"
            in customer.json()["detail"]
        )
        assert customer.headers["x-served-from"] == "redis"
        assert client.get("/v1/hot-products?season=winter").status_code == 200

        write_serving_build(settings, 6, products=False)
        ecom("publish", data_dir=tmp_path, env={"ECOM_REDIS_URL": url})
        for path, mart in (
            ("/v1/hot-products?season=winter", "dm_hot_products"),
            ("/v1/products/3/bought-together", "dm_product_affinity"),
            ("/v1/products/3/viewed-together", "dm_product_affinity"),
        ):
            response = client.get(path)
            assert response.status_code == 503, response.text
            assert (
                f"{mart} is not in the published marts (build {build_id_of(6)})" in response.json()["detail"]
            )
        assert client.get("/v1/customers/1").json()["churn"]["model_version"] == "v6"


def test_nothing_published_is_a_503_and_an_empty_redis_falls_back_to_duckdb(redis_server, tmp_path):
    url = redis_server.new_url()  # a database no publish has written to
    with running_api(tmp_path, {"ECOM_REDIS_URL": url}) as api, api.client() as client:
        response = client.get("/v1/kpis/latest")
        assert response.status_code == 503
        assert "no published marts yet" in response.json()["detail"]
        write_serving_build(Settings.load(data_dir=tmp_path), 7)
        proc = ecom("publish", data_dir=tmp_path)  # no Redis configured for this publish: DuckDB only
        assert "Redis: not running (`ecom redis` starts it)" in proc.stderr
        response = client.get("/v1/kpis/latest")
        assert response.status_code == 200
        assert response.headers["x-served-from"] == "duckdb"
        assert response.json()["orders"] == 7
        write_serving_build(Settings.load(data_dir=tmp_path), 8)
        ecom(
            "publish", data_dir=tmp_path
        )  # replaces the file the fallback holds open: the next request sees it
        response = client.get("/v1/kpis/latest")
        assert response.json()["orders"] == 8 and response.headers["x-build-id"] == build_id_of(8)


def test_the_refresh_dags_redis_step_publishes_when_redis_serves_and_says_why_not_otherwise(
    redis_server, tmp_path, monkeypatch
):
    from pipeline.orchestration.tasks import publish_redis

    write_serving_build(Settings.load(data_dir=tmp_path), 8)
    ecom("publish", data_dir=tmp_path)
    monkeypatch.setenv("ECOM_DATA_DIR", str(tmp_path))
    skipped = publish_redis()
    assert skipped["published"] is False and "Redis: not running" in skipped["reason"]
    url = redis_server.new_url()
    monkeypatch.setenv("ECOM_REDIS_URL", url)
    done = publish_redis()
    assert (
        done["published"] is True
        and done["build_id"] == build_id_of(8)
        and done["documents"]["customers"] == 500
    )
    with running_api(tmp_path, {"ECOM_REDIS_URL": url}) as api, api.client() as client:
        response = client.get("/v1/customers/3")
        assert (
            response.headers["x-served-from"] == "redis" and response.json()["churn"]["model_version"] == "v8"
        )
