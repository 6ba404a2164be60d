"""The serving tests' data dirs: where the `postgres` system user can reach them."""

from __future__ import annotations

import shutil

import pytest

from tests.support.postgres import reachable_tmp_dir


@pytest.fixture
def data_dir():
    path = reachable_tmp_dir("ecom-serving-")
    yield path
    shutil.rmtree(path, ignore_errors=True)
