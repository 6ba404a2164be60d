"""Passwords of the PostgreSQL roles: configured, else generated once into `$ECOM_DATA_DIR/secrets` (0600)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from pipeline.publish.postgres.cluster import ADMIN_ROLE
from pipeline.settings import Settings

READER_ROLE = "bi_reader"


def _secret(path: Path, configured: str) -> str:
    """The configured value, else the one generated earlier, else a new one stored with 0600 permissions."""
    if configured:
        return configured
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(24)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.replace(path.with_suffix(".tmp"), path)
    return value


def reader_password(settings: Settings) -> str:
    return _secret(settings.secrets_dir / f"{READER_ROLE}.password", settings.bi_reader_password)


def admin_password(settings: Settings) -> str:
    return _secret(settings.secrets_dir / f"{ADMIN_ROLE}_admin.password", "")
