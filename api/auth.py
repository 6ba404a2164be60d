"""The API's bearer token: ECOM_API_TOKEN, else one generated once into `secrets/api.token` (0600)."""

from __future__ import annotations

import contextlib
import os
import secrets

from pipeline.settings import Settings

TOKEN_FILE = "api.token"


def api_token(settings: Settings) -> str:
    if settings.api_token:
        return settings.api_token
    path = settings.secrets_dir / TOKEN_FILE
    with contextlib.suppress(FileNotFoundError):
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    os.replace(tmp, path)
    return value
