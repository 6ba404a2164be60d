"""Property-based: whatever a user types, bad input gets one clear line, exit 2, no traceback, nothing written."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.config import FAULT_KINDS, SCALES, ConfigError
from pipeline.cli import main
from pipeline.settings import Settings

SLOW_OK = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

not_a_date = st.text(alphabet=string.printable, max_size=12).filter(lambda s: not _is_date(s))
not_a_scale = st.text(min_size=1, max_size=10).filter(lambda s: s not in SCALES)
not_an_int = st.text(min_size=1, max_size=8).filter(lambda s: not s.strip().lstrip("-").isdigit())
not_a_fault = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=12).filter(
    lambda s: s not in FAULT_KINDS
)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def run_cli(argv: list[str], data_dir: Path, capsys) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), *argv])
    captured = capsys.readouterr()
    return code, captured.err


def assert_refused(code: int, err: str, data_dir: Path) -> None:
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert not data_dir.exists()


@SLOW_OK
@given(bad=not_a_date, which=st.sampled_from(["--start", "--end"]))
def test_malformed_dates(tmp_path, capsys, bad, which):
    data_dir = tmp_path / "d"
    argv = {"--start": "2025-09-01", "--end": "2025-09-02"}
    argv[which] = bad
    code, err = run_cli(["generate", *[x for kv in argv.items() for x in kv]], data_dir, capsys)
    assert_refused(code, err, data_dir)
    assert which in err


@SLOW_OK
@given(start=st.dates(dt.date(2025, 9, 2), dt.date(2030, 1, 1)), back=st.integers(1, 400))
def test_end_before_start(tmp_path, capsys, start, back):
    data_dir = tmp_path / "d"
    end = start - dt.timedelta(days=back)
    code, err = run_cli(["generate", "--start", str(start), "--end", str(end)], data_dir, capsys)
    assert_refused(code, err, data_dir)
    assert "before start date" in err


@SLOW_OK
@given(
    scale=not_a_scale, seed=not_an_int, fault=not_a_fault, which=st.sampled_from(["scale", "seed", "inject"])
)
def test_unknown_scale_seed_or_fault(tmp_path, capsys, scale, seed, fault, which):
    data_dir = tmp_path / "d"
    flag = {"scale": ["--scale", scale], "seed": ["--seed", seed], "inject": ["--inject", fault]}[which]
    code, err = run_cli(["run", "--start", "2025-09-01", "--end", "2025-09-01", *flag], data_dir, capsys)
    assert_refused(code, err, data_dir)


# Characters no valid value of any of these settings contains (dates, integers, scale and fault names, locales):
# a value holding one is wrong whatever else it holds, so every example must be refused.
NEVER_VALID = "!#$%&*+/:;<=>?@[]^{|}~"


@SLOW_OK
@given(
    name=st.sampled_from(["SCALE", "SEED", "START", "END", "OPENING_DATE", "WORKERS", "INJECT", "LOCALE"]),
    prefix=st.text(alphabet=string.ascii_letters + string.digits, max_size=6),
    poison=st.sampled_from(NEVER_VALID),
    suffix=st.text(alphabet=string.ascii_letters + string.punctuation, max_size=4),
)
def test_bad_environment_settings_name_the_field(name, prefix, poison, suffix):
    with pytest.raises(ConfigError) as refused, pytest.MonkeyPatch.context() as env:
        env.setenv(f"ECOM_{name}", prefix + poison + suffix)
        Settings.load()
    message = str(refused.value)
    assert "\n" not in message
    label = {"START": "start", "END": "end", "OPENING_DATE": "opening date", "INJECT": "fault kind"}
    assert label.get(name, name.lower()) in message.lower()
