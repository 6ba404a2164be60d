"""Data-quality gate: every fault the generator can inject makes `ecom build` fail on a test that names the
problem, `ecom publish` then refuses, and the previously published marts stay served, unchanged."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from generator.config import FAULT_KINDS
from tests.support.ecom import ecom
from tests.support.marts import published_build_id, published_marts

pytestmark = pytest.mark.slow

START, FAULTY_DAY = "2025-09-01", "2025-09-03"

# The failing test each fault must trip (on the lake source or its staging model), as a pattern over the
# failure summary of `ecom build`.
EXPECTED_FAILURE = {
    "duplicate_keys": r"unique_\w*orders_order_id",
    "null_keys": r"not_null_\w*order_items_order_id",
    "orphan_order_items": r"relationships_\w*order_items_order_id",
    "negative_prices": r"accepted_range_\w*order_items_unit_price",
    "out_of_order_funnel": r"funnel_purchase_after_checkout",
    "schema_drift": r"not_null_\w*orders_order_total",
    "missing_partition": r"assert_no_missing_lake_partitions",
    "srm": r"assert_experiment_exposures_match_their_allocation",
}


def test_every_fault_kind_has_an_expected_failure():
    assert set(EXPECTED_FAILURE) == set(FAULT_KINDS)


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory):
    """The same days without a fault: they build and publish (so each failure below is the fault's doing)."""
    data_dir = tmp_path_factory.mktemp("clean-run")
    ecom("generate", "--scale", "tiny", "--start", START, "--end", FAULTY_DAY, data_dir=data_dir)
    ecom("build", data_dir=data_dir)
    ecom("publish", data_dir=data_dir)
    return data_dir


def copy_clean_run(clean: Path, target: Path) -> None:
    """The lake, the build and the published marts of the clean run (the next build is incremental)."""
    shutil.copytree(clean, target, dirs_exist_ok=True)


@pytest.mark.parametrize("kind", sorted(FAULT_KINDS))
def test_fault_fails_the_build_and_blocks_publish(kind, clean_run, tmp_path):
    copy_clean_run(clean_run, tmp_path)
    served = published_marts(tmp_path)
    served_build = published_build_id(tmp_path)
    ecom("generate", "--scale", "tiny", "--start", FAULTY_DAY, "--end", FAULTY_DAY, "--inject", kind,
         data_dir=tmp_path)  # fmt: skip

    build = ecom("build", data_dir=tmp_path, check=False)
    assert build.returncode == 1, build.stderr[-3000:]
    summary = build.stderr[build.stderr.rfind("FAILED after") :]
    assert re.search(EXPECTED_FAILURE[kind], summary), summary[-3000:]

    publish = ecom("publish", data_dir=tmp_path, check=False)
    assert publish.returncode != 0
    assert "refusing to publish" in publish.stderr
    assert published_build_id(tmp_path) == served_build
    assert published_marts(tmp_path) == served
