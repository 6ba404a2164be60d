"""The records a data dir keeps beside its databases (build.json, published.json, the lake signatures), written
atomically: a reader sees the old record or the new one, never half of one."""

from __future__ import annotations

import json
import os
from pathlib import Path

BUILD_STATE = "build.json"
LAKE_PENDING_STATE = "lake_building.json"  # the lake as the running build saw it
LAKE_BUILT_STATE = "lake_built.json"  # the lake as the last whole passing build saw it
PUBLISH_STATE = "published.json"
# the earliest day a failed or unfinished build since the last whole passing one may have written
REBUILD_PENDING = "rebuild_pending.json"


def write_json_atomic(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError):
        return None
