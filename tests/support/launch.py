"""The dashboard on a free loopback port and a headless Chromium to look at it: shared by the browser tests
(tests/serving/test_dashboard.py) and the page-load benchmark (bench/dashboard.py), so both measure and check
the same server, started the same way.

Imports nothing heavy: Playwright is imported by the caller, Streamlit runs in its own process.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from pipeline.errors import PipelineFailed
from tests.support.ecom import REPO, free_port

APP = REPO / "dashboard" / "app.py"
STREAMLIT = Path(sys.executable).parent / "streamlit"

# Debian's Chromium as root, offline: no sandbox (root), no calls home, no component or sync downloads.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def running_dashboard(env: dict[str, str], timeout: float = 90.0) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a free loopback port, with `env` over this process's environment;
    yields its base URL once its health check answers, and stops it on exit."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [str(STREAMLIT), "run", str(APP), "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_healthy(proc, url, timeout, log)
            yield url
        finally:
            proc.kill()
            proc.wait()


def _wait_healthy(proc: subprocess.Popen, url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    log.seek(0)
    last = ([line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
            or ["no output"])[-1]  # fmt: skip
    state = f"exited with {proc.returncode}" if proc.poll() is not None else f"not up within {timeout:.0f} s"
    raise PipelineFailed(f"the dashboard {state}: {last}")


def launch_chromium(playwright, executable: str):
    """A headless Chromium from `executable` (Playwright cannot download its own browsers here)."""
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
