"""Bad input gets one clear line naming the problem, exit code 2, and nothing written."""

from __future__ import annotations

import os

import pytest

from tests.conftest import ecom

BAD = [
    (["generate", "--start", "2025-09-02", "--end", "2025-09-01"], "before start date"),
    (["generate", "--start", "2025-13-01", "--end", "2025-09-01"], "--start must be a date as YYYY-MM-DD"),
    (["generate", "--start", "yesterday", "--end", "2025-09-01"], "--start must be a date"),
    (
        ["generate", "--start", "2025-09-01", "--end", "2025-09-02", "--scale", "huge"],
        "invalid choice: 'huge'",
    ),
    (
        ["generate", "--start", "2025-09-01", "--end", "2025-09-02", "--seed", "abc"],
        "--seed must be an integer",
    ),
    (
        ["generate", "--start", "2025-09-01", "--end", "2025-09-02", "--inject", "gremlins"],
        "unknown fault kind",
    ),
    (["generate", "--start", "2025-09-01", "--end", "2025-09-02", "--locale", "xx_XX"], "unknown locale"),
    (["generate", "--start", "2024-01-01", "--end", "2024-01-02"], "before the shop's opening date"),
    (["generate", "--end", "2025-09-02"], "the following arguments are required: --start"),
    (["build", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_refused_without_writing(tmp_path, args, message):
    data_dir = tmp_path / "data"
    proc = ecom(*args, data_dir=data_dir, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr
    assert not data_dir.exists()


def test_bad_environment_setting_is_named(tmp_path):
    proc = ecom("status", data_dir=tmp_path, env={"ECOM_SCALE": "enormous"}, check=False)
    assert proc.returncode == 2
    assert "unknown scale 'enormous'" in proc.stderr


def test_unwritable_data_dir(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user that ignores file permissions")
        proc = ecom(
            "generate", "--start", "2025-09-01", "--end", "2025-09-01", data_dir=locked / "d", check=False
        )
        assert proc.returncode == 2
        assert "cannot write to" in proc.stderr
    finally:
        locked.chmod(0o700)


def test_data_dir_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("not a directory")
    proc = ecom("generate", "--start", "2025-09-01", "--end", "2025-09-01", data_dir=target, check=False)
    assert proc.returncode == 2
    assert "cannot write to" in proc.stderr
    assert target.read_text() == "not a directory"


def test_foreign_lake_is_refused(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / "precious.csv").write_text("a,b\n")
    proc = ecom("generate", "--start", "2025-09-01", "--end", "2025-09-01", data_dir=tmp_path, check=False)
    assert proc.returncode == 2
    assert "not empty and was not made by ecom" in proc.stderr
    assert sorted(p.name for p in lake.iterdir()) == ["precious.csv"]


def test_lake_of_another_seed_is_refused(tmp_path):
    ecom("generate", "--scale", "tiny", "--start", "2025-09-01", "--end", "2025-09-01", data_dir=tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    proc = ecom(
        "generate", "--scale", "tiny", "--seed", "5", "--start", "2025-09-02", "--end", "2025-09-02",
        data_dir=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "seed=42 (asked 5)" in proc.stderr
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_publish_refuses_without_a_passing_build(tmp_path):
    proc = ecom("publish", data_dir=tmp_path, check=False)
    assert proc.returncode == 1
    assert "nothing to publish" in proc.stderr


def test_every_command_has_help(tmp_path):
    for command in ("generate", "build", "publish", "run", "status", "summary"):
        proc = ecom(command, "--help", data_dir=tmp_path)
        assert "usage: ecom " + command in proc.stdout
