"""Training step: read the lake, train the customer models (predict/), write versioned artifacts.

`ecom train [--as-of D] [--model NAME]` and the training DAG call `train`. Each artifact lands in
`$ECOM_DATA_DIR/models/<name>/<version>/` atomically (written in a temporary folder beside it, then renamed),
and `models/<name>/current.json` names the version the refresh scores with. A training that fails leaves the
folder and `current.json` as they were: the previous artifact stays in use.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.errors import BadInput, PipelineFailed
from pipeline.settings import Settings
from pipeline.train.models import MIN_FEATURE_DAYS, MODELS, TRAINERS, frames_until

CURRENT_FILE = "current.json"


@dataclass(frozen=True)
class Trained:
    name: str
    version: str
    path: Path
    metrics: dict
    reused: bool  # the same inputs were trained before: the artifact is byte-identical, kept as it was


def churn_horizon_days(settings: Settings) -> int:
    """`ecom__churn_horizon_days` of dbt_project.yml: the churn label's horizon, shared with the marts."""
    project = yaml.safe_load((settings.dbt_project_dir / "dbt_project.yml").read_text())
    return int(project["vars"]["ecom__churn_horizon_days"])


def needed_days(horizon: int) -> int:
    return horizon + MIN_FEATURE_DAYS


def check_history(frames, as_of: dt.date | None, horizon: int) -> dt.date:
    """The as-of day to train on, or `BadInput` naming what the lake lacks."""
    if frames.last_day is None:
        raise BadInput(
            "the lake holds no orders: generate days first (`ecom generate --start ... --end ...`)"
        )
    as_of = as_of or frames.last_day
    if as_of > frames.last_day:
        raise BadInput(f"--as-of {as_of} is after the lake's last day {frames.last_day}")
    held = (as_of - frames.first_day).days + 1
    if held < needed_days(horizon):
        raise BadInput(
            f"training needs {needed_days(horizon)} days of history up to {as_of} (a {horizon}-day churn horizon "
            f"+ {MIN_FEATURE_DAYS} days of features); the lake holds {max(held, 0)} from {frames.first_day}"
        )
    return as_of


def one_thread():
    """scikit-learn's OpenMP pools limited to one thread: on a shared 2-core machine (CI, Airflow workers) a
    pool per core spins against the other processes and made training six times slower than one thread."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def model_dir(settings: Settings, name: str) -> Path:
    return settings.models_dir / name


def current_version(settings: Settings, name: str) -> str | None:
    try:
        return json.loads((model_dir(settings, name) / CURRENT_FILE).read_text())["version"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None


def _set_current(settings: Settings, name: str, version: str) -> None:
    folder = model_dir(settings, name)
    tmp = folder / f".{CURRENT_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({"version": version}, sort_keys=True) + "\n")
    os.replace(tmp, folder / CURRENT_FILE)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def train_one(settings: Settings, frames, name: str, as_of: dt.date, horizon: int) -> Trained:
    from predict.artifacts import frame_fingerprint, json_text, read_metrics, version_of, write_artifact

    model, info = TRAINERS[name](frames, as_of, horizon, settings.seed)
    fingerprint = frame_fingerprint(frames.users, frames.orders, frames.sessions)
    described = {"model": name, "horizon_days": horizon, **info["settings"]}
    version = version_of(as_of, fingerprint, described)
    folder = model_dir(settings, name)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / version
    reused = final.is_dir() and _intact(final)
    if final.is_dir() and not reused:  # the same inputs, but its files were damaged: write it again
        shutil.rmtree(final)
    if not reused:
        tmp = folder / f".{version}.{os.getpid()}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        manifest = {"name": name, "version": version, "as_of": as_of, "data_sha256": fingerprint,
                    "settings": described}  # fmt: skip
        write_artifact(tmp, model, info["metrics"], manifest)
        os.rename(tmp, final)
        _fsync_dir(folder)
    _set_current(settings, name, version)
    metrics = read_metrics(final) if reused else json.loads(json_text(info["metrics"]))
    return Trained(name, version, final, metrics, reused)


def _intact(folder: Path) -> bool:
    from predict.artifacts import ArtifactCorrupted, load_artifact

    try:
        load_artifact(folder)
    except ArtifactCorrupted:
        return False
    return True


def read_frames(settings: Settings, until: dt.date | None = None, cache: bool = True):
    """The lake's frames; with `cache`, the sessions through the per-day cache under models/cache/sessions."""
    from pipeline.train.data import read_customer_frames

    folder = settings.models_dir / "cache" / "sessions" if cache else None
    return read_customer_frames(settings.lake_dir, until, cache=folder)


def train(
    settings: Settings,
    as_of: dt.date | None = None,
    models: tuple[str, ...] | None = None,
    echo: Callable[[str], None] | None = None,
    frames=None,
) -> list[Trained]:
    """Train `models` (default: all) as of `as_of` (default: the lake's last day); one artifact each.

    Refuses, writing nothing, an unknown model, an empty lake or one with less history than the churn horizon
    needs (`BadInput`). A model whose training fails keeps its previous artifact (`PipelineFailed` after the
    others were trained, naming it and why).
    """
    echo = echo or (lambda line: None)
    models = tuple(models or MODELS)
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise BadInput(f"unknown model {unknown[0]!r}: choose from {', '.join(MODELS)}")
    horizon = churn_horizon_days(settings)
    # `ecom train` on its own reads the lake without the cache: a refused training writes nothing
    frames = frames if frames is not None else read_frames(settings, cache=False)
    as_of = check_history(frames, as_of, horizon)
    frames = frames_until(frames, as_of)
    done, failed = [], []
    for name in models:
        try:
            with one_thread():
                trained = train_one(settings, frames, name, as_of, horizon)
        except Exception as exc:  # one model's failure must not cost the others theirs
            previous = current_version(settings, name)
            lines = str(exc).strip().splitlines()
            reason = " ".join(lines[0].split()) if lines else type(exc).__name__
            echo(
                f"training {name} as of {as_of} FAILED: {reason}; "
                + (f"{previous} stays in use" if previous else "no artifact to fall back on")
            )
            failed.append((name, reason))
            continue
        echo(f"trained {name} as of {as_of}: {trained.version}" + (" (unchanged)" if trained.reused else ""))
        done.append(trained)
    if failed:
        raise PipelineFailed(
            "training failed for "
            + "; ".join(f"{n}: {r}" for n, r in failed)
            + " (previous artifacts stay in use)"
        )
    return done
