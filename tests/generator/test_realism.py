"""The shop behaves like real shops: every measure of tests/support/realism.py lies in its documented band.

The bands are the published figures of generator/README.md (*Calibration*), not our current output; the measures
are computed over the demo window at `small` scale (about 400k sessions, 12k orders), where the sampling error
of each is far inside its band (conversion: +-0.03 points; the smallest group, fashion orders placed 30+ days
before the end, about 2,000 orders: +-1 point), so a failure means the behaviour moved, not noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.support.bgnbd import fit, simulate
from tests.support.realism import DEMO_END, DEMO_START, TARGETS, generate, measure


def test_bgnbd_fit_recovers_the_parameters_it_was_simulated_with():
    """20,000 simulated CDNOW-like customers over 39 weeks: each parameter within 25% (its sampling spread at
    this size is under 10%), so a wrong likelihood is caught while the fit's own noise is not."""
    rng = np.random.default_rng(1)
    truth = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    x, t_x, big_t = simulate(rng, 20_000, T=39.0, **truth)
    fitted = fit(x, t_x, big_t)
    for name, value in truth.items():
        assert getattr(fitted, name) == pytest.approx(value, rel=0.25), name


@pytest.mark.slow
def test_the_demo_window_is_in_every_band(tmp_path):
    lake = tmp_path / "lake"
    generate(lake, "small", DEMO_START, DEMO_END, workers=2)
    values = measure(lake)
    outside = [
        f"{t.measure}: {values[t.key]:.4f} not in [{t.low}, {t.high}] ({t.source})"
        for t in TARGETS
        if not t.low <= values[t.key] <= t.high
    ]
    assert not outside, "\n".join(outside)
    # a signup cohort's buying declines month after month
    assert values["cohort_window_0"] > values["cohort_window_1"] > values["cohort_window_2"] > 0
