"""`ecom redis`, `ecom api` and the Redis step of `ecom publish` refuse bad input in one line (no server needed)."""

from __future__ import annotations

from pipeline.settings import Settings
from tests.support.ecom import ecom, free_port
from tests.support.serving import write_serving_build


def one_line(proc) -> str:
    (line,) = proc.stderr.strip().splitlines()
    return line


def test_bad_redis_settings_are_one_line_and_publish_carries_on(tmp_path):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    stop = ecom("redis", "--stop", data_dir=tmp_path, env={"ECOM_REDIS_URL": closed}, check=False)
    assert stop.returncode == 2
    assert "ECOM_REDIS_URL points at an external server" in one_line(stop)

    write_serving_build(Settings.load(data_dir=tmp_path), 1)
    # the DuckDB publish is what matters: an unreachable Redis is one line, and the marts are published
    published = ecom("publish", data_dir=tmp_path, env={"ECOM_REDIS_URL": closed})
    first, second = published.stderr.strip().splitlines()
    assert first.startswith("published build serving-build-v1 to ")
    assert second.startswith(f"Redis: cannot reach Redis at {closed}:")
    assert second.endswith("the API serves from the published DuckDB file")

    refused = ecom("redis", data_dir=tmp_path, env={"ECOM_REDIS_URL": closed}, check=False)
    assert refused.returncode == 2
    assert one_line(refused).startswith(f"ecom: cannot reach Redis at {closed}:")
    bad_url = ecom("redis", data_dir=tmp_path, env={"ECOM_REDIS_URL": "mysql://nowhere"}, check=False)
    assert bad_url.returncode == 2
    assert "ECOM_REDIS_URL is not a valid Redis URL" in one_line(bad_url)


def test_bad_api_settings_are_one_line(tmp_path):
    proc = ecom("api", data_dir=tmp_path, env={"ECOM_API_PORT": "80"}, check=False)
    assert proc.returncode == 2
    assert (
        one_line(proc) == "ecom: api port must be an integer from 1024 to 65535, got 80 (from ECOM_API_PORT)"
    )
