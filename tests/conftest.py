"""Shared fixtures. Every test points the pipeline at its own temporary ECOM_DATA_DIR."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TINY_START = dt.date(2025, 9, 1)
TINY_END = dt.date(2025, 9, 14)


def pytest_configure(config):
    # Airflow reads its home once, at first import: point it at a throwaway folder before any test imports it.
    home = Path(config._tmp_path_factory.getbasetemp() if hasattr(config, "_tmp_path_factory") else "/tmp")
    os.environ.setdefault("AIRFLOW_HOME", str(home / f"airflow-home-{os.getpid()}"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
    for name in [k for k in os.environ if k.startswith("ECOM_") and k != "ECOM_REQUIRE_SYSTEM_TESTS"]:
        del os.environ[name]  # tests must not inherit a developer's settings


def ecom(
    *args: str, data_dir: Path, env: dict | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run the installed `ecom` console script, as a user would."""
    full_env = {**os.environ, "ECOM_DATA_DIR": str(data_dir), **(env or {})}
    proc = subprocess.run(
        [str(BIN / "ecom"), *args], env=full_env, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"ecom {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A published tiny run over two weeks, shared by the read-only end-to-end tests."""
    data_dir = tmp_path_factory.mktemp("tiny-run")
    ecom("run", "--scale", "tiny", "--start", str(TINY_START), "--end", str(TINY_END), data_dir=data_dir)
    return data_dir
