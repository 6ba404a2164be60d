"""What the benchmarks share: where the repo and its console scripts are, a progress log, a timed `ecom`."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.ecom import BIN, REPO, free_port  # one copy, shared with the tests

__all__ = ["BIN", "REPO", "Measured", "free_port", "log", "measured_ecom", "timed_ecom"]


def log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Measured:
    """One command: wall seconds, CPU seconds of its whole process tree (user + system), load average after."""

    wall: float
    cpu: float
    load: float


def measured_ecom(data_dir: Path, *args: str, env: dict | None = None) -> Measured:
    """`ecom ARGS` with ECOM_DATA_DIR=data_dir, timed; its error output and exit on failure.

    CPU time counts every process of the tree that was waited for (the CLI, dbt's child, generator workers):
    steadier than wall time when the machine is shared.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "ecom"), *args],
        env={**os.environ, **(env or {}), "ECOM_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"ecom {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, cpu, os.getloadavg()[0])


def timed_ecom(data_dir: Path, *args: str, env: dict | None = None) -> float:
    """Seconds `ecom ARGS` took with ECOM_DATA_DIR=data_dir; its error output and exit on failure."""
    return measured_ecom(data_dir, *args, env=env).wall
