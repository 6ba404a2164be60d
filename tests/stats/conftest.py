"""Fixtures of the statistical truth tests: one `small` lake of the demo window, generated once (no build)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ecom import ecom

DEMO_START, DEMO_END = "2025-09-01", "2025-12-31"


@pytest.fixture(scope="session")
def small_demo_lake(tmp_path_factory) -> Path:
    """The demo window at `small`, seed 42: Black Friday and the year-end sale, the first three experiments."""
    data_dir = tmp_path_factory.mktemp("small-demo-lake")
    ecom(
        "generate", "--scale", "small", "--start", DEMO_START, "--end", DEMO_END, "--workers", "2",
        data_dir=data_dir,
    )  # fmt: skip
    return data_dir / "lake"
