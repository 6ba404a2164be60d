"""Apache Spark as the build engine (`ECOM_ENGINE=spark`): the same dbt project, then the same publish gate.

dbt builds and tests the marts on Spark (target `spark` of dbt_project/profiles.yml). Its `on-run-end` hook
writes every mart to Parquet (dbt_project/macros/engines.sql); when every node passed, `load_marts` copies them
into a fresh build.duckdb with the types of the marts' contracts and their descriptions, and renames it over the
old one. From there `ecom publish` is unchanged: the published DuckDB file and PostgreSQL only ever receive a
build that passed on the engine that built it.

Needs `make install-spark` (pyspark and dbt-spark, `requirements-spark.lock`) and Java 17 or newer.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from pipeline.build.dbt import DbtOutcome, run_dbt
from pipeline.errors import PipelineFailed, SparkUnavailable
from pipeline.settings import Settings

MART_SCHEMA = "marts"
MIN_JAVA = 17


def java_executable() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def java_major_version(java: str) -> int | None:
    """The major version `java -version` reports (17 for "17.0.15"), or None when it cannot be read."""
    try:
        proc = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


def spark_missing() -> str | None:
    """One line naming what the spark engine lacks here, or None when it can run."""
    missing = [m for m in ("pyspark", "dbt.adapters.spark") if importlib.util.find_spec(m) is None]
    if missing:
        return (
            "the spark engine needs pyspark and dbt-spark, which are not installed: run `make install-spark`"
        )
    java = java_executable()
    if java is None:
        return (
            f"the spark engine needs Java {MIN_JAVA} or newer: no `java` on PATH and JAVA_HOME is not set "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )
    version = java_major_version(java)
    if version is None or version < MIN_JAVA:
        found = "an unreadable version" if version is None else f"Java {version}"
        return f"the spark engine needs Java {MIN_JAVA} or newer, {java} is {found}"
    return None


def check_spark() -> None:
    problem = spark_missing()
    if problem:
        raise SparkUnavailable(problem)


def export_dir(settings: Settings) -> Path:
    return Path(settings.dbt_env()["ECOM_SPARK_EXPORT_DIR"])


def prepare_spark_build(settings: Settings) -> None:
    """Before a Spark build: check that Spark can run, and drop the previous export (only this build's loads)."""
    check_spark()
    shutil.rmtree(export_dir(settings), ignore_errors=True)
    settings.spark_dir.mkdir(parents=True, exist_ok=True)


def build_on_spark(settings: Settings, *extra: str, **run_options) -> DbtOutcome:
    """`dbt build` on Spark; when it passes, its marts replace those of build.duckdb (see `load_marts`).
    `run_options` go to `run_dbt` (log file, progress)."""
    exported = export_dir(settings)
    prepare_spark_build(settings)
    outcome = run_dbt(settings, "build", *extra, **run_options)
    if not outcome.success:
        return outcome
    try:
        load_marts(settings, exported)
    except Exception as exc:  # the build passed on Spark but cannot be published: report it as a failure
        return dataclasses.replace(
            outcome, success=False, error=f"loading the Spark marts into DuckDB failed: {exc}"
        )
    return outcome


def mart_columns(settings: Settings) -> dict[str, dict]:
    """Each mart's node from dbt's manifest: alias -> {"columns": {name: data_type}, descriptions}."""
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    marts = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") == "model" and node.get("schema") == MART_SCHEMA:
            marts[node.get("alias") or node["name"]] = node
    return marts


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_marts(settings: Settings, exported: Path) -> dict[str, int]:
    """Copy the exported marts into a new build.duckdb (contract types, descriptions) and swap it in."""
    import duckdb

    marts = mart_columns(settings)
    missing = sorted(name for name in marts if not any((exported / name).glob("*.parquet")))
    if missing:
        raise PipelineFailed(f"no export of {', '.join(missing)} in {exported}")
    target = settings.build_db
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    counts: dict[str, int] = {}
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("set TimeZone = 'UTC'")  # Spark writes UTC instants; the contracts say naive UTC
            con.execute(f"create schema {MART_SCHEMA}")
            for name, node in sorted(marts.items()):
                columns = node.get("columns") or {}
                typed = [(c, spec.get("data_type")) for c, spec in columns.items()]
                if typed and all(t for _, t in typed):
                    select = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in typed)
                else:  # a mart without a contract keeps the types Spark wrote
                    select = "*"
                con.execute(
                    f"create table {MART_SCHEMA}.{name} as select {select} "
                    f"from read_parquet('{exported / name}/*.parquet')"
                )
                counts[name] = con.execute(f"select count(*) from {MART_SCHEMA}.{name}").fetchone()[0]
                if node.get("description"):
                    con.execute(f"comment on table {MART_SCHEMA}.{name} is {_literal(node['description'])}")
                for column, spec in columns.items():
                    if spec.get("description"):
                        con.execute(
                            f'comment on column {MART_SCHEMA}.{name}."{column}" '
                            f"is {_literal(spec['description'])}"
                        )
            con.execute("checkpoint")
        finally:
            con.close()
        target.with_name(target.name + ".wal").unlink(missing_ok=True)  # would be replayed onto the new file
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
    return counts
