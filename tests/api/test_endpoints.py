"""Every endpoint of the real API (`ecom api`) over a real Redis, and the same answers from its DuckDB fallback.

The reference is the published DuckDB file itself, read with plain SQL: what the marts say the lists are.
"""

from __future__ import annotations

import duckdb
import pytest

from tests.support.api import TEST_TOKEN, running_api
from tests.support.ecom import ecom, free_port
from tests.support.serving import LONELY, build_id_of, versions_in, write_serving_build

pytestmark = pytest.mark.integration

# One request per endpoint (and per kind of answer): served from Redis and from the fallback alike.
REQUESTS = [
    "/v1/hot-products?season=winter",
    "/v1/hot-products?season=summer&segment_type=gender&segment=female&kind=brand&limit=3",
    "/v1/hot-products?season=autumn&segment_type=age_band&segment=55%2B&kind=category",
    "/v1/products/17/bought-together",
    "/v1/products/17/viewed-together?limit=2",
    f"/v1/products/{LONELY}/bought-together",
    "/v1/kpis/latest",
    "/v1/customers/42",
]


@pytest.fixture(scope="module")
def published(redis_server, tmp_path_factory):
    """Version 3 of the serving marts, published by `ecom publish` to DuckDB and to a Redis database."""
    data_dir = tmp_path_factory.mktemp("api-endpoints")
    from pipeline.settings import Settings

    write_serving_build(Settings.load(data_dir=data_dir), 3)
    url = redis_server.new_url()
    proc = ecom("publish", data_dir=data_dir, env={"ECOM_REDIS_URL": url})
    assert "published build serving-build-v3 to Redis" in proc.stderr
    return data_dir, url


@pytest.fixture(scope="module")
def api(published):
    data_dir, url = published
    with running_api(data_dir, {"ECOM_REDIS_URL": url}) as server, server.client() as client:
        yield client


