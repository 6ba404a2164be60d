"""Bad input gets one clear line naming the problem, exit code 2, and nothing written."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.support.ecom import BIN, REPO, ecom

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


def test_every_command_has_help_with_a_description(tmp_path):
    for command in ("generate", "build", "publish", "run", "status", "summary", "serve", "redis", "api"):
        proc = ecom(command, "--help", data_dir=tmp_path)
        assert "usage: ecom " + command in proc.stdout
        # argparse prints the description between the usage block and the options
        between = proc.stdout.split("\n\n")[1]
        assert not between.startswith("options:"), f"`ecom {command} --help` has no description"
        assert len(between.split()) >= 5, between


def test_status_into_a_closed_pipe_is_quiet(tmp_path):
    """`ecom status | head -1` where head has already gone: no BrokenPipeError traceback."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before ecom writes a byte
    proc = subprocess.run(
        [str(BIN / "ecom"), "status"],
        env={**os.environ, "ECOM_DATA_DIR": str(tmp_path)},
        stdout=write, stderr=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    os.close(write)
    assert proc.stderr == ""
    assert proc.returncode == 141  # as if killed by SIGPIPE, like any Unix tool


def test_status_piped_to_head_prints_one_line(tmp_path):
    proc = subprocess.run(
        f"'{BIN / 'ecom'}' status | head -1", shell=True, capture_output=True, text=True, check=False,
        env={**os.environ, "ECOM_DATA_DIR": str(tmp_path)},
    )  # fmt: skip
    assert proc.stdout == f"data dir   {tmp_path}\n"
    assert proc.stderr == ""


@pytest.mark.parametrize("command", ["status", "build", "publish", "summary"])
def test_data_dir_that_is_a_file_is_one_line(tmp_path, command):
    target = tmp_path / "file"
    target.write_text("not a directory")
    proc = ecom(command, data_dir=target, check=False)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ecom: cannot write to {target}: it is a file, not a directory")
    assert target.read_text() == "not a directory"


def test_summary_with_nothing_published_fails_in_one_line(tmp_path):
    proc = ecom("summary", data_dir=tmp_path, check=False)
    assert proc.returncode == 1
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("ecom: nothing published yet at ")
    assert "run `ecom run`" in line


def test_status_always_has_a_postgres_line(tmp_path):
    lines = ecom("status", data_dir=tmp_path).stdout.splitlines()
    postgres = [line for line in lines if line.startswith("postgres")]
    assert len(postgres) == 1, lines
    assert "serves" not in "\n".join(lines)


def test_status_of_a_stopped_server_does_not_claim_it_serves():
    from pipeline.status import format_status

    served = {
        "build_id": "b1",
        "published_at": "2025-12-01T00:00:00+00:00",
        "target": "x",
        "pending_drops": [],
    }
    report = {"data_dir": "/d", "lake": {"days": 0, "gaps": [], "incomplete_days": {}}, "build": None,
              "published": None}  # fmt: skip
    stopped = format_status({**report, "bi": {"server": "stopped (run `ecom serve`)", "published": served}})
    running = format_status({**report, "bi": {"server": "running on 127.0.0.1:5", "published": served}})
    never = format_status({**report, "bi": {"server": "none (run `ecom serve`)", "published": None}})
    assert "postgres   stopped" in stopped and "serves" not in stopped and "build b1" in stopped
    assert "postgres   running" in running and "serves   build b1" in running
    assert "postgres   not started: run `ecom serve`" in never


def test_make_help_prints_no_make_escapes():
    proc = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True)
    assert "$$" not in proc.stdout
    assert "make docs" in proc.stdout and "ECOM_DATA_DIR/dbt/target" in proc.stdout
