"""What the benchmarks share: where the repo and its console scripts are, a progress log, a timed `ecom`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support.ecom import BIN, REPO, free_port  # one copy, shared with the tests

__all__ = ["BIN", "REPO", "free_port", "log", "timed_ecom"]


def log(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


def timed_ecom(data_dir: Path, *args: str, env: dict | None = None) -> float:
    """Seconds `ecom ARGS` took with ECOM_DATA_DIR=data_dir; its error output and exit on failure."""
    started = time.perf_counter()
    proc = subprocess.run(
        [str(BIN / "ecom"), *args],
        env={**os.environ, **(env or {}), "ECOM_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ecom {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - started
