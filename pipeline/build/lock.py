"""One build at a time: an flock on `warehouse/build.lock`, held by a build (and a publish) until it ends.

build.duckdb can only be open read-write by one process, and build.json describes one build: a second build
started meanwhile would die on DuckDB's lock and make the first one "not the current build". The second one
therefore waits for the lock (saying for whom), or refuses at once when asked not to wait. The kernel drops the
lock when its holder exits, however it exits (even SIGKILL), so a stale lock never blocks anyone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from pipeline.errors import BuildBusy
from pipeline.settings import Settings

_held: set[Path] = set()  # locks this process holds (a run's build and publish share one)


def holder_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def build_lock(
    settings: Settings, wait: bool = True, echo: Callable[[str], None] | None = None, what: str = "build"
) -> Iterator[None]:
    path = settings.build_lock
    if path in _held:  # re-entered by the same process: `ecom run` holds it across build and publish
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = holder_pid(path)
            holder = f"pid {pid}" if pid else "another process"
            if not wait:
                raise BuildBusy(
                    f"another build is running ({holder}, lock {path}); not starting a second {what} "
                    "(run again without --no-wait to wait for it)"
                ) from None
            if echo:
                echo(f"waiting for the build running as {holder} to finish (one build at a time: {path})")
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _held.add(path)
        try:
            yield
        finally:
            _held.discard(path)
    finally:
        os.close(fd)  # releases the lock


def lock_is_free(settings: Settings) -> bool:
    """True when no process holds the build lock (so no `ecom` build is running, whatever build.json says)."""
    try:
        fd = os.open(settings.build_lock, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True
