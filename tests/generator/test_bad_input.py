"""Bad settings are refused at the edge with one line naming the problem, and nothing is written."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from generator.config import ConfigError, GeneratorConfig, parse_faults
from generator.lake import MARKER
from generator.run import generate_window

QUIET = lambda _line: None  # noqa: E731
ECOM = Path(sys.executable).parent / "ecom"


def digest(lake: Path) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest() for p in lake.rglob("*.parquet")
    }


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"scale": "huge"}, "scale"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**63}, "seed"),
        ({"seed": "7"}, "seed"),
        ({"seed": True}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"inject": ("duplicate_keys", "bogus")}, "fault kind 'bogus'"),
        ({"locale": "xx_XX"}, "locale"),
        ({"opening_date": "2025-09-01"}, "opening_date"),
    ],
)
def test_config_refuses_bad_fields(kwargs, names):
    with pytest.raises(ConfigError) as caught:
        GeneratorConfig(**kwargs)
    message = str(caught.value)
    assert names in message and "\n" not in message


def test_parse_faults():
    assert parse_faults(None) == ()
    assert parse_faults("") == ()
    assert parse_faults(" null_keys , duplicate_keys,null_keys ") == ("null_keys", "duplicate_keys")
    with pytest.raises(ConfigError, match="unknown fault kind 'nul_keys'"):
        parse_faults("duplicate_keys,nul_keys")


def test_day_before_opening_writes_nothing(tmp_path):
    lake = tmp_path / "lake"
    with pytest.raises(ConfigError, match="before the shop's opening date"):
        generate_window(GeneratorConfig(scale="tiny"), lake, [dt.date(2025, 8, 31)], echo=QUIET)
    assert not lake.exists()


def test_foreign_or_mismatched_lake_is_left_alone(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty and was not made by ecom"):
        generate_window(GeneratorConfig(scale="tiny"), foreign, [dt.date(2025, 9, 1)], echo=QUIET)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]

    lake = tmp_path / "lake"
    generate_window(GeneratorConfig(scale="tiny", seed=1), lake, [dt.date(2025, 9, 1)], echo=QUIET)
    before = digest(lake)
    with pytest.raises(ConfigError, match="seed=1 \\(asked 2\\)"):
        generate_window(GeneratorConfig(scale="tiny", seed=2), lake, [dt.date(2025, 9, 2)], echo=QUIET)
    assert digest(lake) == before
    assert json.loads((lake / MARKER).read_text())["seed"] == 1


def run_generate(data_dir: Path, *extra: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECOM_")}
    env["ECOM_DATA_DIR"] = str(data_dir)
    args = ["generate", "--scale", "small", "--start", "2025-09-01", "--end", "2025-09-24", *extra]
    return subprocess.Popen(
        [str(ECOM), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def test_killed_run_leaves_only_whole_partitions_and_a_rerun_completes_it(tmp_path):
    """SIGKILL mid-run: readers (who read *.parquet) see only complete files; a re-run gives the same bytes."""
    reference = tmp_path / "reference"
    assert run_generate(reference).wait() == 0

    data = tmp_path / "killed"
    proc = run_generate(data)
    events = data / "lake" / "user_events"
    deadline = time.monotonic() + 120
    while len(list(events.glob("dt=*/part-0.parquet"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()

    expected = digest(reference / "lake")
    visible = digest(data / "lake")
    assert 0 < len(visible) < len(expected)
    # every file a reader can see is complete: the very bytes an uninterrupted run writes
    assert {path: expected[path] for path in visible} == visible

    assert run_generate(data).wait() == 0
    assert digest(data / "lake") == digest(reference / "lake")
    assert not list((data / "lake").rglob("*.tmp"))


def test_cli_refuses_bad_inject_without_writing(tmp_path):
    proc = run_generate(tmp_path, "--inject", "null_keys,bogus")
    _, err = proc.communicate()
    assert proc.returncode == 2
    assert len(err.strip().splitlines()) == 1 and "bogus" in err
    assert not (tmp_path / "lake").exists()
