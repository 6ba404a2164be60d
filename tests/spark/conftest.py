"""The Spark suite runs where pyspark, dbt-spark and Java are (`make install-spark`); elsewhere it skips with one
line, except when ECOM_REQUIRE_SPARK_TESTS=1 (set by `.ci/run`, which installs Spark), where a missing engine is a
failure."""

from __future__ import annotations

import os

import pytest

from pipeline.build.spark import spark_missing


@pytest.fixture(scope="session")
def spark_ready() -> None:
    problem = spark_missing()
    if problem is None:
        return
    if os.environ.get("ECOM_REQUIRE_SPARK_TESTS") == "1":
        pytest.fail(f"ECOM_REQUIRE_SPARK_TESTS=1 but {problem}")
    pytest.skip(problem)
