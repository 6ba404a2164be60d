"""Fixtures for the dbt suite: one generated and built `small` window shared by the truth and reference tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.ecom import ecom
from tests.support.marts import SMALL_END, SMALL_START


@pytest.fixture(scope="session")
def small_build(tmp_path_factory) -> Path:
    """A `small` window generated and built (all dbt tests passing); returns its data dir."""
    data_dir = tmp_path_factory.mktemp("small-build")
    ecom(
        "generate", "--scale", "small", "--start", str(SMALL_START), "--end", str(SMALL_END),
        "--workers", "2", data_dir=data_dir,
    )  # fmt: skip
    ecom("build", data_dir=data_dir)
    return data_dir
