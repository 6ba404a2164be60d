"""One settings object: `ECOM_*` environment variables, overridden by CLI flags, with working defaults."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from generator.config import DEFAULT_OPENING_DATE, SCALES, ConfigError, GeneratorConfig, parse_faults

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEMO_START = DEFAULT_OPENING_DATE
DEMO_END = dt.date(2025, 12, 31)
ENV_PREFIX = "ECOM_"
ENGINES = ("duckdb", "spark")  # dbt targets of dbt_project/profiles.yml that `ecom build` can run


def parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None


def parse_int(value: str, name: str, lo: int, hi: int) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name} must be an integer from {lo} to {hi}, got {value!r}") from None
    if not lo <= number <= hi:
        raise ConfigError(f"{name} must be an integer from {lo} to {hi}, got {number}")
    return number


@dataclass(frozen=True)
class Settings:
    """Every path and knob of a run. Build with `Settings.load()`; the fields are documented in the README."""

    data_dir: Path = field(default=PROJECT_ROOT / "data", metadata={"env": "DATA_DIR"})
    scale: str = field(default="small", metadata={"env": "SCALE"})
    seed: int = field(default=42, metadata={"env": "SEED"})
    locale: str = field(default="en_US", metadata={"env": "LOCALE"})
    opening_date: dt.date = field(default=DEFAULT_OPENING_DATE, metadata={"env": "OPENING_DATE"})
    start: dt.date = field(default=DEMO_START, metadata={"env": "START"})
    end: dt.date = field(default=DEMO_END, metadata={"env": "END"})
    workers: int = field(default=1, metadata={"env": "WORKERS"})
    threads: int = field(default=2, metadata={"env": "DBT_THREADS"})
    inject: tuple[str, ...] = field(default=(), metadata={"env": "INJECT"})
    engine: str = field(default="duckdb", metadata={"env": "ENGINE"})
    # Serving: the local PostgreSQL cluster's port, or a DSN of an existing server to publish to instead.
    bi_port: int = field(default=54329, metadata={"env": "BI_PORT"})
    bi_dsn: str = field(default="", repr=False, metadata={"env": "BI_DSN"})
    bi_reader_password: str = field(default="", repr=False, metadata={"env": "BI_READER_PASSWORD"})
    # The dashboard reads the published DuckDB file unless given a PostgreSQL URL (e.g. the bi_reader one).
    dashboard_port: int = field(default=8501, metadata={"env": "DASHBOARD_PORT"})
    dashboard_dsn: str = field(default="", repr=False, metadata={"env": "DASHBOARD_DSN"})

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, **overrides) -> Settings:
        """Defaults, then `ECOM_*` variables from `env`, then the non-None `overrides` (CLI flags)."""
        env = os.environ if env is None else env
        values: dict = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.metadata["env"])
            if raw not in (None, ""):
                values[f.name] = _coerce(f.name, raw)
        for name, value in overrides.items():
            if value is not None:
                values[name] = _coerce(name, value) if isinstance(value, str) else value
        settings = replace(cls(), **values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.scale not in SCALES:
            raise ConfigError(f"unknown scale {self.scale!r}: choose one of {', '.join(SCALES)}")
        if self.end < self.start:
            raise ConfigError(f"end date {self.end} is before start date {self.start}")
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        if self.workers < 1:
            raise ConfigError(f"workers must be at least 1, got {self.workers}")
        self.generator_config()  # validates seed, locale and fault kinds

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig(
            scale=self.scale,
            seed=self.seed,
            locale=self.locale,
            opening_date=self.opening_date,
            inject=self.inject,
        )

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def warehouse_dir(self) -> Path:
        return self.data_dir / "warehouse"

    @property
    def build_db(self) -> Path:
        return self.warehouse_dir / "build.duckdb"

    @property
    def publish_db(self) -> Path:
        return self.warehouse_dir / "ecommerce.duckdb"

    @property
    def spark_dir(self) -> Path:
        """Spark's warehouse, metastore and mart export (engine `spark`, see pipeline/spark.py)."""
        return self.data_dir / "spark"

    @property
    def bi_cluster_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def secrets_dir(self) -> Path:
        """Generated passwords (0600, under data/, never committed)."""
        return self.data_dir / "secrets"

    @property
    def dbt_project_dir(self) -> Path:
        return DBT_PROJECT_DIR

    @property
    def dbt_target_dir(self) -> Path:
        return self.data_dir / "dbt" / "target"

    @property
    def dbt_log_dir(self) -> Path:
        return self.data_dir / "dbt" / "logs"

    def dbt_env(self) -> dict[str, str]:
        """Environment that dbt's profile and sources read (see dbt_project/profiles.yml)."""
        return {
            "ECOM_LAKE_DIR": str(self.lake_dir),
            "ECOM_BUILD_DB": str(self.build_db),
            "ECOM_OPENING_DATE": self.opening_date.isoformat(),
            "ECOM_DBT_THREADS": str(self.threads),
            "ECOM_REBUILD_FROM": self._rebuild_from(),
            "ECOM_DBT_TARGET": self.engine,
            "ECOM_SPARK_DIR": str(self.spark_dir),
            "ECOM_SPARK_EXPORT_DIR": str(self.spark_dir / "export"),
        }

    def _rebuild_from(self) -> str:
        """The earliest lake day the running build must rebuild from (see pipeline/lakestate.py); '' if none."""
        try:
            state = json.loads((self.warehouse_dir / "build.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return ""
        return (state.get("rebuild_from") or "") if state.get("status") == "running" else ""


def _coerce(name: str, raw):
    if name == "data_dir":
        return Path(raw).expanduser().resolve()
    if name in ("opening_date", "start", "end"):
        return raw if isinstance(raw, dt.date) else parse_date(raw, name.replace("_", " "))
    if name == "seed":
        return parse_int(raw, "seed", 0, 2**63 - 1)
    if name == "workers":
        return parse_int(raw, "workers", 1, 64)
    if name == "threads":
        return parse_int(raw, "dbt threads", 1, 64)
    if name == "bi_port":
        return parse_int(raw, "ECOM_BI_PORT", 1024, 65535)
    if name == "dashboard_port":
        return parse_int(raw, "ECOM_DASHBOARD_PORT", 1024, 65535)
    if name == "inject":
        return parse_faults(raw) if isinstance(raw, str) else tuple(raw)
    return raw
