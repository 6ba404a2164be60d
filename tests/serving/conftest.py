"""A real PostgreSQL cluster for the serving tests, started once by `ecom serve` and stopped at the end."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.settings import Settings
from tests.conftest import ecom
from tests.serving.synthetic import write_build


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def reachable_tmp_dir(prefix: str) -> Path:
    """A temp dir the `postgres` system user can traverse (pytest's own tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    os.chmod(path, 0o755)
    return path


@dataclass(frozen=True)
class BiServer:
    data_dir: Path
    port: int
    admin_dsn: str
    reader_url: str
    reader_password: str

    def env_for(self, data_dir: Path) -> dict[str, str]:
        """Settings of another data dir that publishes to this server, as an external one."""
        return {
            "ECOM_DATA_DIR": str(data_dir),
            "ECOM_BI_DSN": self.admin_dsn,
            "ECOM_BI_READER_PASSWORD": self.reader_password,
        }

    def settings_for(self, data_dir: Path) -> Settings:
        return Settings.load(env=self.env_for(data_dir))


@pytest.fixture(scope="session")
def bi_server():
    data_dir = reachable_tmp_dir("ecom-bi-server-")
    port = free_port()
    env = {"ECOM_BI_PORT": str(port)}
    write_build(Settings.load(env={"ECOM_DATA_DIR": str(data_dir)}), 1)
    ecom("publish", data_dir=data_dir)
    try:
        proc = ecom("serve", data_dir=data_dir, env=env)
        admin = (data_dir / "secrets" / "postgres_admin.password").read_text().strip()
        reader = (data_dir / "secrets" / "bi_reader.password").read_text().strip()
        yield BiServer(
            data_dir,
            port,
            f"host=127.0.0.1 port={port} user=postgres password={admin} dbname=postgres",
            proc.stdout.strip(),
            reader,
        )
    finally:
        with contextlib.suppress(AssertionError):
            ecom("serve", "--stop", data_dir=data_dir, env=env)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium for the browser tests: skipped with one line when it is not installed (failed in CI)."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if path is None:
        message = "Chromium is not installed: `apt-get install chromium` to run the browser tests"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def data_dir():
    path = reachable_tmp_dir("ecom-serving-")
    yield path
    shutil.rmtree(path, ignore_errors=True)
