"""Run dbt in-process against the build DuckDB, with paths taken from the settings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.settings import Settings


@dataclass(frozen=True)
class DbtFailure:
    node: str
    status: str
    message: str
    failures: int | None = None


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    counts: dict[str, int] = field(default_factory=dict)
    failures: tuple[DbtFailure, ...] = ()
    error: str | None = None

    def describe_failures(self) -> str:
        if self.error:
            return self.error
        lines = []
        for f in self.failures:
            rows = f" ({f.failures} failing rows)" if f.failures else ""
            lines.append(f"{f.status.upper()} {f.node}{rows}: {f.message}")
        return "\n".join(lines) or "dbt reported a failure without a failing node; see the dbt log above"


def dbt_args(settings: Settings, command: str, *extra: str) -> list[str]:
    return [
        command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.dbt_log_dir),
        *extra,
    ]


def dbt_executable() -> str:
    """The dbt beside this interpreter (the project's virtualenv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def run_dbt(settings: Settings, command: str, *extra: str, quiet: bool = False) -> DbtOutcome:
    """Run `dbt command` in a child process and summarise its run_results.json (never raises for failures).

    A child process, not dbtRunner in-process: dbt-duckdb keeps its DuckDB instance open for the life of the
    process, which would block the publish step (and an analyst's reader) until the process exits.
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    args = [dbt_executable(), *(["--quiet"] if quiet else []), *dbt_args(settings, command, *extra)]
    results_path = settings.dbt_target_dir / "run_results.json"
    results_path.unlink(missing_ok=True)
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(args, env=env, stdout=sys.stderr, stderr=sys.stderr, check=False)
    try:
        results = json.loads(results_path.read_text())["results"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        if proc.returncode == 0:
            return DbtOutcome(True)
        return DbtOutcome(
            False, error=f"dbt {command} exited with code {proc.returncode} before running any node"
        )
    counts: dict[str, int] = {}
    failures = []
    for node in results:
        status = node["status"]
        counts[status] = counts.get(status, 0) + 1
        if status in ("error", "fail", "runtime error"):
            failures.append(
                DbtFailure(
                    node=node["unique_id"],
                    status=status,
                    message=(node.get("message") or "").strip(),
                    failures=node.get("failures"),
                )
            )
    return DbtOutcome(proc.returncode == 0 and not failures, counts, tuple(failures))


def generate_docs(settings: Settings) -> Path:
    """`dbt docs generate` against the build database; returns the folder with index.html and catalog.json."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    args = [dbt_executable(), "docs", *dbt_args(settings, "generate")]
    env = {**os.environ, **settings.dbt_env(), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(args, env=env, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"dbt docs generate exited with code {proc.returncode}")
    return settings.dbt_target_dir
