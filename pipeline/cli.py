"""`ecom`: the one front door to generate, build, publish, inspect and serve the marts.

Exit codes: 0 success, 1 the pipeline ran and failed (e.g. a dbt test), 2 bad input (nothing was written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence

from generator.config import FAULT_KINDS, SCALES, ConfigError
from pipeline import __version__
from pipeline.settings import Settings, parse_date, parse_int

EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Raised instead of argparse's two-line usage dump, so the CLI prints one clear line."""


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
    p.add_argument("--locale", help="Faker locale for names and places (env ECOM_LOCALE, default en_US)")
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


def build_parser() -> Parser:
    parser = Parser(prog="ecom", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ecom {__version__}")
    parser.add_argument(
        "--data-dir", help="where lake/ and warehouse/ live (env ECOM_DATA_DIR, default ./data)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True

    p = sub.add_parser(
        "generate", help="write synthetic days to the lake", description="Write days to the lake."
    )
    _add_window(p, required=True)
    _add_generation(p)

    p = sub.add_parser("build", help="dbt build (models + tests) into build.duckdb")
    _add_build(p)

    sub.add_parser("publish", help="publish a passing build to ecommerce.duckdb, atomically")

    p = sub.add_parser("run", help="generate + build + publish a window (default: the demo)")
    _add_window(p, required=False)
    _add_generation(p)
    _add_build(p)

    p = sub.add_parser("status", help="lake days, gaps, last build and publish")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    sub.add_parser("summary", help="headline numbers from the published marts")

    p = sub.add_parser(
        "serve",
        help="serve the published marts over PostgreSQL for BI tools (starts a local server unless ECOM_BI_DSN)",
    )
    p.add_argument("--stop", action="store_true", help="stop the local PostgreSQL server")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.load(
        data_dir=args.data_dir,
        scale=getattr(args, "scale", None),
        seed=getattr(args, "seed", None),
        locale=getattr(args, "locale", None),
        workers=getattr(args, "workers", None),
        start=getattr(args, "start", None),
        end=getattr(args, "end", None),
        inject=getattr(args, "inject", None),
        engine=getattr(args, "engine", None),
    )


def echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_generate(settings: Settings) -> int:
    from generator.lake import check_writable
    from generator.run import date_range, generate_window

    cfg = settings.generator_config()
    days = date_range(settings.start, settings.end)
    for day in days:
        cfg.check_day(day)
    check_writable(settings.lake_dir)
    generate_window(cfg, settings.lake_dir, days, workers=settings.workers, echo=echo)
    return 0


def cmd_build(settings: Settings, full_refresh: bool, select: str | None) -> int:
    from generator.lake import check_writable
    from pipeline.warehouse import build

    check_writable(settings.warehouse_dir)
    echo(f"building marts into {settings.build_db}" + (" (full refresh)" if full_refresh else ""))
    result = build(settings, full_refresh=full_refresh, select=select)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.outcome.counts.items()))
    if not result.outcome.success:
        echo(
            f"build {result.build_id} FAILED after {result.seconds:.1f}s ({counts}); nothing will be published:"
        )
        echo(result.outcome.describe_failures())
        return EXIT_FAILED
    echo(f"build {result.build_id} passed in {result.seconds:.1f}s ({counts})")
    return 0


def cmd_publish(settings: Settings) -> int:
    from pipeline.warehouse import publish

    result = publish(settings)
    rows = sum(result.tables.values())
    echo(
        f"published build {result.build_id} to {result.path}: "
        f"{len(result.tables)} tables, {rows:,} rows in {result.seconds:.1f}s"
    )
    # Same as the refresh DAG: PostgreSQL follows when it is configured (ECOM_BI_DSN or a running `ecom serve`).
    from pipeline.serve import bi_configured

    if bi_configured(settings):
        from pipeline.postgres import publish_postgres

        pg = publish_postgres(settings)
        echo(f"published build {pg.build_id} to PostgreSQL {pg.target} in {pg.seconds:.1f}s")
    return 0


def cmd_run(settings: Settings, full_refresh: bool, select: str | None) -> int:
    code = cmd_generate(settings)
    if code == 0:
        code = cmd_build(settings, full_refresh, select)
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


def cmd_serve(settings: Settings, stop: bool) -> int:
    from pipeline.serve import serve
    from pipeline.serve import stop as stop_server

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        settings = _settings(args)
        if args.command == "generate":
            return cmd_generate(settings)
        if args.command == "build":
            return cmd_build(settings, args.full_refresh, args.select)
        if args.command == "publish":
            return cmd_publish(settings)
        if args.command == "run":
            return cmd_run(settings, args.full_refresh, args.select)
        if args.command == "status":
            return cmd_status(settings, args.json)
        if args.command == "summary":
            return cmd_summary(settings)
        if args.command == "serve":
            return cmd_serve(settings, args.stop)
    except UsageError as exc:
        echo(str(exc))
        return EXIT_USAGE
    except ConfigError as exc:
        from pipeline.warehouse import PublishRefused

        echo(f"ecom: {exc}")
        return EXIT_FAILED if isinstance(exc, PublishRefused) else EXIT_USAGE
    except KeyboardInterrupt:
        echo("ecom: interrupted; completed partitions are kept, a re-run finishes the rest")
        return 130
    echo(f"ecom: unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
