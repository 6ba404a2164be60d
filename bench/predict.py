"""Train and score time and peak memory of the customer models, at `small` and `medium`.

    .venv/bin/python -m bench.predict [--scales small medium] [--days 150]

Generates a lake per scale in a temporary folder (`--days` from the opening date), reads it as the training step
does, then trains and scores each model in a fresh process (peak memory is that process's maximum RSS). Also
times BG/NBD + Gamma-Gamma (lifetimes) fit and scoring on 100,000 customers simulated from the CDNOW fit.
Goals (issue 17): BG/NBD fit + scoring of 100k customers < 5 s; churn training at medium < 30 s. Timings vary
with the machine's load: the load average is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path


def _measure(queue, lake: str, name: str, as_of: str) -> None:
    from threadpoolctl import threadpool_limits

    from pipeline.train.data import read_customer_frames
    from pipeline.train.models import TRAINERS
    from pipeline.train.score import score

    frames = read_customer_frames(Path(lake))
    day = dt.date.fromisoformat(as_of)
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        model, _ = TRAINERS[name](frames, day, 90, 42)
        trained = time.perf_counter() - started
        started = time.perf_counter()
        tables = score(None, frames, day, {name: (model, "bench")}, 90)
        scored = time.perf_counter() - started
    rows = max((len(t) for t in tables.values()), default=0)
    queue.put((trained, scored, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _bgnbd_100k(queue) -> None:
    import numpy as np

    from predict import btyd
    from tests.support.bgnbd import simulate

    x, t_x, big_t = simulate(
        np.random.default_rng(1), 100_000, T=39.0, r=0.243, alpha=4.414, a=0.793, b=2.426
    )
    monetary = np.where(x > 0, np.random.default_rng(2).gamma(6.0, 5.0, len(x)), 0.0)
    started = time.perf_counter()
    params = btyd.fit_btyd(x, t_x, big_t, monetary)
    fitted = time.perf_counter() - started
    started = time.perf_counter()
    btyd.expected_orders(params, 13, x, t_x, big_t) * btyd.expected_order_value(params, x, monetary)
    btyd.probability_alive(params, x, t_x, big_t)
    queue.put(
        (
            fitted,
            time.perf_counter() - started,
            len(x),
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        )
    )


def _child(target, *args):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(queue, *args))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", nargs="+", default=["small", "medium"])
    parser.add_argument("--days", type=int, default=150, help="days of lake from the opening date (>= 118)")
    args = parser.parse_args(argv)
    from generator.config import DEFAULT_OPENING_DATE, GeneratorConfig
    from generator.run import date_range, generate_window
    from pipeline.train.models import MODELS

    rows = []
    fit, scoring, n, peak = _child(_bgnbd_100k)
    rows.append(("BG/NBD + Gamma-Gamma, CDNOW-simulated", "-", n, fit, scoring, peak))
    end = DEFAULT_OPENING_DATE + dt.timedelta(days=args.days - 1)
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"bench-predict-{scale}-") as tmp:
            lake = Path(tmp) / "lake"
            started = time.perf_counter()
            generate_window(GeneratorConfig(scale=scale), lake, date_range(DEFAULT_OPENING_DATE, end), workers=2,
                            echo=lambda line: None)  # fmt: skip
            print(
                f"[bench] generated {scale} ({args.days} days) in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            for name in MODELS:
                trained, scored, count, peak = _child(_measure, str(lake), name, end.isoformat())
                rows.append((name, scale, count, trained, scored, peak))
    print(f"| model | scale ({args.days} days) | customers scored | train s | score s | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for name, scale, count, trained, scored, peak in rows:
        print(f"| {name} | {scale} | {count:,} | {trained:.2f} | {scored:.2f} | {peak:,.0f} |")
    print(f"\nload average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
