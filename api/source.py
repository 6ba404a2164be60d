"""Where a response comes from: the current Redis version, else the published DuckDB file."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from pipeline.read import REDIS_READ_SCRIPT, PublishedFile, read_redis, redis_client, serving_part
from pipeline.settings import Settings


@dataclass(frozen=True)
class Served:
    source: str  # "redis" or "duckdb"
    meta: dict  # build_id, published_at, marts
    value: dict | None  # the document, None when the version holds none for the request

    @property
    def build_id(self) -> str:
        return self.meta["build_id"]


class Source:
    """Reads one document per request; the Redis client (and its connection pool) lives as long as the app."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._lock = threading.Lock()
        self._client = None
        self._script = None
        self._file = PublishedFile(settings)

    def _redis(self):
        with self._lock:
            if self._client is None:
                client = redis_client(self.settings)
                if client is None:
                    return None, None
                self._client, self._script = client, client.register_script(REDIS_READ_SCRIPT)
            return self._client, self._script

    def get(self, part: str, field: str = "") -> Served:
        import redis

        client, script = self._redis()
        if client is not None:
            try:
                found = read_redis(client, script, part, field)
            except redis.RedisError:
                found = None  # not running, restarting, or refusing us: the published file answers
                if not self.settings.redis_url:
                    with self._lock:  # the local server may come back with a new password
                        self._client = self._script = None
            if found is not None:
                meta, value = found
                return Served("redis", meta, json.loads(value) if value else None)
        with self._file.cursor() as (con, meta):
            value = serving_part(con, part, field, meta["marts"])
        return Served("duckdb", meta, json.loads(value) if value else None)
