"""Airflow on many machines: the compose `celery` profile, and the backfill fanned out over days."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess

import pendulum
import pytest
import yaml

from tests.support.ecom import BIN, REPO, ecom

SECRETS = {"AIRFLOW_DB_PASSWORD": "db-test", "AIRFLOW_JWT_SECRET": "jwt-test", "ECOM_BI_PASSWORD": "bi-test"}
DAYS = [dt.date(2025, 9, 1), dt.date(2025, 9, 2), dt.date(2025, 9, 3)]

needs_compose = pytest.mark.skipif(
    shutil.which("docker-compose") is None, reason="docker-compose is not installed"
)


def compose_config(*profile: str, env: dict | None = None) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "AIRFLOW"))}
    proc = subprocess.run(
        ["docker-compose", "--project-directory", str(REPO), "-f", str(REPO / "docker-compose.yml"),
         *profile, "config"],
        env={**clean, **SECRETS, **(env or {})}, capture_output=True, text=True, check=False, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


@needs_compose
def test_celery_profile_adds_a_broker_and_scalable_workers():
    services = compose_config("--profile", "celery", env={"ECOM_AIRFLOW_EXECUTOR": "CeleryExecutor"})[
        "services"
    ]
    assert services["redis"]["image"].startswith("redis:")
    worker = services["airflow-worker"]
    assert worker["command"] == ["airflow", "celery", "worker"]
    assert "container_name" not in worker and "ports" not in worker  # `--scale airflow-worker=N` can run N
    assert "redis" in worker["depends_on"]
    for name in ("scheduler", "airflow-worker"):  # the scheduler queues to the broker the workers read
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:db-test@airflow-db")
    assert any("/opt/ecommerce/data" in str(v) for v in worker["volumes"])  # workers read and write the lake


@needs_compose
def test_default_shape_stays_on_one_machine():
    services = compose_config()["services"]
    # `docker compose up` starts a profiled service only when its profile is asked for
    assert services["redis"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["profiles"] == ["celery"]
    assert services["scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def digest(lake, days) -> dict[str, str]:
    return {
        str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
        for day in days
        for p in sorted(lake.glob(f"*/dt={day.isoformat()}/*.parquet"))
    }


def test_backfill_fans_out_one_task_per_day_and_writes_the_same_bytes(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("backfill")
    reference = tmp_path_factory.mktemp("backfill-reference")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ECOM_DATA_DIR", str(data_dir))
        mp.setenv("ECOM_SCALE", "tiny")
        from airflow.dag_processing.dagbag import DagBag

        subprocess.run([str(BIN / "airflow"), "db", "migrate"], check=True, capture_output=True)
        bag = DagBag(dag_folder=str(REPO / "dags" / "ecommerce_generate_backfill.py"))
        assert bag.import_errors == {}
        dag = bag.dags["ecommerce_generate_backfill"]
        run = dag.test(
            logical_date=pendulum.datetime(2025, 9, 1, tz="UTC"),
            run_conf={"start": DAYS[0].isoformat(), "end": DAYS[-1].isoformat(), "scale": "tiny", "seed": 42},
        )
    assert run.state == "success"
    mapped = [ti for ti in run.get_task_instances() if ti.task_id == "generate"]
    assert sorted(ti.map_index for ti in mapped) == [0, 1, 2]
    assert {ti.state for ti in mapped} == {"success"}
    ecom("generate", "--scale", "tiny", "--start", str(DAYS[0]), "--end", str(DAYS[-1]), data_dir=reference)
    produced = digest(data_dir / "lake", DAYS)
    assert produced and produced == digest(reference / "lake", DAYS)
