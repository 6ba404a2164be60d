"""The API's bearer token: ECOM_API_TOKEN, else one generated once into `secrets/api.token` (0600)."""

from __future__ import annotations

from pipeline.settings import Settings, stored_secret

TOKEN_FILE = "api.token"


def api_token(settings: Settings) -> str:
    return stored_secret(settings.secrets_dir / TOKEN_FILE, settings.api_token, nbytes=32)
