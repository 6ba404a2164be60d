"""`ecom`: the one front door to generate, build, publish, inspect and serve the marts.

Exit codes: 0 success, 1 the pipeline ran and failed (e.g. a dbt test), 2 bad input (nothing was written),
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import re
import signal
import sys
from collections.abc import Sequence

from generator.config import FAULT_KINDS, SCALES, ConfigError
from generator.markets import MARKETS
from pipeline import __version__
from pipeline.errors import BadInput, UsageError, as_ecom_error
from pipeline.settings import Settings, parse_date, parse_int

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what `ecom status | head -1` would report had Python not caught it


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's hook for bad arguments
        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _date(name: str):
    def convert(value: str) -> dt.date:
        try:
            return parse_date(value, name)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = "date"
    return convert


def _int(name: str, lo: int, hi: int):
    def convert(value: str) -> int:
        try:
            return parse_int(value, name, lo, hi)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = "integer"
    return convert


def _add_window(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument("--start", type=_date("--start"), required=required, help="first day, YYYY-MM-DD")
    p.add_argument("--end", type=_date("--end"), required=required, help="last day, YYYY-MM-DD (inclusive)")


def _add_generation(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", choices=list(SCALES), help="volume preset (env ECOM_SCALE, default small)")
    p.add_argument(
        "--seed", type=_int("--seed", 0, 2**63 - 1), help="random seed (env ECOM_SEED, default 42)"
    )
    p.add_argument(
        "--market",
        choices=list(MARKETS),
        help="regions, time zones, currency, sales calendar (env ECOM_MARKET, default us)",
    )
    p.add_argument(
        "--locale", help="Faker locale of customers' names (env ECOM_LOCALE, default: the market's)"
    )
    p.add_argument("--workers", type=_int("--workers", 1, 64), help="days generated in parallel (default 1)")
    p.add_argument(
        "--inject",
        metavar="KIND[,KIND...]",
        help="corrupt the generated days on purpose; kinds: " + ", ".join(FAULT_KINDS),
    )


def _add_build(p: argparse.ArgumentParser) -> None:
    p.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    p.add_argument("--select", help="dbt node selection, e.g. 'dm_kpi_daily+' (default: everything)")
    p.add_argument(
        "--engine", choices=["duckdb", "spark"], help="dbt target (env ECOM_ENGINE, default duckdb)"
    )
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="refuse at once when another build is running, instead of waiting for it",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="stream dbt's whole output (default: a progress line per tenth of the nodes, the log in a file)",
    )


COMMANDS = {
    "generate": "Write synthetic days to the lake (one partition per table per day; a day is replaced whole).",
    "build": "dbt build (models and data tests) into build.duckdb; refuses a lake with missing days.",
    "publish": "Publish a passing build to ecommerce.duckdb, atomically (and to PostgreSQL when configured).",
    "run": "Generate, build and publish a window (default: the demo), filling missing history first.",
    "status": "Lake days and gaps, the last build (passed, failed, running or interrupted), what is published.",
    "summary": "Headline numbers from the published marts, and where to go next.",
    "train": "Train the customer models (churn, clv, clusters) into versioned artifacts under models/.",
    "serve": "Serve the published marts over PostgreSQL for BI tools (starts a local server unless "
    "ECOM_BI_DSN names one); prints the bi_reader URL.",
    "redis": "Start the local Redis server for the API (unless ECOM_REDIS_URL names one) and load the published "
    "marts into it as a new version.",
    "api": "Run the HTTP API (hot products, bought together, KPIs, customer scores) on ECOM_API_HOST:ECOM_API_PORT.",
}


def build_parser() -> Parser:
    parser = Parser(prog="ecom", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ecom {__version__}")
    parser.add_argument(
        "--data-dir", help="where lake/ and warehouse/ live (env ECOM_DATA_DIR, default ./data)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    parsers = {
        name: sub.add_parser(name, help=text[0].lower() + text[1:].rstrip("."), description=text)
        for name, text in COMMANDS.items()
    }
    _add_window(parsers["generate"], required=True)
    _add_generation(parsers["generate"])
    _add_build(parsers["build"])
    _add_window(parsers["run"], required=False)
    _add_generation(parsers["run"])
    _add_build(parsers["run"])
    parsers["status"].add_argument("--json", action="store_true", help="machine-readable output")
    parsers["train"].add_argument(
        "--as-of", type=_date("--as-of"), help="train on the lake up to this day (default: its last day)"
    )
    parsers["train"].add_argument(
        "--model",
        action="append",
        choices=["churn", "clv", "clusters"],
        help="one model (repeatable; default all)",
    )
    parsers["serve"].add_argument("--stop", action="store_true", help="stop the local PostgreSQL server")
    parsers["redis"].add_argument("--stop", action="store_true", help="stop the local Redis server")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.load(
        data_dir=args.data_dir,
        scale=getattr(args, "scale", None),
        seed=getattr(args, "seed", None),
        locale=getattr(args, "locale", None),
        market=getattr(args, "market", None),
        workers=getattr(args, "workers", None),
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        inject=getattr(args, "inject", None),
        engine=getattr(args, "engine", None),
    )
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        raise BadInput(
            f"cannot write to {settings.data_dir}: it is a file, not a directory "
            "(point ECOM_DATA_DIR or --data-dir at a folder; it is created when missing)"
        )
    return settings


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


_GENERATED = re.compile(r"\s*generated (\d+)/(\d+) days")


def _every_tenth(echo):
    """Let through the generator's progress lines only at each tenth of the days (and the last one)."""
    reported = -1

    def filtered(line: str) -> None:
        nonlocal reported
        match = _GENERATED.match(line)
        if match:
            done, total = int(match.group(1)), int(match.group(2))
            tenth = done * 10 // max(total, 1)
            if tenth <= reported and done != total:
                return
            reported = tenth
        echo(line)

    return filtered


