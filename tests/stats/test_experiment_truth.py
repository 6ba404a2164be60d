"""Experiment readouts scored against the true effects the generator planted (generator/experiments.py):
at seed 42 over the `small` demo window, over 20 seeds of `tiny` traffic, and under the `srm` fault."""

from __future__ import annotations

import csv
import datetime as dt
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.config import GeneratorConfig
from generator.experiments import EXPERIMENTS
from generator.run import generate_window
from predict.experiments import readout
from tests.stats.lake import experiment_frames, experiment_plan, window
from tests.support.ecom import REPO

SEEDS = range(1, 21)
SEED_WINDOW = window(dt.date(2025, 9, 8), dt.date(2025, 9, 21))  # the first three experiments all run


def primary(results: pd.DataFrame) -> pd.DataFrame:
    plan = experiment_plan()[["experiment_id", "true_relative_effect"]]
    out = results[results["is_primary_metric"]].merge(plan, on="experiment_id")
    return out[out["control_units"] + out["treatment_units"] > 0]


def covers(rows: pd.DataFrame) -> pd.Series:
    return (rows["relative_lift_lower"] <= rows["true_relative_effect"]) & (
        rows["true_relative_effect"] <= rows["relative_lift_upper"]
    )


def test_the_seed_holds_the_generators_plan():
    with open(REPO / "dbt_project" / "seeds" / "experiments.csv", newline="") as f:
        seed = {row["experiment_id"]: row for row in csv.DictReader(f)}
    assert set(seed) == {e.experiment_id for e in EXPERIMENTS}
    for e in EXPERIMENTS:
        row = seed[e.experiment_id]
        assert (row["description"], row["unit"], row["target_metric"], row["surface"]) == (
            e.description, e.unit, e.target_metric, e.surface,
        )  # fmt: skip
        assert float(row["allocation"]) == e.allocation
        assert (row["start_date"], row["end_date"]) == (e.start.isoformat(), e.end.isoformat())


@pytest.mark.slow
def test_seed_42_intervals_cover_the_truth_and_the_aa_shows_nothing(small_demo_lake):
    """A 95% interval misses by chance 1 time in 20; three target metrics at one fixed seed all covering
    is what the issue asks (the 20-seed test below checks the rate)."""
    units, orders = experiment_frames(small_demo_lake)
    results = primary(readout(units, experiment_plan(), orders))
    assert set(results["experiment_id"]) == {
        "exp_one_page_checkout",
        "exp_bundle_banner",
        "exp_aa_homepage_copy",
    }
    assert covers(results).all(), results.to_dict("records")
    assert not results["is_srm_flagged"].any()
    aa = results.set_index("experiment_id").loc["exp_aa_homepage_copy"]
    assert aa["relative_lift_lower"] < 0 < aa["relative_lift_upper"]
    assert aa["verdict"].startswith("no detectable difference")
    # the +20% conversion effect is found (about 6 standard errors at `small`, tests/generator/test_experiments)
    checkout = results.set_index("experiment_id").loc["exp_one_page_checkout"]
    assert checkout["verdict"].startswith("treatment is better")
    assert checkout["test_name"] == "two-proportion z"


def seed_readout(seed: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory(prefix=f"ecom-seed-{seed}-") as tmp:
        lake = Path(tmp) / "lake"
        generate_window(GeneratorConfig(scale="tiny", seed=seed), lake, SEED_WINDOW, echo=lambda _: None)
        units, orders = experiment_frames(lake)
    return primary(readout(units, experiment_plan(), orders)).assign(seed=seed)


@pytest.mark.slow
def test_over_20_seeds_intervals_cover_and_the_aa_is_rarely_flagged():
    """3 target metrics x 20 seeds = 60 intervals of nominal 95%: the misses are binomial(60, 0.05), mean 3,
    sd 1.7; 90% coverage allows 6 misses (P(more) = 0.08 for an exact method, so a lower rate is a real
    under-coverage). The A/A's conversion is flagged with probability 0.05 per seed: at most twice in 20 is
    the issue's bound (P(3 or more) = 0.075 for an exact test; the seeds are fixed, so the result is too)."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = pd.concat(list(pool.map(seed_readout, SEEDS)), ignore_index=True)
    assert len(results) == 3 * len(SEEDS)
    coverage = covers(results).mean()
    assert 0.90 <= coverage <= 1.0, results.loc[~covers(results), ["seed", "experiment_id", "relative_lift"]]
    aa = results[results["experiment_id"] == "exp_aa_homepage_copy"]
    flagged = aa["p_value"] < 0.05
    assert flagged.sum() <= 2, aa[flagged]
    assert (aa["verdict"].str.startswith("no detectable difference") == ~flagged).all()
    assert not results["is_srm_flagged"].any() or results["is_srm_flagged"].sum() <= 1
    print(
        f"\ncoverage of the 95% intervals over {len(results)}: {coverage:.1%}; A/A flagged {int(flagged.sum())}"
    )


@pytest.mark.slow
def test_srm_fault_raises_the_flag_and_the_readout_is_not_trusted(tmp_path):
    lake = tmp_path / "lake"
    days = window(dt.date(2025, 9, 1), dt.date(2025, 9, 10))
    generate_window(GeneratorConfig(scale="tiny", seed=42, inject=("srm",)), lake, days, echo=lambda _: None)
    units, orders = experiment_frames(lake)
    results = readout(units, experiment_plan(), orders)
    running = results[results["control_units"] + results["treatment_units"] > 0]
    assert set(running["experiment_id"]) >= {"exp_aa_homepage_copy", "exp_one_page_checkout"}
    assert running["is_srm_flagged"].all()
    assert (running["srm_p_value"] < 0.001).all()
    assert running["verdict"].str.startswith("not to be trusted").all()
    # the treatment arm holds far fewer units than the planned half
    share = running["treatment_units"] / (running["control_units"] + running["treatment_units"])
    assert (share < 0.4).all()
    assert np.isfinite(running["srm_chi_square"]).all()
