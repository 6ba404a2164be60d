"""What the lake holds, what was built, and what is published."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from generator.lake import CORE_TABLES, days_present
from pipeline.build.state import build_state
from pipeline.publish.postgres.serve import bi_status
from pipeline.records import PUBLISH_STATE, read_json
from pipeline.settings import Settings


@dataclass(frozen=True)
class LakeStatus:
    days: list[dt.date]  # days with every core table present
    incomplete: dict[dt.date, list[str]]  # day -> missing tables
    gaps: list[tuple[dt.date, dt.date]]  # inclusive ranges with no complete day

    @property
    def first(self) -> dt.date | None:
        return self.days[0] if self.days else None

    @property
    def last(self) -> dt.date | None:
        return self.days[-1] if self.days else None


def lake_status(settings: Settings) -> LakeStatus:
    per_table = {t: set(days_present(settings.lake_dir, t)) for t in CORE_TABLES}
    every = set().union(*per_table.values())
    complete = sorted(d for d in every if all(d in s for s in per_table.values()))
    incomplete = {d: [t for t in CORE_TABLES if d not in per_table[t]] for d in sorted(every - set(complete))}
    gaps = []
    if complete:
        start = min(settings.opening_date, complete[0])
        present = set(complete)
        d, gap_start = start, None
        while d <= complete[-1]:
            if d not in present and gap_start is None:
                gap_start = d
            if d in present and gap_start is not None:
                gaps.append((gap_start, d - dt.timedelta(days=1)))
                gap_start = None
            d += dt.timedelta(days=1)
    return LakeStatus(complete, incomplete, gaps)


def status_report(settings: Settings) -> dict:
    lake = lake_status(settings)
    return {
        "data_dir": str(settings.data_dir),
        "lake": {
            "days": len(lake.days),
            "first_day": lake.first.isoformat() if lake.first else None,
            "last_day": lake.last.isoformat() if lake.last else None,
            "gaps": [[a.isoformat(), b.isoformat()] for a, b in lake.gaps],
            "incomplete_days": {d.isoformat(): t for d, t in lake.incomplete.items()},
        },
        "build": build_state(settings),
        "published": read_json(settings.warehouse_dir / PUBLISH_STATE),
        "bi": bi_status(settings),
        "models": models_status(settings),
    }


def models_status(settings: Settings) -> dict:
    """Per customer model: the version in use (models/<name>/current.json) and its backtest metrics."""
    from pipeline.train import current_version, model_dir
    from pipeline.train.models import MODELS

    found = {}
    for name in MODELS:
        version = current_version(settings, name)
        if version is None:
            continue
        metrics = read_json(model_dir(settings, name) / version / "metrics.json")
        found[name] = {"version": version, "metrics": metrics}
    return found


def _number(metrics: dict, key: str) -> float:
    """A metric as a float; NaN when missing or null (metrics.json writes a metric that is not a number as null)."""
    value = metrics.get(key)
    return float("nan") if value is None else float(value)


def _model_line(name: str, model: dict) -> str:
    m = model.get("metrics") or {}
    if name == "churn":
        detail = (
            f"held-out AUC {_number(m, 'auc'):.3f} (recency only {_number(m, 'recency_baseline_auc'):.3f}), "
            f"Brier {_number(m, 'brier'):.3f}, calibration gap {_number(m, 'calibration_gap'):.3f}"
        )
    elif name == "clv":
        test = m.get("backtest") or {}
        winner = test.get("winner", "?")
        detail = (
            f"publishes {winner} (90-day spend off by {_number(test.get(winner) or {}, 'spend_aggregate_error'):+.1%} "
            "in the backtest)"
        )
    else:
        detail = f"k={m.get('k')}: " + ", ".join(m.get("names") or [])
    return f"  {name:<8} {model['version']}: {detail}"


def format_status(report: dict) -> str:
    lake = report["lake"]
    lines = [f"data dir   {report['data_dir']}"]
    if lake["days"]:
        lines.append(f"lake       {lake['days']} complete day(s), {lake['first_day']} .. {lake['last_day']}")
    else:
        lines.append("lake       empty (run `ecom generate` or `ecom run`)")
    for a, b in lake["gaps"]:
        lines.append(f"  gap      {a} .. {b}" if a != b else f"  gap      {a}")
    for day, tables in lake["incomplete_days"].items():
        lines.append(f"  partial  {day}: missing {', '.join(tables)}")
    build = report["build"]
    if build:
        counts = ", ".join(f"{k} {v}" for k, v in sorted((build.get("counts") or {}).items()))
        lines.append(
            f"build      {build['build_id']} {build['status']}"
            + (f" at {build['finished_at']}" if build.get("finished_at") else "")
            + (f" ({counts})" if counts else "")
        )
        if build["status"] == "interrupted":
            lines.append(
                "  stopped  before dbt finished"
                + (f": {build['interrupted_because']}" if build.get("interrupted_because") else "")
                + "; nothing of it is published (run `ecom build` again)"
            )
        for failure in build.get("failures") or []:
            lines.append(f"  failed   {failure.get('node') or failure.get('error')}")
    else:
        lines.append("build      none yet (run `ecom build`)")
    pub = report["published"]
    if pub:
        lines.append(f"published  build {pub['build_id']} at {pub['published_at']} -> {pub['path']}")
        lines.append("  tables   " + ", ".join(f"{k} ({v:,} rows)" for k, v in sorted(pub["tables"].items())))
    else:
        lines.append("published  nothing yet (run `ecom publish`)")
    lines += _postgres_lines(report.get("bi") or {})
    models = report.get("models") or {}
    lines.append(
        "models     " + ("in use:" if models else "none trained yet (run `ecom train` or `ecom build`)")
    )
    lines += [_model_line(name, model) for name, model in models.items()]
    return "\n".join(lines)


def _postgres_lines(bi: dict) -> list[str]:
    """Always one `postgres` line: whether the server runs, and what it serves (or served, when stopped)."""
    server = bi.get("server") or "not started: run `ecom serve`"
    served = bi.get("published")
    if server.startswith("none"):
        server = "not started: run `ecom serve`"
    if server.startswith("running") or server.startswith("external"):
        lines = [f"postgres   {server}"]
        if served:
            lines.append(
                f"  serves   build {served['build_id']} since {served['published_at']} at {served['target']}"
            )
            for name in served.get("pending_drops") or []:
                lines.append(f"  pending  {name} (dropped at the next publish)")
        return lines
    lines = [f"postgres   {server}"]
    if served:
        lines.append(
            f"  last     served build {served['build_id']} (published there {served['published_at']})"
        )
    return lines
