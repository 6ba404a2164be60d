"""API benchmark: requests/s and p50/p95/p99 latency at 1, 10 and 50 concurrent clients, from Redis and from the
DuckDB fallback, driven by `wrk` (a compiled load generator: a Python one on the same cores would measure itself).

    .venv/bin/python -m bench.api                     # 10 s per cell
    .venv/bin/python -m bench.api --duration 30 --clients 1,10,50

It writes a build of the serving marts shaped by their contracts (tests/support/serving.py; `--customers` scores),
publishes it, starts a throwaway Redis with `ecom redis` on a free port and two `ecom api` servers (one reading
that Redis, one whose Redis is not running, so it serves from the published DuckDB file), then runs `wrk` against
each: every request is one of the API's routes in turn (hot products, bought together, viewed together, latest
KPIs, a customer), with the bearer token. The machine's load average is printed beside each row: on a shared
2-core machine other work inflates the numbers. Goal: p95 < 20 ms at 10 clients from Redis on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import free_port, log

PATHS = [
    "/v1/hot-products?season=winter&segment_type=gender&segment=female",
    "/v1/products/17/bought-together",
    "/v1/hot-products?season=summer&segment_type=region&segment=west&kind=brand",
    "/v1/products/42/viewed-together",
    "/v1/kpis/latest",
    "/v1/customers/1234",
]

WRK_SCRIPT = """
local paths = {%(paths)s}
local counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1], {["Authorization"] = "Bearer %(token)s"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, "non_2xx": %%d, ' ..
    '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d}\\n', summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def run_wrk(url: str, script: Path, clients: int, duration: int) -> dict:
    threads = 1 if clients == 1 else 2
    proc = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(clients),
            "-d",
            f"{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per cell (default 10)")
    parser.add_argument("--clients", default="1,10,50", help="concurrent clients, comma-separated")
    parser.add_argument("--customers", type=int, default=20_000, help="customers scored in the test build")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: install Debian's `wrk` package (`make system-deps` as root)")
    clients = [int(c) for c in args.clients.split(",")]

    from pipeline.publish.warehouse import publish
    from pipeline.settings import Settings
    from tests.support.api import TEST_TOKEN, local_redis, running_api
    from tests.support.serving import write_serving_build

    data_dir = Path(tempfile.mkdtemp(prefix="ecom-bench-api-"))
    rows = []
    try:
        settings = Settings.load(data_dir=data_dir)
        write_serving_build(settings, 1, customers=args.customers)
        publish(settings)
        script = data_dir / "routes.lua"
        script.write_text(
            WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in PATHS), "token": TEST_TOKEN}
        )
        log("starting Redis (ecom redis) and the API servers")
        with local_redis(data_dir) as redis_server:
            closed = {"ECOM_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
            with (
                running_api(data_dir, redis_server.env()) as from_redis,
                running_api(data_dir, closed) as fallback,
            ):
                for source, api in (("redis", from_redis), ("duckdb", fallback)):
                    run_wrk(api.url, script, 1, 1)  # warm up: first connections, DuckDB's first attach
                    for n in clients:
                        load = os.getloadavg()
                        log(f"{source}: {n} client(s) for {args.duration}s")
                        result = run_wrk(api.url, script, n, args.duration)
                        rows.append({"source": source, "clients": n, "load_1m": round(load[0], 2), **result})
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)

    print(
        f"API latency ({os.cpu_count()} cores; wrk, {args.duration}s per row; routes: {len(PATHS)} in turn)"
    )
    print(
        f"{'source':<8} {'clients':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'load 1m':>8}"
    )
    for r in rows:
        print(
            f"{r['source']:<8} {r['clients']:>7} {r['rps']:>9.0f} {r['p50_us'] / 1000:>8.1f} {r['p95_us'] / 1000:>8.1f} "
            f"{r['p99_us'] / 1000:>8.1f} {r['errors'] + r['non_2xx']:>7} {r['load_1m']:>8.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
