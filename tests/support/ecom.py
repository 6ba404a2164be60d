"""Running the project as a user would, from tests: the repo, the console scripts, `ecom` in a subprocess."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TINY_START = dt.date(2025, 9, 1)
TINY_END = dt.date(2025, 9, 14)


def free_port() -> int:
    """A TCP port free on loopback right now (for a server a test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
