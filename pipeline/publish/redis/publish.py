"""Load the published marts into Redis as a new version and switch readers to it atomically.

A publish takes the next version number, registers it, writes every part (`pipeline.read.serving_parts`) under
`ecom:v:<n>:` with a time to live, then runs one Lua script that checks every part is there, makes the keys
permanent, writes the version's meta and points `ecom:current` at it. Readers read `current`, the meta and their
document in one Lua script too (`pipeline.read.REDIS_READ_SCRIPT`), so a reader sees one whole version, and
removing the older versions right after the switch cannot pull a list from under it. A publish killed at any
point leaves `current` on the previous version; its half-written keys expire, and the next publish removes them.
Versions only move forward: a publish that finishes after a later one has switched steps aside.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from pipeline.errors import PublishRefused
from pipeline.publish.redis.server import LocalRedis, RedisError, redis_password
from pipeline.read import (
    PART_MARTS,
    REDIS_CURRENT,
    REDIS_PREFIX,
    published_duckdb,
    serving_meta,
    serving_parts,
)
from pipeline.records import write_json_atomic
from pipeline.settings import Settings

SEQUENCE_KEY = REDIS_PREFIX + "version_seq"
VERSIONS_KEY = REDIS_PREFIX + "versions"  # every version written and not yet removed, also unfinished ones
PENDING_TTL = 3600  # seconds an unfinished version's keys live if no later publish removes them
CHUNK = 1000  # hash fields per HSET
BATCH = 10  # HSETs per MULTI/EXEC: each batch holds readers up for a few milliseconds at most
REDIS_PUBLISH_STATE = "redis_published.json"

NEW_VERSION_SCRIPT = """
local version = redis.call('INCR', KEYS[1])
redis.call('SADD', KEYS[2], version)
return version
"""

SWITCH_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) > tonumber(ARGV[2]) then return 0 end
local prefix = ARGV[1] .. 'v:' .. ARGV[2] .. ':'
for i = 4, #ARGV do
  if redis.call('EXISTS', prefix .. ARGV[i]) == 0 then return -1 end
end
for i = 4, #ARGV do redis.call('PERSIST', prefix .. ARGV[i]) end
redis.call('SET', prefix .. 'meta', ARGV[3])
redis.call('SET', KEYS[1], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class RedisPublishResult:
    build_id: str
    version: int
    target: str
    documents: dict[str, int]  # part -> documents written
    removed: list[int]  # older versions removed after the switch
    seconds: float


def redis_configured(settings: Settings) -> bool:
    """Redis serving is on when ECOM_REDIS_URL names a server or `ecom redis` left the local one running."""
    return bool(settings.redis_url) or LocalRedis.for_settings(settings).running()


def describe_target(settings: Settings) -> str:
    if settings.redis_url:
        from urllib.parse import urlsplit

        url = urlsplit(settings.redis_url)
        return f"{url.scheme}://{url.hostname or 'localhost'}:{url.port or 6379}{url.path or ''}"
    port = LocalRedis.for_settings(settings).running_port() or settings.redis_port
    return f"redis://127.0.0.1:{port}"


def connect(settings: Settings):
    import redis

    options = {"socket_connect_timeout": 5, "socket_timeout": 60, "decode_responses": True}
    if settings.redis_url:
        try:
            client = redis.Redis.from_url(settings.redis_url, **options)
        except ValueError as exc:
            raise RedisError(f"ECOM_REDIS_URL is not a valid Redis URL: {exc}") from None
    else:
        port = LocalRedis.for_settings(settings).running_port() or settings.redis_port
        client = redis.Redis(host="127.0.0.1", port=port, password=redis_password(settings), **options)
    try:
        client.ping()
    except redis.RedisError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RedisError(f"cannot reach Redis at {describe_target(settings)}: {first}") from None
    return client


def publish_redis(settings: Settings, client=None) -> RedisPublishResult:
    """Load the published DuckDB file's lists into Redis as a new version and switch readers to it."""
    if not settings.publish_db.exists():
        raise PublishRefused(
            f"no published marts yet at {settings.publish_db} (run `ecom run`, or `ecom build` and `ecom publish`)"
        )
    started = time.perf_counter()
    with published_duckdb(settings) as con:
        meta = serving_meta(con)
        parts = serving_parts(con)
    result = load_version(client or connect(settings), meta, parts, describe_target(settings), started)
    write_json_atomic(
        settings.warehouse_dir / REDIS_PUBLISH_STATE,
        {
            "build_id": result.build_id,
            "version": result.version,
            "target": result.target,
            "documents": result.documents,
            "seconds": round(result.seconds, 2),
        },
    )
    return result


def load_version(
    client, meta: dict, parts: dict, target: str, started: float | None = None
) -> RedisPublishResult:
    """Write `parts` (`pipeline.read.serving_parts`) as a new version, switch to it, remove the older ones."""
    import json

    started = time.perf_counter() if started is None else started
    parts = {name: value for name, value in parts.items() if value}
    # numbered and registered in one step, before any data: a killed publish is found and removed
    version = int(client.register_script(NEW_VERSION_SCRIPT)(keys=[SEQUENCE_KEY, VERSIONS_KEY]))
    prefix = f"{REDIS_PREFIX}v:{version}:"
    # MULTI/EXEC batches: a key and its time to live arrive together, whatever point a kill lands at
    pipe = client.pipeline(transaction=True)
    queued = 0
    for name, value in parts.items():
        key = prefix + name
        if isinstance(value, dict):
            fields = list(value.items())
            for i in range(0, len(fields), CHUNK):
                pipe.hset(key, mapping=dict(fields[i : i + CHUNK]))
                if i == 0:
                    pipe.expire(key, PENDING_TTL)
                queued += 1
                if queued >= BATCH:
                    pipe.execute()
                    queued = 0
        else:
            pipe.set(key, value, ex=PENDING_TTL)
            queued += 1
    pipe.execute()
    meta = {**meta, "version": version, "redis_published_at": _now()}
    switch = client.register_script(SWITCH_SCRIPT)
    outcome = switch(keys=[REDIS_CURRENT], args=[REDIS_PREFIX, version, json.dumps(meta), *parts])
    if outcome == -1:
        _remove(client, [version])
        raise RedisError(
            f"Redis version {version} lost keys while it was written (evicted?); nothing was switched"
        )
    if outcome == 0:  # a later publish switched first: it serves newer data, this version is not needed
        _remove(client, [version])
        removed = []
    else:
        removed = sorted(int(v) for v in client.smembers(VERSIONS_KEY) if int(v) < version)
        _remove(client, removed)
    return RedisPublishResult(
        meta["build_id"],
        version,
        target,
        {name: len(v) if isinstance(v, dict) else 1 for name, v in parts.items()},
        removed,
        time.perf_counter() - started,
    )


def _remove(client, versions: list[int]) -> None:
    for version in versions:
        prefix = f"{REDIS_PREFIX}v:{version}:"
        client.unlink(prefix + "meta", *(prefix + name for name in PART_MARTS))
        client.srem(VERSIONS_KEY, version)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def publish_if_serving(settings: Settings) -> RedisPublishResult | str:
    """The publish when Redis serving is on, else the one line saying why it was skipped (the API then serves
    from the DuckDB file): Redis is optional serving, like PostgreSQL for BI tools."""
    if not redis_configured(settings):
        return "Redis: not running (`ecom redis` starts it); the API serves from the published DuckDB file"
    try:
        return publish_redis(settings)
    except RedisError as exc:
        return f"Redis: {exc}; the API serves from the published DuckDB file"
