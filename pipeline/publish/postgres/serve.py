"""`ecom serve`: the published marts over PostgreSQL for BI tools (a local server unless ECOM_BI_DSN names one)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.errors import BiError, PublishRefused
from pipeline.publish.postgres.cluster import LocalCluster
from pipeline.publish.postgres.connect import reader_url
from pipeline.publish.postgres.passwords import admin_password, reader_password
from pipeline.publish.postgres.publish import BI_PUBLISH_STATE, BiPublishResult, publish_postgres
from pipeline.records import read_json
from pipeline.settings import Settings


@dataclass(frozen=True)
class ServeResult:
    url: str  # bi_reader's connection URL, password included: what BI tools need
    started: bool
    local: bool
    publish: BiPublishResult


def bi_configured(settings: Settings) -> bool:
    """PostgreSQL serving is on when ECOM_BI_DSN names a server or `ecom serve` left the local one running."""
    if settings.bi_dsn:
        return True
    try:
        return LocalCluster.for_settings(settings).running()
    except BiError:
        return False


def serve(settings: Settings) -> ServeResult:
    """Start the local cluster unless ECOM_BI_DSN names a server, then publish; the server keeps running."""
    if not settings.publish_db.exists():
        raise PublishRefused(
            f"no published marts yet at {settings.publish_db} (run `ecom run`, or `ecom build` and `ecom publish`)"
        )
    started = False
    if not settings.bi_dsn:
        cluster = LocalCluster.for_settings(settings)
        was_running = cluster.running()
        cluster.ensure_running(admin_password(settings))
        started = not was_running
    result = publish_postgres(settings)
    password = reader_password(settings)
    url = reader_url(settings, password)
    return ServeResult(url, started, not settings.bi_dsn, result)


def stop(settings: Settings) -> bool:
    """Stop the local cluster; False when it was not running."""
    if settings.bi_dsn:
        raise BiError(
            "ECOM_BI_DSN points at an external server: `ecom serve --stop` only stops the local one"
        )
    cluster = LocalCluster.for_settings(settings)
    return cluster.initialized() and cluster.stop()


def bi_status(settings: Settings) -> dict:
    """What PostgreSQL serves (the last BI publish record) and whether the local server runs."""
    report: dict = {"published": read_json(settings.warehouse_dir / BI_PUBLISH_STATE)}
    if settings.bi_dsn:
        report["server"] = "external server (ECOM_BI_DSN)"
        return report
    try:
        cluster = LocalCluster.for_settings(settings)
        if not cluster.initialized():
            report["server"] = "none (run `ecom serve`)"
        elif cluster.running():
            report["server"] = f"running on 127.0.0.1:{cluster.running_port() or settings.bi_port}"
        else:
            report["server"] = "stopped (run `ecom serve`)"
    except BiError as exc:
        report["server"] = str(exc)
    return report
