"""50 clients read the real API while Redis gets 200 publishes: no error, no empty list, no mix of versions,
and the old versions are gone at the end."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import redis

from pipeline.publish.redis.publish import VERSIONS_KEY, load_version, publish_redis
from pipeline.publish.warehouse import publish
from pipeline.read import REDIS_CURRENT, published_duckdb, serving_meta, serving_parts
from pipeline.settings import Settings
from tests.support.api import running_api
from tests.support.serving import version_of_build, versions_in, write_serving_build

pytestmark = pytest.mark.integration

CLIENTS = 50
PUBLISHES = 200
PAUSE = 0.05  # between a client's requests: 50 clients flat out would starve the publisher of the 2 cores
VERSIONS = (1, 2, 3)  # published in turn, so that consecutive versions always differ
PATHS = [
    "/v1/hot-products?season=winter&segment_type=gender&segment=male",
    "/v1/hot-products?season=spring&segment_type=region&segment=west&kind=category",
    "/v1/products/5/bought-together",
    "/v1/products/250/viewed-together",
    "/v1/kpis/latest",
    "/v1/customers/77",
]


def check(body: dict) -> int:
    """The one version a response shows; AssertionError when it is empty or mixes versions."""
    if "items" in body:
        assert body["items"], "empty hot list"
    if "related" in body:
        assert body["related"], "empty related list"
    if "user_id" in body:
        assert body["churn"] and body["lifetime_value"], "customer without scores"
    version = version_of_build(body["build_id"])
    assert versions_in(body) == {version}, (
        f"mixed read: {body['build_id']} but documents of {versions_in(body)}"
    )
    return version


def test_fifty_clients_through_two_hundred_publishes(redis_server, tmp_path):
    url = redis_server.new_url()
    store = redis.Redis.from_url(url, decode_responses=True)
    builds = {}
    for version in VERSIONS:
        settings = Settings.load(data_dir=tmp_path / f"v{version}", redis_url=url)
        write_serving_build(settings, version, customers=200)
        publish(settings)
        builds[version] = settings
    publish_redis(builds[1], store)  # the whole publish once; then its Redis half, from each version's parts
    loads = {}
    for version, settings in builds.items():
        with published_duckdb(settings) as con:
            loads[version] = (serving_meta(con), serving_parts(con))

    stop = threading.Event()
    errors: list[str] = []
    seen: Counter = Counter()
    lock = threading.Lock()

    def client_loop(api, n: int) -> None:
        with api.client() as client:
            i = n
            while not stop.is_set():
                path = PATHS[i % len(PATHS)]
                i += 1
                try:
                    response = client.get(path)
                    assert response.status_code == 200, f"{response.status_code} {response.text[:200]}"
                    assert response.headers["x-served-from"] == "redis"
                    version = check(response.json())
                    with lock:
                        seen[version] += 1
                except Exception as exc:  # every failure is recorded, the loop goes on
                    errors.append(f"{path}: {exc!r}"[:300])
                time.sleep(PAUSE)

    with running_api(builds[1].data_dir, {"ECOM_REDIS_URL": url}) as api:
        threads = [threading.Thread(target=client_loop, args=(api, n)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        try:
            for n in range(PUBLISHES):
                meta, parts = loads[VERSIONS[(n + 1) % len(VERSIONS)]]
                result = load_version(store, meta, parts, url)
                assert result.removed == [result.version - 1]  # the previous version, removed at once
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
    assert errors == [], errors[:5]
    assert len(seen) == len(VERSIONS) and sum(seen.values()) >= 4 * CLIENTS, seen
    current = store.get(REDIS_CURRENT)
    assert store.smembers(VERSIONS_KEY) == {current}
    leftovers = [k for k in store.scan_iter("ecom:v:*") if not k.startswith(f"ecom:v:{current}:")]
    assert leftovers == []
