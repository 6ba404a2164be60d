"""A local PostgreSQL cluster under `$ECOM_DATA_DIR/postgres` for BI tools: loopback only, run as `postgres`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import BiError
from pipeline.settings import Settings

ADMIN_ROLE = "postgres"


def postgres_bin_dir() -> Path:
    """Debian keeps the server binaries in a versioned directory that is not on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name),
        reverse=True,
    )
    if found:
        return found[0].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise BiError(
        "PostgreSQL server binaries not found (install Debian's `postgresql` package, "
        "or point ECOM_BI_DSN at an existing server)"
    )


@dataclass(frozen=True)
class LocalCluster:
    """A PostgreSQL cluster under `$ECOM_DATA_DIR/postgres`, listening on loopback only."""

    root: Path
    port: int
    bin_dir: Path = field(default_factory=postgres_bin_dir)

    @classmethod
    def for_settings(cls, settings: Settings) -> LocalCluster:
        return cls(settings.bi_cluster_dir, settings.bi_port)

    @property
    def pgdata(self) -> Path:
        return self.root / "cluster"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # PostgreSQL refuses to run as root: run its tools as the `postgres` system user then.
        cmd = [str(self.bin_dir / tool), *args]
        if self.as_root:
            runuser = shutil.which("runuser") or next(
                (p for p in ("/usr/sbin/runuser", "/sbin/runuser") if Path(p).exists()), "runuser"
            )
            cmd = [runuser, "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise BiError(f"{tool} failed: {detail[-1] if detail else f'exit code {proc.returncode}'}")
        return proc

    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def running(self) -> bool:
        return (
            self.initialized()
            and self._run("pg_ctl", "status", "-D", str(self.pgdata), check=False).returncode == 0
        )

    def running_port(self) -> int | None:
        """The port the running server listens on (line 4 of postmaster.pid), None when stopped."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            return int(lines[3])
        except (FileNotFoundError, IndexError, ValueError, PermissionError):
            return None

    def _check_reachable(self) -> None:
        if not self.as_root:
            return
        import pwd

        postgres_uid = pwd.getpwnam("postgres").pw_uid
        for parent in reversed(self.root.parents):
            info = parent.stat() if parent.exists() else None
            if info and info.st_uid != postgres_uid and not info.st_mode & 0o001:
                raise BiError(
                    f"the postgres system user cannot reach {parent} (mode {parent.stat().st_mode & 0o777:o}); "
                    f"`chmod o+x {parent}` or use an ECOM_DATA_DIR under a directory others can traverse"
                )

    def init(self, password: str) -> None:
        self._check_reachable()
        self.root.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)
        pwfile = self.root / ".pwfile"
        pwfile.write_text(password + "\n")
        if self.as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(pwfile, 0o600)
        try:
            self._run(
                "initdb", "-D", str(self.pgdata), "-U", ADMIN_ROLE, "--pwfile", str(pwfile),
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
            )  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)

    def start(self) -> None:
        self._check_port()
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            options,
        )

    def stop(self) -> bool:
        if not self.running():
            return False
        self._run("pg_ctl", "stop", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60")
        return True

    def ensure_running(self, password: str) -> None:
        if self.running():
            port = self.running_port()
            if port is not None and port != self.port:
                raise BiError(
                    f"the local PostgreSQL server already runs on port {port}, not ECOM_BI_PORT={self.port}; "
                    "run `ecom serve --stop` first"
                )
            return
        self._check_port()
        if not self.initialized():
            self.init(password)
        self.start()

    def _check_port(self) -> None:
        if port_in_use(self.port):
            raise BiError(
                f"port {self.port} on 127.0.0.1 is in use by another program; set ECOM_BI_PORT to a free port"
            )


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False
