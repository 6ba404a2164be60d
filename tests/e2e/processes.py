"""Real `ecom` processes started in the background, and ways to wait for the stage they are in."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

from tests.support.ecom import BIN

# Only a guard against a hung child: every wait below ends on an event, never on a duration.
GIVE_UP_SECONDS = 900


def start(*args: str, data_dir: Path) -> subprocess.Popen:
    """`ecom ARGS` in a session of its own (as a terminal's foreground job is), output captured.

    Ctrl-C is restored to its default in the child: a shell starts background jobs (`make test &`, a CI runner's
    job) with SIGINT ignored, children inherit that, and a foreground job in a terminal never has it ignored."""
    return subprocess.Popen(
        [str(BIN / "ecom"), *args],
        env={**os.environ, "ECOM_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(predicate, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(
                f"ecom exited {proc.returncode} before {what}:\n{proc.communicate()[1][-3000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def build_state(data_dir: Path) -> dict:
    try:
        return json.loads((data_dir / "warehouse" / "build.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def wait_until_dbt_runs_nodes(proc: subprocess.Popen, data_dir: Path) -> None:
    """Until `proc`'s build is recorded as running and dbt has started its first node."""
    log = data_dir / "dbt" / "logs" / "build.log"

    def running() -> bool:
        state = build_state(data_dir)
        if state.get("status") != "running" or state.get("pid") != proc.pid:
            return False
        return log.exists() and re.search(r"\d+ of \d+ START", log.read_text()) is not None

    wait_for(running, proc, "dbt started its first node")
