"""Model artifacts on disk: deterministic bytes, a version named by its inputs, refused when corrupted.

An artifact is a folder `<version>/` holding `model.pkl` (pickle protocol 5 of the fitted objects), `metrics.json`
and `manifest.json` (sorted keys, no timestamps: the same inputs give byte-identical files). The version is the
as-of date and the first 12 hex digits of the SHA-256 of the training data's fingerprint and the settings, e.g.
`2025-12-31-3f2a9c1b7d0e`. The manifest holds the SHA-256 of model.pkl; `load_artifact` checks it before it
unpickles anything and raises `ArtifactCorrupted` naming the file otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PICKLE_PROTOCOL = 5
MODEL_FILE = "model.pkl"
METRICS_FILE = "metrics.json"
MANIFEST_FILE = "manifest.json"


class ArtifactCorrupted(ValueError):
    """An artifact's files are missing, unreadable or do not match their manifest."""


def frame_fingerprint(*frames: pd.DataFrame) -> str:
    """SHA-256 over the frames' columns and values (row order matters: sort before)."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(",".join(map(str, frame.columns)).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def version_of(as_of: dt.date, data_fingerprint: str, settings: dict[str, Any]) -> str:
    digest = hashlib.sha256((data_fingerprint + json_text(settings)).encode()).hexdigest()
    return f"{as_of.isoformat()}-{digest[:12]}"


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return round(float(value), 10) if np.isfinite(value) else None  # JSON has no NaN: null
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (dt.date, Path)):
        return str(value)
    return value


def json_text(value: Any) -> str:
    """Sorted keys, floats rounded to 10 digits, NaN and infinities as null: the same values give the same text,
    and it is strict JSON (what Airflow's XCom and every JSON reader accept)."""
    return json.dumps(_plain(value), sort_keys=True, indent=2) + "\n"


def write_artifact(folder: Path, model: Any, metrics: dict, manifest: dict) -> None:
    """Write the artifact's three files into `folder` (which the caller then renames into place)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    payload = pickle.dumps(model, protocol=PICKLE_PROTOCOL)
    (folder / MODEL_FILE).write_bytes(payload)
    (folder / METRICS_FILE).write_text(json_text(metrics))
    manifest = {**manifest, "model_sha256": hashlib.sha256(payload).hexdigest()}
    (folder / MANIFEST_FILE).write_text(json_text(manifest))


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / MANIFEST_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactCorrupted(
            f"artifact {folder}: {MANIFEST_FILE} is missing or unreadable ({exc})"
        ) from None


def read_metrics(folder: Path) -> dict:
    try:
        return json.loads((Path(folder) / METRICS_FILE).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactCorrupted(
            f"artifact {folder}: {METRICS_FILE} is missing or unreadable ({exc})"
        ) from None


def load_artifact(folder: Path) -> tuple[Any, dict, dict]:
    """(model, metrics, manifest) of the artifact in `folder`; `ArtifactCorrupted` when it does not check out."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    try:
        payload = (folder / MODEL_FILE).read_bytes()
    except OSError:
        raise ArtifactCorrupted(f"artifact {folder}: {MODEL_FILE} is missing") from None
    if hashlib.sha256(payload).hexdigest() != manifest.get("model_sha256"):
        raise ArtifactCorrupted(
            f"artifact {folder}: {MODEL_FILE} does not match the SHA-256 in its manifest (corrupted or edited)"
        )
    return pickle.loads(payload), read_metrics(folder), manifest  # checked against the manifest above
