"""Passwords of the PostgreSQL roles: configured, else generated once into `$ECOM_DATA_DIR/secrets` (0600)."""

from __future__ import annotations

from pipeline.publish.postgres.cluster import ADMIN_ROLE
from pipeline.settings import Settings, stored_secret

READER_ROLE = "bi_reader"


def reader_password(settings: Settings) -> str:
    return stored_secret(settings.secrets_dir / f"{READER_ROLE}.password", settings.bi_reader_password)


def admin_password(settings: Settings) -> str:
    return stored_secret(settings.secrets_dir / f"{ADMIN_ROLE}_admin.password", "")
