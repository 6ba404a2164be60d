"""A Redis publish killed with SIGKILL at any point leaves the previous version served, whole, through the API;
the killed version's keys expire on their own, and the next publish removes them."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
import redis

from pipeline.publish.redis.publish import SEQUENCE_KEY, VERSIONS_KEY
from pipeline.publish.warehouse import publish
from pipeline.read import REDIS_CURRENT
from pipeline.settings import Settings
from tests.reliability.killing import Reader
from tests.support.api import running_api
from tests.support.ecom import BIN, ecom
from tests.support.serving import version_of_build, versions_in, write_serving_build

pytestmark = pytest.mark.integration

CUSTOMERS = 60_000  # documents enough that loading them lasts long enough to be killed in the middle
DELAYS = (0.0, 0.1, 0.4)  # after the publish took its version number, i.e. started writing


def test_killed_redis_publish_leaves_the_previous_version_served(redis_server, tmp_path):
    url = redis_server.new_url()
    store = redis.Redis.from_url(url, decode_responses=True)
    settings = Settings.load(data_dir=tmp_path, redis_url=url)
    env = {"ECOM_DATA_DIR": str(tmp_path), "ECOM_REDIS_URL": url}
    write_serving_build(settings, 1, customers=CUSTOMERS)
    ecom("publish", data_dir=tmp_path, env=env)  # DuckDB and Redis serve version 1
    write_serving_build(settings, 2, customers=CUSTOMERS)
    publish(settings)  # the DuckDB file holds version 2; Redis still serves 1

    with running_api(tmp_path, {"ECOM_REDIS_URL": url}) as api, api.client() as client:

        def read() -> int:
            versions = set()
            for path in (
                "/v1/customers/77",
                "/v1/hot-products?season=winter",
                "/v1/products/9/bought-together",
            ):
                response = client.get(path)
                assert response.status_code == 200 and response.headers["x-served-from"] == "redis", (
                    response.text
                )
                body = response.json()
                assert versions_in(body) == {version_of_build(body["build_id"])}, body["build_id"]
                versions.add(version_of_build(body["build_id"]))
            assert len(versions) == 1, versions
            return versions.pop()

        outcomes = []
        with Reader(read, pause=0.01) as reader:
            for delay in DELAYS:
                before = int(store.get(SEQUENCE_KEY))
                proc = subprocess.Popen([str(BIN / "ecom"), "redis"], env={**os.environ, **env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
                deadline = time.monotonic() + 120
                while (
                    int(store.get(SEQUENCE_KEY)) == before
                    and proc.poll() is None
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.001)
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                code = proc.wait()
                served = read()
                outcomes.append((delay, code, served))
                assert served == 2 if code == 0 else served in (1, 2), outcomes
                if code != 0 and served == 1:
                    # the killed version is registered, and whatever it wrote expires by itself
                    killed = int(store.get(SEQUENCE_KEY))
                    assert str(killed) in store.smembers(VERSIONS_KEY)
                    assert all(store.ttl(k) > 0 for k in store.scan_iter(f"ecom:v:{killed}:*"))
        assert reader.errors == [], reader.errors[:5]
        assert set(reader.seen) <= {1, 2} and len(reader.seen) > 10
        assert (0.0, -signal.SIGKILL, 1) in outcomes, (
            outcomes
        )  # killed while writing: version 1 stayed served

        ecom("redis", data_dir=tmp_path, env=env)
        assert read() == 2
    current = store.get(REDIS_CURRENT)
    assert store.smembers(VERSIONS_KEY) == {current}
    assert [k for k in store.scan_iter("ecom:v:*") if not k.startswith(f"ecom:v:{current}:")] == []
