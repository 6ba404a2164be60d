"""What the dashboard, the API and other readers read the published marts through.

Readers open, query and close per request. A DuckDB reader attaches the published file to an in-memory
database of its own, so it always opens the file that is published now (never a cached instance on a replaced
file) and never holds anything a publish waits for.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping

from pipeline.errors import PublishRefused
from pipeline.settings import Settings

MART_SCHEMA = "marts"
META_SCHEMA = "ecom_meta"
_NAMED_PARAM = re.compile(r"%\((\w+)\)s")


@contextlib.contextmanager
def published_duckdb(settings: Settings) -> Iterator:
    """A read-only connection to the published file, with `marts.*` resolving in it; closed on exit."""
    import duckdb

    if not settings.publish_db.exists():
        raise PublishRefused(f"no published marts yet at {settings.publish_db} (run `ecom run`)")
    # An in-memory instance of its own (see the module docstring), one thread: readers are many and small.
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute(f"attach '{settings.publish_db}' as ecommerce (read_only)")
        con.execute("use ecommerce")
        yield con
    finally:
        con.close()


def read_marts(settings: Settings, query: str, params: Mapping | None = None):
    """Run one query against the published marts and return a DataFrame.

    The query is written once for both engines, with `%(name)s` parameters: it goes to PostgreSQL when
    `ECOM_DASHBOARD_DSN` is set, else to the published DuckDB file.
    """
    import pandas as pd

    params = dict(params or {})
    if settings.dashboard_dsn:
        import psycopg

        with psycopg.connect(settings.dashboard_dsn, autocommit=True) as con, con.cursor() as cur:
            cur.execute(query, params)
            columns = [d.name for d in cur.description]
            return pd.DataFrame(cur.fetchall(), columns=columns)
    with published_duckdb(settings) as con:
        duck_query = _NAMED_PARAM.sub(lambda m: "$" + m.group(1), query)
        used = {k: v for k, v in params.items() if f"%({k})s" in query}
        return con.execute(duck_query, used).df()


# ------------------------------------------------------------------------------------------ serving lists
# What the HTTP API serves, shaped once for both of its sources: the Redis publish loads every part below as one
# version (pipeline/publish/redis), and the API's fallback computes the one part it needs from the published
# DuckDB file. Each value is a JSON document; a part is either one document or a hash of them by field.

HOT_MART = "dm_hot_products"
AFFINITY_MART = "dm_product_affinity"
KPI_MART = "dm_kpi_daily"
CHURN_MART = "dm_customer_churn"
VALUE_MART = "dm_customer_lifetime_value"
SEGMENT_TYPES = ("all", "gender", "age_band", "region", "rfm_segment")
SEASONS = ("winter", "spring", "summer", "autumn")
ITEM_KINDS = ("product", "brand", "category")
PAIR_KINDS = ("bought_together", "viewed_together")
RELATED_LIMIT = 20  # related products kept per product and kind (by rank)
# part -> the marts it is made from (all of them must be published for the part to exist)
PART_MARTS = {
    "hot": (HOT_MART,),
    "hot_index": (HOT_MART,),
    "bought_together": (AFFINITY_MART,),
    "viewed_together": (AFFINITY_MART,),
    "products": (AFFINITY_MART,),
    "kpis": (KPI_MART,),
    "customers": (CHURN_MART, VALUE_MART),  # either one is enough
}
HASH_PARTS = ("hot", "bought_together", "viewed_together", "products", "customers")


def hot_field(segment_type: str, segment: str, season: str, kind: str) -> str:
    return f"{segment_type}|{segment}|{season}|{kind}"


def published_marts(con) -> set[str]:
    """The marts in the published file `con` is attached to (as `ecommerce`, by `published_duckdb`)."""
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = 'ecommerce' and schema_name = ?",
        [MART_SCHEMA],
    ).fetchall()
    return {r[0] for r in rows}


def serving_meta(con) -> dict:
    """What a served version says about itself: the build, when it was published, the marts it holds."""
    build_id, published_at = con.execute(
        f"select build_id, strftime(published_at, '%Y-%m-%dT%H:%M:%S') from {META_SCHEMA}.publication"
    ).fetchone()
    return {"build_id": build_id, "published_at": published_at, "marts": sorted(published_marts(con))}


def part_available(part: str, marts) -> bool:
    return any(m in marts for m in PART_MARTS[part])


# The documents are built by DuckDB itself (`to_json` of structs and ordered lists): one query per part.


def _hot(con, field: str | None) -> dict[str, str]:
    where, params = "", []
    if field is not None:
        parts = field.split("|")
        if len(parts) != 4:
            return {}
        where, params = "where segment_type = ? and segment = ? and season = ? and item_kind = ?", parts
    rows = con.execute(
        f"""with latest as (
                select * from {MART_SCHEMA}.{HOT_MART} {where}
                qualify as_of_date = max(as_of_date) over (partition by segment_type, segment, season, item_kind)
            )
            select concat_ws('|', segment_type, segment, season, item_kind),
                   to_json({{
                       'segment_type': segment_type, 'segment': segment, 'season': season, 'kind': item_kind,
                       'as_of_date': any_value(as_of_date), 'list_purchases': any_value(list_purchases),
                       'is_thin': bool_or(is_thin),
                       'items': list({{'rank': rank, 'item_id': item_id, 'item_name': item_name,
                                       'purchases': purchases}} order by rank)
                   }})
            from latest group by segment_type, segment, season, item_kind""",
        params,
    ).fetchall()
    return dict(rows)


def _hot_index(con) -> str:
    """The segments of each segment type: what a 404 names as known."""
    return con.execute(
        f"""select to_json(map(list(segment_type order by segment_type), list(segments order by segment_type)))
            from (select segment_type, list(distinct segment order by segment) as segments
                  from {MART_SCHEMA}.{HOT_MART} group by segment_type)"""
    ).fetchone()[0]


def _related(con, kind: str, product_id: int | None) -> dict[str, str]:
    where, params = "where kind = ? and rank <= ?", [kind, RELATED_LIMIT]
    if product_id is not None:
        where += " and product_id = ?"
        params.append(product_id)
    rows = con.execute(
        f"""select cast(product_id as varchar),
                   to_json({{
                       'product_id': product_id, 'product_name': any_value(product_name), 'kind': any_value(kind),
                       'related': list({{'rank': rank, 'product_id': related_product_id,
                                         'product_name': related_product_name, 'support': support,
                                         'support_share': support_share, 'confidence': confidence,
                                         'lift': lift}} order by rank)
                   }})
            from {MART_SCHEMA}.{AFFINITY_MART} {where} group by product_id""",
        params,
    ).fetchall()
    return dict(rows)


def _products(con, product_id: int | None) -> dict[str, str]:
    """Every product the affinity mart knows (on either side of a pair), with its name."""
    where, params = ("", []) if product_id is None else ("where product_id = ?", [product_id])
    rows = con.execute(
        f"""select cast(product_id as varchar),
                   to_json({{'product_id': product_id, 'product_name': any_value(product_name)}})
            from (select product_id, product_name from {MART_SCHEMA}.{AFFINITY_MART}
                  union all
                  select related_product_id, related_product_name from {MART_SCHEMA}.{AFFINITY_MART})
            {where} group by product_id""",
        params,
    ).fetchall()
    return dict(rows)


def _kpis(con) -> str | None:
    row = con.execute(
        f"select to_json(k) from {MART_SCHEMA}.{KPI_MART} as k order by kpi_date desc limit 1"
    ).fetchone()
    return row[0] if row else None


def _customers(con, marts, user_id: int | None) -> dict[str, str]:
    """{user_id, churn: the dm_customer_churn row, lifetime_value: the dm_customer_lifetime_value row}."""
    where = "" if user_id is None else f"where user_id = {int(user_id)}"
    sides = [
        (key, f"(select user_id, r as doc from {MART_SCHEMA}.{mart} as r {where})")
        for mart, key in ((CHURN_MART, "churn"), (VALUE_MART, "lifetime_value"))
        if mart in marts
    ]
    if len(sides) == 2:
        (k1, q1), (k2, q2) = sides
        source = f"{q1} as a full join {q2} as b using (user_id)"
        docs = f"'{k1}': a.doc, '{k2}': b.doc"
    else:
        (key, query), other = sides[0], "lifetime_value" if sides[0][0] == "churn" else "churn"
        source, docs = f"{query} as a", f"'{key}': a.doc, '{other}': null"
    rows = con.execute(
        f"select cast(user_id as varchar), to_json({{'user_id': user_id, {docs}}}) from {source}"
    ).fetchall()
    return dict(rows)


def serving_parts(con) -> dict[str, str | dict[str, str]]:
    """Every part the API serves, from the published marts there are (for the Redis publish)."""
    marts = published_marts(con)
    parts: dict[str, str | dict[str, str]] = {}
    if HOT_MART in marts:
        parts["hot"] = _hot(con, None)
        parts["hot_index"] = _hot_index(con)
    if AFFINITY_MART in marts:
        for kind in PAIR_KINDS:
            parts[kind] = _related(con, kind, None)
        parts["products"] = _products(con, None)
    if KPI_MART in marts:
        kpis = _kpis(con)
        if kpis is not None:
            parts["kpis"] = kpis
    if part_available("customers", marts):
        parts["customers"] = _customers(con, marts, None)
    return parts


def serving_part(con, part: str, field: str = "", marts=None) -> str | None:
    """One document of one part, straight from the published file (the API's fallback); None when absent.
    `marts`: the file's marts when the caller knows them (its `serving_meta`)."""
    marts = published_marts(con) if marts is None else set(marts)
    if not part_available(part, marts):
        return None
    if part == "hot":
        return _hot(con, field).get(field)
    if part == "hot_index":
        return _hot_index(con)
    if part == "kpis":
        return _kpis(con)
    try:
        key = int(field)
    except ValueError:
        return None
    if part == "products":
        return _products(con, key).get(field)
    if part in PAIR_KINDS:
        return _related(con, part, key).get(field)
    if part == "customers":
        return _customers(con, marts, key).get(field)
    raise ValueError(f"unknown serving part {part!r}")


# ------------------------------------------------------------------------------------------ Redis
# Key layout (prefix `ecom:`): `current` names the served version; a version's keys are `v:<n>:meta` (its
# build, published_at and marts, written by the switch itself) and `v:<n>:<part>` (a string, or a hash of
# documents by field). A reader reads `current`, the meta and the document in one Lua script: Redis runs a
# script atomically, so no publish can switch or delete a version in the middle of a read.

REDIS_PREFIX = "ecom:"
REDIS_CURRENT = REDIS_PREFIX + "current"
REDIS_PASSWORD_FILE = "redis.password"  # under settings.secrets_dir; generated by `ecom redis`
REDIS_READ_SCRIPT = """
local version = redis.call('GET', KEYS[1])
if not version then return false end
local prefix = ARGV[1] .. 'v:' .. version .. ':'
local meta = redis.call('GET', prefix .. 'meta')
if not meta then return false end
local value
if ARGV[3] == '' then
  value = redis.call('GET', prefix .. ARGV[2])
else
  value = redis.call('HGET', prefix .. ARGV[2], ARGV[3])
end
return {meta, value}
"""


def redis_client(settings: Settings):
    """A client of the Redis server the API reads: ECOM_REDIS_URL, else the local one (`ecom redis`) once its
    password exists; None when neither is configured."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: a server that does not answer at once is "not running", and the DuckDB file answers instead
    # (redis-py's default retries with backoff would add seconds to every request of an outage).
    options = {
        "socket_connect_timeout": 0.5,
        "socket_timeout": 2,
        "decode_responses": True,
        "retry": Retry(NoBackoff(), 0),
    }
    if settings.redis_url:
        return redis.Redis.from_url(settings.redis_url, **options)
    try:
        password = (settings.secrets_dir / REDIS_PASSWORD_FILE).read_text().strip()
    except (FileNotFoundError, PermissionError, NotADirectoryError):
        return None
    return redis.Redis(host="127.0.0.1", port=settings.redis_port, password=password, **options)


def read_redis(client, script, part: str, field: str = "") -> tuple[dict, str | None] | None:
    """(meta of the current version, the document or None) in one atomic step; None when nothing is published.

    `script` is `client.register_script(REDIS_READ_SCRIPT)` (EVALSHA, loaded once per client)."""
    import json

    found = script(keys=[REDIS_CURRENT], args=[REDIS_PREFIX, part, field])
    if not found:
        return None
    meta, value = [*found, None][:2]
    return json.loads(meta), value


class PublishedFile:
    """The published DuckDB file kept attached between requests (the API's fallback), and attached anew as soon
    as a publish has replaced it: every request stats the path, so it never reads a replaced file for longer
    than the requests already under way. Each request gets a cursor of its own (DuckDB is thread-safe per
    cursor), with the file's serving meta read once per file. A reader of a replaced file holds nothing a
    publish waits for: the publish renames a new file over the path."""

    def __init__(self, settings: Settings):
        import threading

        self.settings = settings
        self._lock = threading.Lock()
        self._opened: tuple | None = None  # (identity, connection, meta)

    def _identity(self) -> tuple[int, int]:
        import os

        try:
            info = os.stat(self.settings.publish_db)
        except FileNotFoundError:
            raise PublishRefused(
                f"no published marts yet at {self.settings.publish_db} (run `ecom run`)"
            ) from None
        return (info.st_ino, info.st_mtime_ns)

    @contextlib.contextmanager
    def cursor(self) -> Iterator[tuple]:
        """(cursor, serving meta) of the file published now; the cursor is closed on exit."""
        import duckdb

        identity = self._identity()
        with self._lock:
            if self._opened is None or self._opened[0] != identity:
                con = duckdb.connect(config={"threads": 1})
                con.execute(f"attach '{self.settings.publish_db}' as ecommerce (read_only)")
                con.execute("use ecommerce")
                # the previous connection closes once its last cursor is done (reference counting)
                self._opened = (identity, con, serving_meta(con))
            _, con, meta = self._opened
        cur = con.cursor()
        try:
            cur.execute("use ecommerce")
            yield cur, meta
        finally:
            cur.close()
