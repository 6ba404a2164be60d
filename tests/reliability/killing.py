"""Kill a writer in the middle of its write while a reader keeps reading what it publishes.

A write is recognised as under way from what changes on disk: a file bigger than any state or lock file
appearing or changing in the folder it writes to (whatever it is called), or the published file itself changing.
Nothing here depends on how the code names its temporary files.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.ecom import BIN

# A file this big is data being written (a DuckDB file's header alone is 12 KiB), not a state or lock file.
WRITING = 8192


def files(folder: Path) -> dict[str, tuple[int, int, int]]:
    """(size, mtime, inode) of every file under `folder`, by relative path (files vanishing while listed are
    skipped)."""
    found = {}
    for path in folder.rglob("*"):
        with contextlib.suppress(FileNotFoundError):
            if path.is_file():
                stat = path.stat()
                found[str(path.relative_to(folder))] = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    return found


def state_of(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


def kill_mid_write(
    args: list[str], env: dict, watched: Path, delay: float = 0.0, timeout: float = 120
) -> tuple[int, bool]:
    """Run `ecom ARGS` and SIGKILL its process group `delay` seconds after its write is seen under way.

    `watched` a folder: the write is under way once a data file in it (at least WRITING bytes) appears or
    changes, e.g. a new database being filled beside the published one. `watched` a file: once that file
    changes in any way (written, truncated, replaced or removed), e.g. the published file itself.
    Returns (exit code, whether the write was seen before the kill)."""
    if watched.is_dir():
        before = files(watched)

        def under_way() -> bool:
            return any(
                seen[0] >= WRITING and seen != before.get(name) for name, seen in files(watched).items()
            )
    else:
        was = state_of(watched)

        def under_way() -> bool:
            return state_of(watched) != was

    proc = subprocess.Popen(
        [str(BIN / "ecom"), *args],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    started = False
    while not started and proc.poll() is None and time.monotonic() < deadline:
        started = under_way()
        time.sleep(0.0005)
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(), started


class Reader:
    """A thread that reads the published copy over and over (open, read, close, as the dashboard does) and
    records every outcome: what `read()` returned, or the error it raised."""

    def __init__(self, read: Callable[[], object], pause: float = 0.002):
        self._read, self._pause = read, pause
        self._stop = threading.Event()
        self.seen: list[object] = []
        self.errors: list[str] = []
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.seen.append(self._read())
            except Exception as exc:  # a missing, partial or locked file: exactly what must never happen
                self.errors.append(f"{type(exc).__name__}: {exc}".splitlines()[0][:300])
            time.sleep(self._pause)

    def __enter__(self) -> Reader:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