def cmd_generate(settings: Settings, fill_history: bool = False) -> int:
    from generator.lake import check_writable
    from generator.run import date_range, generate_window
    from pipeline.lake.check import compact_ranges, generate_command, missing_days

    cfg = settings.generator_config()
    days = date_range(settings.start, settings.end)
    for day in days:
        cfg.check_day(day)
    check_writable(settings.lake_dir)
    if fill_history:
        history = [d for d in missing_days(settings, until=settings.start) if d < settings.start]
        if history:
            echo(
                f"filling the lake's history first: {len(history)} day(s) missing since the opening date "
                f"{settings.opening_date} ({compact_ranges(history)})"
            )
            generate_window(
                dataclasses.replace(cfg, inject=()),
                settings.lake_dir,
                history,
                settings.workers,
                _every_tenth(echo),
            )
    generate_window(cfg, settings.lake_dir, days, workers=settings.workers, echo=_every_tenth(echo))
    missing = missing_days(settings)
    if missing:
        echo(
            f"note: the lake misses {len(missing)} day(s) since the opening date ({compact_ranges(missing)}); "
            f"`ecom build` refuses until `{generate_command(settings, missing[0], missing[-1])}` fills them"
        )
    return 0


def cmd_build(settings: Settings, args: argparse.Namespace) -> int:
    from pipeline.build.run import build

    log_file = None if args.verbose else settings.build_log
    result = build(
        settings,
        full_refresh=args.full_refresh,
        select=args.select,
        wait=not args.no_wait,
        echo=echo,
        log_file=log_file,
    )
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.outcome.counts.items()))
    if not result.outcome.success:
        echo(
            f"build {result.build_id} FAILED after {result.seconds:.1f}s ({counts}); nothing will be published:"
        )
        echo(result.outcome.describe_failures())
        if log_file:
            echo(f"dbt's full log: {log_file}")
        return 1
    echo(f"build {result.build_id} passed in {result.seconds:.1f}s ({counts})")
    return 0


def cmd_publish(settings: Settings) -> int:
    from pipeline.publish.warehouse import publish

    result = publish(settings, echo=echo)
    rows = sum(result.tables.values())
    echo(
        f"published build {result.build_id} to {result.path}: "
        f"{len(result.tables)} tables, {rows:,} rows in {result.seconds:.1f}s"
    )
    # Same as the refresh DAG: PostgreSQL follows when it is configured (ECOM_BI_DSN or a running `ecom serve`).
    from pipeline.publish.postgres.serve import bi_configured

    if bi_configured(settings):
        from pipeline.publish.postgres.publish import publish_postgres

        pg = publish_postgres(settings)
        echo(f"published build {pg.build_id} to PostgreSQL {pg.target} in {pg.seconds:.1f}s")
    _publish_redis(settings)
    return 0


def _publish_redis(settings: Settings) -> None:
    """Redis follows too when it serves (ECOM_REDIS_URL or a running `ecom redis`); else one line says so."""
    from pipeline.publish.redis.publish import publish_if_serving

    result = publish_if_serving(settings)
    if isinstance(result, str):
        echo(result)
        return
    echo(
        f"published build {result.build_id} to Redis {result.target} as version {result.version}: "
        f"{sum(result.documents.values()):,} documents in {result.seconds:.1f}s"
    )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from pipeline.build.lock import build_lock

    code = cmd_generate(settings, fill_history=True)
    if code:
        return code
    # One lock across build and publish: no other build can replace this one before it is published.
    with build_lock(settings, wait=not args.no_wait, echo=echo):
        code = cmd_build(settings, args)
        if code == 0:
            code = cmd_publish(settings)
    return code


