"""The API tests' servers: one real Redis (started by `ecom redis`) for the session; each test module takes a
database of its own, and starts the real API (`ecom api`, uvicorn) it talks to."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.support.api import local_redis


@pytest.fixture(scope="session")
def redis_server(redis_bin):
    data_dir = Path(tempfile.mkdtemp(prefix="ecom-redis-"))
    try:
        with local_redis(data_dir) as server:
            yield server
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
