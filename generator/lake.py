"""The lake: hive-partitioned Parquet, one file per table per day, replaced atomically."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from generator.config import ConfigError, GeneratorConfig

TABLES = (
    "users", "products", "orders", "order_items", "user_events", "order_status_changes", "answer_key",
    "user_truth", "experiment_exposures", "experiments", "event_truth",
)  # fmt: skip
CORE_TABLES = ("users", "products", "orders", "order_items", "user_events")
MARKER = "_lake.json"
PART_FILE = "part-0.parquet"
PARTITION_RE = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})$")


def partition_dir(lake: Path, table: str, day: dt.date) -> Path:
    return lake / table / f"dt={day.isoformat()}"


def lake_identity(cfg: GeneratorConfig) -> dict:
    """What must match for two days to belong in the same lake (faults are per day, so not here)."""
    ident = asdict(cfg)
    ident.pop("inject")
    ident["opening_date"] = cfg.opening_date.isoformat()
    return ident


def prepare_lake(lake: Path, cfg: GeneratorConfig) -> None:
    """Check that `lake` can take days of `cfg` and create it; refuse foreign or mismatched folders."""
    marker = lake / MARKER
    if lake.exists() and not lake.is_dir():
        raise ConfigError(f"lake path {lake} exists and is not a directory")
    if marker.exists():
        held = json.loads(marker.read_text())
        held.setdefault("market", "us")  # lakes made before markets existed are US lakes
        wanted = lake_identity(cfg)
        diff = {k: (held.get(k), v) for k, v in wanted.items() if held.get(k) != v}
        if diff:
            detail = ", ".join(f"{k}={a!r} (asked {b!r})" for k, (a, b) in diff.items())
            raise ConfigError(
                f"lake {lake} was generated with {detail}; use another ECOM_DATA_DIR or delete the lake first"
            )
        return
    if lake.exists() and any(lake.iterdir()):
        raise ConfigError(
            f"lake directory {lake} is not empty and was not made by ecom; refusing to write there"
        )
    try:
        lake.mkdir(parents=True, exist_ok=True)
        tmp = lake / f".{MARKER}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(lake_identity(cfg), indent=2, sort_keys=True) + "\n")
        os.replace(tmp, marker)
    except OSError as exc:
        raise ConfigError(f"cannot write to lake directory {lake}: {exc.strerror}") from exc


def check_writable(path: Path) -> None:
    """Fail early with one line when `path` (or its nearest existing parent) is not writable."""
    probe = path
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write to {path}: {probe} is not a writable directory")


def parquet_options(table: pa.Table) -> dict:
    """How a lake file is encoded, chosen for write speed and size.

    Ids and times (mostly ascending) are delta-encoded: it halves the time column and is the cheapest encoding
    to write. Strings built per row (e-mails, product names) are stored plain: nearly all distinct, a dictionary
    would be wasted work. Everything else, including the dictionary-typed columns drawn from small pools, is
    dictionary-encoded. No Arrow schema is embedded, so dictionary-typed columns read back as plain strings.
    """
    delta = {
        f.name: "DELTA_BINARY_PACKED"
        for f in table.schema
        if pa.types.is_integer(f.type) or pa.types.is_timestamp(f.type) or pa.types.is_date(f.type)
    }
    plain = {f.name for f in table.schema if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)}
    # Min/max statistics of a dictionary column cost a decode of every row and prune nothing (every row
    # group holds most values), so only the other columns carry them.
    stats = [f.name for f in table.schema if not pa.types.is_dictionary(f.type)]
    return {
        "write_statistics": stats,
        "compression": "zstd",
        "compression_level": 1,
        "use_dictionary": [f.name for f in table.schema if f.name not in delta and f.name not in plain],
        "column_encoding": delta,
        "store_schema": False,
    }


def write_day(lake: Path, day: dt.date, tables: dict[str, pa.Table], skip: set[str] = frozenset()) -> None:
    """Write every table of `day` to a temporary name, then rename them all into place.

    Re-generating a day replaces each partition whole; a crash leaves at most a stray `.tmp` file, which
    readers ignore (they read `*.parquet`) and the next write of that partition removes.
    """
    staged: list[tuple[Path, Path]] = []
    for name, table in tables.items():
        part = partition_dir(lake, name, day)
        part.mkdir(parents=True, exist_ok=True)
        for stray in part.glob(".*.tmp"):
            stray.unlink(missing_ok=True)
        final = part / PART_FILE
        if name in skip:
            final.unlink(missing_ok=True)
            continue
        tmp = part / f".{PART_FILE}.{os.getpid()}.tmp"
        pq.write_table(table, tmp, **parquet_options(table))
        staged.append((tmp, final))
    for tmp, final in staged:
        os.replace(tmp, final)


def days_present(lake: Path, table: str) -> list[dt.date]:
    root = lake / table
    if not root.is_dir():
        return []
    days = []
    for part in root.iterdir():
        match = PARTITION_RE.match(part.name)
        if match and (part / PART_FILE).exists():
            days.append(dt.date.fromisoformat(match.group(1)))
    return sorted(days)


def link_days(source: Path, target: Path, first: dt.date, last: dt.date) -> None:
    """Make days first..last of the lake `source` appear in the lake `target`, as hard links to the same files
    (with the lake's identity file): a second lake that shares the first one's bytes, for side-by-side builds.
    Days already linked are kept."""
    target.mkdir(parents=True, exist_ok=True)
    if (source / MARKER).exists() and not (target / MARKER).exists():
        shutil.copy(source / MARKER, target / MARKER)
    day = first
    while day <= last:
        for table in TABLES:
            part = partition_dir(target, table, day)
            part.mkdir(parents=True, exist_ok=True)
            for f in partition_dir(source, table, day).glob("*.parquet"):
                if not (part / f.name).exists():
                    os.link(f, part / f.name)
        day += dt.timedelta(days=1)


def lake_views(con, lake: Path, tables) -> None:
    """One DuckDB view per lake table over all its days (the partition column `dt` included), on `con`."""
    for table in tables:
        con.execute(
            f"create view {table} as select * from read_parquet('{lake}/{table}/dt=*/*.parquet', "
            "hive_partitioning = true, union_by_name = true)"
        )
