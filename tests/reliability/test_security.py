"""Services listen on loopback by default. (That `bi_reader` cannot write is proven in tests/serving.)"""

from __future__ import annotations

import os
import subprocess

import psutil
import pytest
import yaml

from tests.conftest import REPO
from tests.serving.conftest import bi_server  # noqa: F401  (the session's real PostgreSQL server)


def test_local_postgres_listens_on_loopback_only(bi_server):  # noqa: F811
    listening = [
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == bi_server.port
    ]
    assert listening, f"nothing listens on port {bi_server.port}"
    assert set(listening) == {"127.0.0.1"}


@pytest.mark.usefixtures("docker_compose")
def test_compose_publishes_ports_on_loopback_by_default():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ECOM_", "AIRFLOW"))}
    env |= {"AIRFLOW_DB_PASSWORD": "x", "AIRFLOW_JWT_SECRET": "x", "ECOM_BI_PASSWORD": "x"}
    proc = subprocess.run(
        ["docker-compose", "--project-directory", str(REPO), "-f", str(REPO / "docker-compose.yml"), "config"],
        env=env, capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    published = []
    for name, service in yaml.safe_load(proc.stdout)["services"].items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else str(port).rsplit(":", 2)[0]
            published.append((name, host_ip))
    assert published, "compose publishes no port at all"
    assert all(ip == "127.0.0.1" for _, ip in published), published


def test_airflow_standalone_and_dashboard_bind_loopback_by_default():
    standalone = (REPO / "airflow" / "standalone.sh").read_text()
    assert 'AIRFLOW__API__HOST="${AIRFLOW__API__HOST:-127.0.0.1}"' in standalone
    dry_run = subprocess.run(
        ["make", "-n", "-o", "install", "dashboard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "--server.address 127.0.0.1" in dry_run
