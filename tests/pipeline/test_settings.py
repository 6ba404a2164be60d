"""Settings: `ECOM_*` variables, CLI flags over them, one-line messages naming the field, its variable and
what is allowed."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.config import ConfigError
from pipeline.errors import BadInput
from pipeline.settings import Settings
from tests.support.ecom import ecom


def test_defaults_work_without_any_variable():
    settings = Settings.load()  # tests run without ECOM_* variables (tests/conftest.py)
    assert (settings.scale, settings.seed, settings.start, settings.end) == (
        "small", 42, dt.date(2025, 9, 1), dt.date(2025, 12, 31),
    )  # fmt: skip
    assert (settings.airflow_port, settings.airflow_dag_schedule, settings.airflow_catchup) == (
        8080,
        "@daily",
        True,
    )
    assert settings.data_dir.name == "data"


def test_variables_are_read_and_flags_override_them(tmp_path, monkeypatch):
    for name, value in {
        "ECOM_DATA_DIR": str(tmp_path / "x" / ".." / "d"),
        "ECOM_SCALE": "tiny",
        "ECOM_SEED": " 7 ",
        "ECOM_INJECT": "null_keys, duplicate_keys",
        "ECOM_DBT_THREADS": "3",
        "ECOM_AIRFLOW_PORT": "8099",
        "ECOM_AIRFLOW_SCHEDULE": "none",
        "ECOM_AIRFLOW_CATCHUP": "off",
        "ECOM_WORKERS": "",  # empty counts as unset
    }.items():
        monkeypatch.setenv(name, value)
    settings = Settings.load()
    assert settings.data_dir == tmp_path / "d"
    assert (settings.scale, settings.seed, settings.dbt_threads, settings.workers) == ("tiny", 7, 3, 1)
    assert settings.inject == ("null_keys", "duplicate_keys")
    assert (settings.airflow_port, settings.airflow_dag_schedule, settings.airflow_catchup) == (
        8099,
        None,
        False,
    )
    assert Settings.load(scale="small", seed=None).scale == "small"  # a flag wins; None means unset
    assert Settings.load(seed=None).seed == 7


BAD = [
    ({"ECOM_SEED": "-1"}, "seed must be an integer from 0 to 9223372036854775807, got -1 (from ECOM_SEED)"),
    ({"ECOM_WORKERS": "lots"}, "workers must be an integer from 1 to 64, got 'lots' (from ECOM_WORKERS)"),
    ({"ECOM_BI_PORT": "80"}, "bi port must be an integer from 1024 to 65535, got 80 (from ECOM_BI_PORT)"),
    ({"ECOM_AIRFLOW_PORT": "99999"}, "airflow port must be an integer from 1024 to 65535, got 99999"),
    ({"ECOM_AIRFLOW_CATCHUP": "maybe"}, "airflow catchup must be true or false"),
    ({"ECOM_OPENING_DATE": "1.9.2025"}, "opening date must be a date as YYYY-MM-DD, got '1.9.2025'"),
    ({"ECOM_SCALE": "huge"}, "unknown scale 'huge': choose one of tiny, small, medium, large"),
    (
        {"ECOM_START": "2025-10-02", "ECOM_END": "2025-10-01"},
        "end date 2025-10-01 is before start date 2025-10-02",
    ),
    ({"ECOM_INJECT": "gremlins"}, "unknown fault kind 'gremlins'"),
]


@pytest.mark.parametrize(("env", "message"), BAD, ids=[next(iter(e)) for e, _ in BAD])
def test_bad_values_fail_in_one_line_naming_the_field(env, message, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(BadInput) as caught:
        Settings.load()
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    assert isinstance(caught.value, ConfigError)  # callers that catch the generator's error keep working
    assert caught.value.exit_code == 2


def test_a_bad_variable_is_named_by_the_cli(tmp_path):
    proc = ecom("status", data_dir=tmp_path, env={"ECOM_DBT_THREADS": "0"}, check=False)
    assert proc.returncode == 2
    assert proc.stderr == "ecom: dbt threads must be an integer from 1 to 64, got 0 (from ECOM_DBT_THREADS)\n"


def test_an_unknown_override_is_refused_not_silently_dropped():
    """`Settings.load(env=...)` once chose the data dir; an override the settings do not have is a caller's slip."""
    with pytest.raises(TypeError, match="unknown settings: env"):
        Settings.load(env={"ECOM_DATA_DIR": "/elsewhere"})
