"""Choosing the engine: a bad name or a machine without Java/pyspark gets one clear line, and nothing is written."""

from __future__ import annotations

import os
import subprocess

from tests.support.ecom import BIN, ecom


def test_unknown_engine_is_refused_in_one_line(tmp_path):
    proc = ecom("build", data_dir=tmp_path, env={"ECOM_ENGINE": "oracle"}, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["ecom: unknown engine 'oracle': choose one of duckdb, spark"]
    assert not (tmp_path / "warehouse" / "build.json").exists()


def test_spark_without_java_says_so_in_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(BIN)  # the virtualenv only: no java on it
    env["ECOM_DATA_DIR"] = str(tmp_path)

    proc = subprocess.run(
        [str(BIN / "ecom"), "build", "--engine", "spark"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    # Without pyspark the line names the install target; with it, the missing Java.
    assert "make install-spark" in lines[0] or "needs Java 17 or newer: no `java` on PATH" in lines[0]
    assert not (tmp_path / "warehouse" / "build.json").exists()
