"""How long the BG/NBD fit takes, and how close it lands, on customers simulated from the published CDNOW fit.

    .venv/bin/python -m bench.bgnbd [--customers 20000] [--weeks 39] [--seed 1]

The fit itself (numpy only) lives in tests/support/bgnbd.py, where tests/generator/test_realism.py checks that it
recovers the parameters it was simulated with; bench/realism.py fits it to the generated orders. This script only
times it. Timings vary with the machine's load: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from bench.realism import CDNOW
from tests.support.bgnbd import fit, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--weeks", type=float, default=39.0, help="weeks each customer is observed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    x, t_x, big_t = simulate(np.random.default_rng(args.seed), args.customers, T=args.weeks, **CDNOW)
    started = time.perf_counter()
    fitted = fit(x, t_x, big_t)
    seconds = time.perf_counter() - started
    print(f"| BG/NBD, {args.customers:,} simulated customers over {args.weeks:g} weeks | r | alpha | a | b |")
    print("|---|---|---|---|---|")
    print("| simulated with (CDNOW) | " + " | ".join(f"{v:.3g}" for v in CDNOW.values()) + " |")
    print("| fitted | " + " | ".join(f"{getattr(fitted, k):.3g}" for k in CDNOW) + " |")
    print(f"\nfit: {seconds:.2f} s (load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
