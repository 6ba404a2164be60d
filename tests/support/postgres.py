"""A real PostgreSQL server for tests: where its data may live, and how a test reaches it."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import Settings


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
        """The settings `env_for` gives a subprocess, for this process."""
        return Settings.load(
            data_dir=data_dir, bi_dsn=self.admin_dsn, bi_reader_password=self.reader_password
        )
