"""A local Redis server under `$ECOM_DATA_DIR/redis` for the API: loopback only, a password, no persistence.

It runs as a plain process (`redis-server` daemonizes itself) from a config file written 0600 beside it, so the
password never shows in the process list. ECOM_REDIS_URL names an existing server instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import BadInput
from pipeline.publish.postgres.cluster import port_in_use
from pipeline.read import REDIS_PASSWORD_FILE
from pipeline.settings import Settings, stored_secret


class RedisError(BadInput):
    """Redis serving cannot go ahead; the message names the reason in one line."""


def redis_password(settings: Settings) -> str:
    """The local server's password: generated once into `secrets/redis.password` (0600)."""
    return stored_secret(settings.secrets_dir / REDIS_PASSWORD_FILE)


def redis_server_bin() -> str:
    found = shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if Path(p).exists()), None
    )
    if not found:
        raise RedisError(
            "redis-server not found (install Debian's `redis-server` package, "
            "or point ECOM_REDIS_URL at an existing server)"
        )
    return found


@dataclass(frozen=True)
class LocalRedis:
    """Debian's redis-server on 127.0.0.1:`port`, its config, pid and log under `root`."""

    root: Path
    port: int

    @classmethod
    def for_settings(cls, settings: Settings) -> LocalRedis:
        return cls(settings.redis_dir, settings.redis_port)

    @property
    def conf_file(self) -> Path:
        return self.root / "redis.conf"

    @property
    def pid_file(self) -> Path:
        return self.root / "redis.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "redis.log"

    def pid(self) -> int | None:
        """The server's pid while its process lives, else None."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def running_port(self) -> int | None:
        """The port the running server was started on (from its config file), None when it is stopped."""
        if self.pid() is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            for line in self.conf_file.read_text().splitlines():
                if line.startswith("port "):
                    return int(line.split()[1])
        return None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, password: str, timeout: float = 20) -> None:
        if port_in_use(self.port):
            raise RedisError(
                f"port {self.port} on 127.0.0.1 is in use by another program; set ECOM_REDIS_PORT to a free port"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        os.chmod(self.root, 0o700)
        self.pid_file.unlink(missing_ok=True)
        conf = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.port}",
                f'requirepass "{password}"',
                'save ""',  # no persistence: every publish loads a whole version again
                "appendonly no",
                f'dir "{self.root}"',
                f'pidfile "{self.pid_file}"',
                f'logfile "{self.log_file}"',
                "daemonize yes",
                "",
            ]
        )
        fd = os.open(self.conf_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(conf)
        proc = subprocess.run(
            [redis_server_bin(), str(self.conf_file)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise RedisError(
                f"redis-server failed: {detail[-1] if detail else f'exit code {proc.returncode}'}"
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid() is not None and self._ping(password):
                return
            time.sleep(0.05)
        raise RedisError(
            f"redis-server did not answer on 127.0.0.1:{self.port} within {timeout:.0f}s (see {self.log_file})"
        )

    def _ping(self, password: str) -> bool:
        import redis

        try:
            return bool(
                redis.Redis(host="127.0.0.1", port=self.port, password=password, socket_timeout=1).ping()
            )
        except redis.RedisError:
            return False

    def stop(self, password: str, timeout: float = 20) -> bool:
        """Shut the server down (nothing to save); False when it was not running."""
        import redis

        pid = self.pid()
        if pid is None:
            return False
        port = self.running_port() or self.port
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis(
            host="127.0.0.1", port=port, password=password, socket_timeout=5, retry=Retry(NoBackoff(), 0)
        )
        with contextlib.suppress(redis.RedisError):  # the server closes the connection as it goes: no retry
            client.shutdown(nosave=True)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.pid() is not None:
            os.kill(pid, 15)
        return True

    def ensure_running(self, password: str) -> bool:
        """Start the server unless it runs; True when this call started it."""
        if self.running():
            port = self.running_port()
            if port is not None and port != self.port:
                raise RedisError(
                    f"the local Redis server already runs on port {port}, not ECOM_REDIS_PORT={self.port}; "
                    "run `ecom redis --stop` first"
                )
            return False
        self.start(password)
        return True