def cmd_status(settings: Settings, as_json: bool) -> int:
    from pipeline.status import format_status, status_report

    report = status_report(settings)
    print(json.dumps(report, indent=2, default=str) if as_json else format_status(report))
    return 0


def cmd_summary(settings: Settings) -> int:
    from pipeline.summary import summary_text

    print(summary_text(settings))
    return 0


def cmd_train(settings: Settings, args: argparse.Namespace) -> int:
    from pipeline.train import train

    for trained in train(settings, as_of=args.as_of, models=args.model, echo=echo):
        print(trained.path, flush=True)
    return 0


def cmd_serve(settings: Settings, stop: bool) -> int:
    from pipeline.publish.postgres.serve import serve
    from pipeline.publish.postgres.serve import stop as stop_server

    if stop:
        echo(
            "stopped the local PostgreSQL server"
            if stop_server(settings)
            else "the local PostgreSQL server is not running"
        )
        return 0
    result = serve(settings)
    pub = result.publish
    if result.local:
        echo(
            ("started" if result.started else "reusing")
            + f" the local PostgreSQL server on 127.0.0.1:{settings.bi_port}"
        )
    echo(
        f"published build {pub.build_id} to {pub.target}, schema marts: "
        f"{len(pub.tables)} tables, {sum(pub.tables.values()):,} rows in {pub.seconds:.1f}s"
    )
    for name in pub.pending_drops:
        echo(f"  {name} is still read by a session; it is dropped at the next publish")
    echo("connect BI tools as the read-only role bi_reader:")
    print(result.url, flush=True)
    if result.local:
        echo("stop it with `ecom serve --stop`")
    return 0


def cmd_redis(settings: Settings, stop: bool) -> int:
    from pipeline.publish.redis.publish import connect, publish_redis
    from pipeline.publish.redis.server import LocalRedis, RedisError, redis_password

    local = LocalRedis.for_settings(settings)
    if stop:
        if settings.redis_url:
            raise RedisError(
                "ECOM_REDIS_URL points at an external server: `ecom redis --stop` only stops the local one"
            )
        stopped = local.stop(redis_password(settings))
        echo("stopped the local Redis server" if stopped else "the local Redis server is not running")
        return 0
    if settings.redis_url:
        connect(settings)  # reachable, or one line saying why not
    else:
        started = local.ensure_running(redis_password(settings))
        echo(
            ("started" if started else "reusing")
            + f" the local Redis server on 127.0.0.1:{settings.redis_port}"
        )
    if not settings.publish_db.exists():
        echo(f"no published marts yet at {settings.publish_db}: `ecom run` publishes them here too")
    else:
        result = publish_redis(settings)
        echo(
            f"published build {result.build_id} to Redis {result.target} as version {result.version}: "
            f"{sum(result.documents.values()):,} documents in {result.seconds:.1f}s"
        )
    if not settings.redis_url:
        echo("stop it with `ecom redis --stop`")
    return 0


def cmd_api(settings: Settings) -> int:
    import uvicorn

    echo(
        f"the API on http://{settings.api_host}:{settings.api_port} (docs at /docs); "
        f"bearer token: ECOM_API_TOKEN, else {settings.secrets_dir / 'api.token'}"
    )
    # by import string: the app is built in the server process, from the same settings (the environment)
    os.environ["ECOM_DATA_DIR"] = str(settings.data_dir)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
    )
    return 0


def _dispatch(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    settings = _settings(args)
    if args.command == "generate":
        return cmd_generate(settings)
    if args.command == "build":
        return cmd_build(settings, args)
    if args.command == "publish":
        return cmd_publish(settings)
    if args.command == "run":
        return cmd_run(settings, args)
    if args.command == "status":
        return cmd_status(settings, args.json)
    if args.command == "summary":
        return cmd_summary(settings)
    if args.command == "train":
        return cmd_train(settings, args)
    if args.command == "serve":
        return cmd_serve(settings, args.stop)
    if args.command == "redis":
        return cmd_redis(settings, args.stop)
    if args.command == "api":
        return cmd_api(settings)
    raise UsageError(f"ecom: unknown command {args.command!r}")


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM stops a run the way Ctrl-C does: recorded, one line, exit 130


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # inside the try: a closed pipe must fail here, not at interpreter exit
        return code
    except BrokenPipeError:
        # `ecom status | head -1`: the reader has gone, which is not an error of ours; say nothing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except (Exception, KeyboardInterrupt) as exc:
        error = as_ecom_error(exc)
        if error is None:
            raise  # a bug: the traceback is what a maintainer needs
        echo(error.line())
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
