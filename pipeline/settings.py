"""One settings object: `ECOM_*` environment variables, overridden by CLI flags, with working defaults.

Built on pydantic-settings: each field reads `ECOM_<FIELD>` (empty values count as unset). A bad value fails
with one line that names the field, the variable it came from and what is allowed (`SettingsError`, exit 2).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from generator.config import (
    DEFAULT_OPENING_DATE,
    MAX_SEED,
    SCALES,
    ConfigError,
    GeneratorConfig,
    parse_faults,
)
from pipeline.errors import SettingsError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEMO_START = DEFAULT_OPENING_DATE
DEMO_END = dt.date(2025, 12, 31)
ENV_PREFIX = "ECOM_"
PORT_RANGE = (1024, 65535)
ENGINES = ("duckdb", "spark")  # dbt targets of dbt_project/profiles.yml that `ecom build` can run


def stored_secret(path: Path, configured: str = "", nbytes: int = 24) -> str:
    """The configured value, else the one generated earlier at `path`, else a new one stored there with 0600
    permissions (its folder 0700): the passwords and tokens the project generates under `secrets/`."""
    if configured:
        return configured
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(nbytes)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.replace(tmp, path)
    return value


def parse_date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise SettingsError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None


def parse_int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool):
        raise SettingsError(f"{name} must be an integer from {lo} to {hi}, got {value!r}")
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer from {lo} to {hi}, got {value!r}") from None
    if not lo <= number <= hi:
        raise SettingsError(f"{name} must be an integer from {lo} to {hi}, got {number}")
    return number


def parse_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false (also 1/0, yes/no, on/off), got {value!r}")


# Words used in messages, where the field name alone reads badly.
_LABELS = {"opening_date": "opening date", "dbt_threads": "dbt threads", "inject": "fault kinds"}


def _label(field: str) -> str:
    return _LABELS.get(field, field.replace("_", " "))


_INT_RANGES = {
    "seed": (0, MAX_SEED),
    "workers": (1, 64),
    "dbt_threads": (1, 64),
    "bi_port": PORT_RANGE,
    "dashboard_port": PORT_RANGE,
    "airflow_port": PORT_RANGE,
    "redis_port": PORT_RANGE,
    "api_port": PORT_RANGE,
}


class Settings(BaseSettings):
    """Every path and knob of a run. Build with `Settings.load()`; the fields are documented in the README."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="ignore", frozen=True, validate_default=False
    )

    data_dir: Path = PROJECT_ROOT / "data"
    scale: str = "small"
    seed: int = 42
    locale: str = ""  # empty: the market's
    market: str = "us"
    opening_date: dt.date = DEFAULT_OPENING_DATE
    start: dt.date = DEMO_START
    end: dt.date = DEMO_END
    workers: int = 1
    dbt_threads: int = 2
    inject: Annotated[tuple[str, ...], NoDecode] = ()
    engine: str = "duckdb"  # the dbt target `ecom build` runs: duckdb or spark
    # Serving: the local PostgreSQL cluster's port, or a DSN of an existing server to publish to instead.
    bi_port: int = 54329
    bi_dsn: str = Field("", repr=False)
    bi_reader_password: str = Field("", repr=False)
    # The dashboard reads the published DuckDB file unless given a PostgreSQL URL (e.g. the bi_reader one).
    dashboard_port: int = 8501
    dashboard_dsn: str = Field("", repr=False)
    # Airflow deployment knobs (the data only depends on the fields above): the UI port of `make airflow`, the
    # generation DAG's schedule (`none`: on demand only) and whether it catches up from the opening date.
    airflow_port: int = 8080
    airflow_schedule: str = "@daily"
    airflow_catchup: bool = True
    # Product serving (issue: hot products, bought together): the local Redis server's port, or the URL of an
    # existing server to publish to instead; the HTTP API's address and its bearer token (generated under
    # secrets/ when empty).
    redis_port: int = 56379
    redis_url: str = Field("", repr=False)
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_token: str = Field("", repr=False)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ):
        # CLI flags (init arguments) first, then the environment; no .env file, no secrets directory.
        return (init_settings, env_settings)

    @classmethod
    def load(cls, **overrides) -> Settings:
        """Defaults, then the `ECOM_*` environment variables, then the non-None `overrides` (CLI flags)."""
        unknown = sorted(set(overrides) - set(cls.model_fields))
        if unknown:  # a caller's slip, not a user's: the model itself ignores extra keys, so say it here
            raise TypeError(f"Settings.load() got unknown settings: {', '.join(unknown)}")
        given = {k: v for k, v in overrides.items() if v is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise SettingsError(_one_line(exc, os.environ, given)) from None

    # ------------------------------------------------------------------------------------------ validation

    @field_validator("data_dir", mode="before")
    @classmethod
    def _path(cls, value):
        return Path(str(value)).expanduser().resolve()

    @field_validator("scale", mode="before")
    @classmethod
    def _scale(cls, value):
        value = str(value).strip()
        if value not in SCALES:
            raise SettingsError(f"unknown scale {value!r}: choose one of {', '.join(SCALES)}")
        return value

    @field_validator("opening_date", "start", "end", mode="before")
    @classmethod
    def _dates(cls, value, info):
        return parse_date(value, _label(info.field_name))

    @field_validator(*_INT_RANGES, mode="before")
    @classmethod
    def _ints(cls, value, info):
        lo, hi = _INT_RANGES[info.field_name]
        return parse_int(value, _label(info.field_name), lo, hi)

    @field_validator("airflow_catchup", mode="before")
    @classmethod
    def _bool(cls, value, info):
        return parse_bool(value, info.field_name.replace("_", " "))

    @field_validator("airflow_schedule", mode="before")
    @classmethod
    def _schedule(cls, value):
        value = str(value).strip()
        if not value:
            raise SettingsError("airflow schedule must be a cron expression, a preset like @daily, or none")
        return value

    @field_validator("inject", mode="before")
    @classmethod
    def _faults(cls, value):
        return parse_faults(value) if isinstance(value, str) else tuple(value)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.end < self.start:
            raise SettingsError(f"end date {self.end} is before start date {self.start}")
        if self.engine not in ENGINES:
            raise SettingsError(f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)}")
        self.generator_config()  # validates the locale and the fault kinds against the generator
        return self

    # ------------------------------------------------------------------------------------------ derived

    @property
    def airflow_dag_schedule(self) -> str | None:
        """The generation DAG's `schedule`: None (on demand only) for `none`."""
        return None if self.airflow_schedule.lower() == "none" else self.airflow_schedule

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig(
            scale=self.scale,
            seed=self.seed,
            locale=self.locale,
            market=self.market,
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
    def build_lock(self) -> Path:
        """flock'd by the one build (and publish) at a time; holds the holder's pid."""
        return self.warehouse_dir / "build.lock"

    @property
    def spark_dir(self) -> Path:
        """Spark's warehouse, metastore and mart export (engine `spark`, see pipeline/build/spark.py)."""
        return self.data_dir / "spark"

    @property
    def models_dir(self) -> Path:
        """Versioned model artifacts: models/<name>/<version>/ (see predict/ and pipeline/train)."""
        return self.data_dir / "models"

    @property
    def redis_dir(self) -> Path:
        """The local Redis server's working directory, pid and log file."""
        return self.data_dir / "redis"

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

    @property
    def build_log(self) -> Path:
        """dbt's console output of the last `ecom build` (the terminal shows a compact progress view)."""
        return self.dbt_log_dir / "build.log"

    def dbt_env(self) -> dict[str, str]:
        """Environment that dbt's profile and sources read (see dbt_project/profiles.yml)."""
        return {
            "ECOM_LAKE_DIR": str(self.lake_dir),
            "ECOM_BUILD_DB": str(self.build_db),
            "ECOM_OPENING_DATE": self.opening_date.isoformat(),
            "ECOM_MARKET": self.lake_market(),
            "ECOM_DBT_THREADS": str(self.dbt_threads),
            "ECOM_REBUILD_FROM": self._rebuild_from(),
            "ECOM_DBT_TARGET": self.engine,
            "ECOM_SPARK_DIR": str(self.spark_dir),
            "ECOM_SPARK_EXPORT_DIR": str(self.spark_dir / "export"),
            "ECOM_MODELS_DIR": str(self.models_dir),
        }

    def lake_market(self) -> str:
        """The market the lake was generated in (its sales calendar drives dbt's promo days), else the setting."""
        try:
            return json.loads((self.lake_dir / "_lake.json").read_text()).get("market", "us")
        except (FileNotFoundError, json.JSONDecodeError):
            return self.market

    def _rebuild_from(self) -> str:
        """The earliest lake day the running build must rebuild from (see pipeline/lake/changes.py); '' if none."""
        try:
            state = json.loads((self.warehouse_dir / "build.json").read_text())
        except (OSError, json.JSONDecodeError):
            return ""
        return (state.get("rebuild_from") or "") if state.get("status") == "running" else ""


def _one_line(exc: ValidationError, env: Mapping[str, str], given: Mapping[str, Any]) -> str:
    """The first error of `exc` as one line, naming the variable it came from when it came from one."""
    error = exc.errors(include_url=False)[0]
    cause = (error.get("ctx") or {}).get("error")
    field = error["loc"][0] if error.get("loc") else None
    if isinstance(cause, ConfigError):
        message = str(cause)
    else:
        label = _label(str(field)) if field else "settings"
        message = f"{label}: {error['msg']}"
    variable = ENV_PREFIX + str(field).upper() if field else None
    if variable and field not in given and env.get(variable, "").strip():
        message += f" (from {variable})"
    return " ".join(message.split())
