"""The API (`ecom api`) on a free loopback port, and a Redis server started by `ecom redis`: shared by the API
tests (tests/api/) and the API benchmark (bench/api.py), so both check and measure servers started the way a
user starts them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.ecom import BIN, ecom, free_port

TEST_TOKEN = "test-token-0123456789"


@dataclass(frozen=True)
class Api:
    url: str
    token: str
    pid: int

    def client(self, token: str | None = None, **options) -> httpx.Client:
        token = self.token if token is None else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **options)


@contextlib.contextmanager
def running_api(data_dir: Path, env: dict[str, str] | None = None, timeout: float = 60) -> Iterator[Api]:
    """`ecom api` for `data_dir` on a free port, with the token TEST_TOKEN unless `env` sets one; stopped on exit."""
    port = free_port()
    full_env = {
        **os.environ,
        "ECOM_DATA_DIR": str(data_dir),
        "ECOM_API_PORT": str(port),
        "ECOM_API_TOKEN": TEST_TOKEN,
        **(env or {}),
    }
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(BIN / "ecom"), "api"], env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise AssertionError(f"ecom api exited {proc.returncode}:\n{log.read().decode()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(f"ecom api did not answer on {url} within {timeout:.0f}s")
                time.sleep(0.1)
            yield Api(url, full_env["ECOM_API_TOKEN"], proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclass
class RedisServer:
    """A local Redis server `ecom redis` started for `data_dir`; each user takes a database of its own."""

    data_dir: Path
    port: int
    password: str
    _next_db: int = 1

    def env(self) -> dict[str, str]:
        return {"ECOM_REDIS_PORT": str(self.port)}

    def new_url(self) -> str:
        """The URL of a database no one else uses (a publish's keys are per database)."""
        if self._next_db > 15:
            raise AssertionError("Redis has 16 databases: more users than that need a second server")
        db, self._next_db = self._next_db, self._next_db + 1
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"


@contextlib.contextmanager
def local_redis(data_dir: Path) -> Iterator[RedisServer]:
    port = free_port()
    env = {"ECOM_REDIS_PORT": str(port)}
    ecom("redis", data_dir=data_dir, env=env)
    try:
        password = (data_dir / "secrets" / "redis.password").read_text().strip()
        yield RedisServer(data_dir, port, password)
    finally:
        ecom("redis", "--stop", data_dir=data_dir, env=env, check=False)
