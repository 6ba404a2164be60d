"""`ecom redis` runs Debian's redis-server as the project's own: loopback, a password, no persistence; `ecom
publish` follows it while it runs and says in one line when it does not; the API falls back when it stops."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import redis

from pipeline.settings import Settings
from tests.support.api import running_api
from tests.support.ecom import ecom, free_port
from tests.support.serving import write_serving_build

pytestmark = pytest.mark.integration


def test_local_redis_lifecycle_publish_and_fallback(redis_bin, tmp_path):
    port = free_port()
    env = {"ECOM_REDIS_PORT": str(port)}
    write_serving_build(Settings.load(data_dir=tmp_path), 4)
    ecom("publish", data_dir=tmp_path, env=env)
    started = ecom("redis", data_dir=tmp_path, env=env)
    try:
        assert f"started the local Redis server on 127.0.0.1:{port}" in started.stderr
        assert "published build serving-build-v4 to Redis" in started.stderr
        secret = tmp_path / "secrets" / "redis.password"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "redis" / "redis.conf").stat().st_mode) == 0o600
        password = secret.read_text().strip()
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port).get("ecom:current")
        server = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True)
        assert server.config_get("save")["save"] == ""
        assert server.config_get("appendonly")["appendonly"] == "no"
        assert server.config_get("bind")["bind"] == "127.0.0.1"
        assert password not in " ".join(
            Path(f"/proc/{pid}/cmdline").read_text() for pid in _redis_pids(tmp_path)
        )

        again = ecom("redis", data_dir=tmp_path, env=env)
        assert "reusing the local Redis server" in again.stderr
        other = ecom("redis", data_dir=tmp_path, env={"ECOM_REDIS_PORT": str(free_port())}, check=False)
        assert other.returncode == 2
        assert f"the local Redis server already runs on port {port}" in other.stderr

        write_serving_build(Settings.load(data_dir=tmp_path), 5)
        published = ecom("publish", data_dir=tmp_path, env=env)
        assert f"published build serving-build-v5 to Redis redis://127.0.0.1:{port}" in published.stderr

        with running_api(tmp_path, env) as api, api.client() as client:
            response = client.get("/v1/kpis/latest")
            assert response.headers["x-served-from"] == "redis" and response.json()["orders"] == 5
            stopped = ecom("redis", "--stop", data_dir=tmp_path, env=env)
            assert "stopped the local Redis server" in stopped.stderr
            response = client.get("/v1/kpis/latest")  # the same API process: Redis has gone away
            assert response.status_code == 200
            assert response.headers["x-served-from"] == "duckdb" and response.json()["orders"] == 5
        assert _redis_pids(tmp_path) == []
        assert (
            "the local Redis server is not running"
            in ecom("redis", "--stop", data_dir=tmp_path, env=env).stderr
        )
        quiet = ecom("publish", data_dir=tmp_path, env=env)
        assert (
            quiet.stderr.count("Redis") == 1 and "Redis: not running (`ecom redis` starts it)" in quiet.stderr
        )
    finally:
        if _redis_pids(tmp_path):
            ecom("redis", "--stop", data_dir=tmp_path, env=env, check=False)


def _redis_pids(data_dir) -> list[int]:
    try:
        pid = int((data_dir / "redis" / "redis.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return []
    return [pid] if os.path.exists(f"/proc/{pid}") else []
