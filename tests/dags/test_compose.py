"""docker-compose.yml is valid, has the production shape, and holds no secret (no Docker engine is needed)."""

from __future__ import annotations

import os
import subprocess

import pytest
import yaml

from tests.support.ecom import REPO

COMPOSE = REPO / "docker-compose.yml"
SECRETS = {"AIRFLOW_DB_PASSWORD": "db-test", "AIRFLOW_JWT_SECRET": "jwt-test", "ECOM_BI_PASSWORD": "bi-test"}

pytestmark = pytest.mark.usefixtures("docker_compose")


def compose_config(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("ECOM_", "AIRFLOW"))
    }
    return subprocess.run(
        ["docker-compose", "--project-directory", str(REPO), "-f", str(COMPOSE), "config"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def test_compose_config_is_valid_and_production_shaped():
    proc = compose_config(SECRETS)
    assert proc.returncode == 0, proc.stderr
    config = yaml.safe_load(proc.stdout)
    services = config["services"]
    assert {"airflow-db", "bi", "api-server", "scheduler", "dag-processor", "triggerer"} <= set(services)
    for name in ("api-server", "scheduler", "dag-processor", "triggerer"):
        service = services[name]
        assert service["build"]["dockerfile"] == "airflow/Dockerfile"
        env = service["environment"]
        for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"):
            # psycopg 3 for both engines: Airflow's default async driver (asyncpg) is not installed
            assert env[key].startswith("postgresql+psycopg://airflow:db-test@airflow-db"), key
        assert env["ECOM_BI_DSN"] == "postgresql://ecommerce:bi-test@bi:5432/ecommerce"
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt-test"  # one secret shared by every component
    assert services["airflow-db"]["image"].startswith("postgres:")
    assert services["bi"]["image"].startswith("postgres:")
    # the scheduler runs the tasks: it needs the data volume the api-server and the others share
    assert any("/opt/ecommerce/data" in str(v) for v in services["scheduler"]["volumes"])


def test_compose_refuses_to_start_without_its_secrets():
    proc = compose_config({})
    assert proc.returncode != 0
    assert "AIRFLOW_DB_PASSWORD" in proc.stderr or "ECOM_BI_PASSWORD" in proc.stderr


def test_image_is_built_from_the_lock_file_with_a_manifest():
    dockerfile = (REPO / "airflow" / "Dockerfile").read_text()
    assert "requirements.lock" in dockerfile
    assert "dbt parse" in dockerfile
    assert not (REPO / "airflow" / "__init__.py").exists()  # it would shadow the airflow package