@pytest.fixture(scope="module")
def fallback_api(published):
    """The same data dir, its Redis not running (nothing listens on the port): the DuckDB fallback answers."""
    data_dir, _ = published
    closed = {"ECOM_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    with running_api(data_dir, closed) as server, server.client() as client:
        yield client


def mart(data_dir, query: str, params=()):
    con = duckdb.connect(str(data_dir / "warehouse" / "ecommerce.duckdb"), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def test_hot_products_are_the_latest_list_of_the_segment_and_season(api, published):
    data_dir, _ = published
    response = api.get("/v1/hot-products", params={"season": "summer", "segment_type": "gender",
                                                    "segment": "female", "kind": "brand", "limit": 3})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["x-served-from"] == "redis"
    assert response.headers["x-build-id"] == build_id_of(3)
    body = response.json()
    expected = mart(
        data_dir,
        """select rank, item_id, item_name, purchases from marts.dm_hot_products
           where segment_type = 'gender' and segment = 'female' and season = 'summer' and item_kind = 'brand'
             and as_of_date = (select max(as_of_date) from marts.dm_hot_products) and rank <= 3 order by rank""",
    )
    assert [(i["rank"], i["item_id"], i["item_name"], i["purchases"]) for i in body["items"]] == expected
    assert body["as_of_date"] == "2025-12-31" and "stale" not in body["items"][0]["item_name"]
    assert (body["segment"], body["season"], body["kind"], body["list_purchases"]) == (
        "female",
        "summer",
        "brand",
        20003,
    )
    assert versions_in(body) == {3}
    # every segment type answers, with the mart's thin flag
    thin = api.get(
        "/v1/hot-products", params={"season": "winter", "segment_type": "rfm_segment", "segment": "at_risk"}
    )
    assert thin.status_code == 200 and thin.json()["is_thin"] is True and len(thin.json()["items"]) == 10


def test_bought_and_viewed_together_follow_the_rank_of_the_affinity_mart(api, published):
    data_dir, _ = published
    for kind, path in (("bought_together", "bought-together"), ("viewed_together", "viewed-together")):
        body = api.get(f"/v1/products/17/{path}", params={"limit": 5}).json()
        expected = mart(
            data_dir,
            "select related_product_id, lift from marts.dm_product_affinity where kind = ? and product_id = 17 "
            "order by rank limit 5",
            [kind],
        )
        assert [(r["product_id"], r["lift"]) for r in body["related"]] == expected
        assert body["product_name"] == "product 17 v3" and body["kind"] == kind
    # a product the mart knows, with no bought-together pair above the minimum support: an empty list, not a 404
    lonely = api.get(f"/v1/products/{LONELY}/bought-together")
    assert lonely.status_code == 200 and lonely.json()["related"] == []
    assert len(api.get(f"/v1/products/{LONELY}/viewed-together").json()["related"]) == 1


def test_latest_kpis_and_customer_scores(api, published):
    data_dir, _ = published
    kpis = api.get("/v1/kpis/latest").json()
    ((latest, orders),) = mart(
        data_dir, "select kpi_date, orders from marts.dm_kpi_daily order by 1 desc limit 1"
    )
    assert (kpis["kpi_date"], kpis["orders"]) == (latest.isoformat(), orders)
    customer = api.get("/v1/customers/42").json()
    ((probability, band),) = mart(
        data_dir, "select churn_probability, risk_band from marts.dm_customer_churn where user_id = 42"
    )
    ((spend,),) = mart(
        data_dir, "select predicted_spend_365d from marts.dm_customer_lifetime_value where user_id = 42"
    )
    assert customer["churn"]["churn_probability"] == pytest.approx(probability)
    assert customer["churn"]["risk_band"] == band
    assert customer["lifetime_value"]["predicted_spend_365d"] == pytest.approx(spend)


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/v1/hot-products?season=monsoon", 422, "season: Input should be 'winter', 'spring', 'summer' or 'autumn'"),
        ("/v1/hot-products?season=winter&segment_type=shoe_size&segment=9", 422, "segment_type: Input should be"),
        ("/v1/hot-products?season=winter&limit=0", 422, "limit: Input should be greater than or equal to 1"),
        ("/v1/hot-products", 422, "season: Field required"),
        ("/v1/products/abc/bought-together", 422, "product_id: Input should be a valid integer"),
        ("/v1/customers/-4", 422, "user_id: Input should be greater than or equal to 0"),
        ("/v1/hot-products?season=winter&segment_type=gender&segment=robots", 404,
         "unknown segment 'robots' of segment_type gender (known: female, male)"),
        ("/v1/products/123456/bought-together", 404, "unknown product 123456"),
        ("/v1/customers/999999", 404, "unknown customer 999999"),
    ],
)  # fmt: skip
def test_bad_parameters_get_a_4xx_that_names_them(api, fallback_api, path, status, says):
    for client in (api, fallback_api):
        response = client.get(path)
        assert response.status_code == status, response.text
        assert says in response.json()["detail"]


def test_requests_without_the_token_are_refused(published, api):
    data_dir, url = published
    with running_api(data_dir, {"ECOM_REDIS_URL": url}) as server:
        for token in ("", "wrong-token"):
            with server.client(token=token) as client:
                response = client.get("/v1/kpis/latest")
                assert response.status_code == 401
                assert "bearer token" in response.json()["detail"]
                assert response.headers["www-authenticate"] == "Bearer"
        with server.client(token=TEST_TOKEN) as client:
            assert client.get("/v1/kpis/latest").status_code == 200
            docs = client.get("/docs")
            assert docs.status_code == 200 and "swagger" in docs.text.lower()
            paths = client.get("/openapi.json").json()["paths"]
            assert {"/v1/hot-products", "/v1/products/{product_id}/bought-together", "/v1/kpis/latest",
                    "/v1/customers/{user_id}"} <= set(paths)  # fmt: skip


def test_the_duckdb_fallback_serves_the_same_documents_and_says_so(api, fallback_api):
    for path in REQUESTS:
        from_redis, from_duckdb = api.get(path), fallback_api.get(path)
        assert from_redis.status_code == from_duckdb.status_code == 200, (path, from_duckdb.text)
        assert from_redis.headers["x-served-from"] == "redis"
        assert from_duckdb.headers["x-served-from"] == "duckdb"
        assert from_duckdb.json() == from_redis.json(), path
        assert from_duckdb.headers["x-build-id"] == build_id_of(3)
