"""Services listen on loopback by default. (That `bi_reader` cannot write is proven in tests/serving.)"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time

import psutil
import pytest
import yaml

from tests.support.ecom import REPO, free_port


def test_local_postgres_listens_on_loopback_only(bi_server):
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


def test_airflow_standalone_binds_loopback_by_default():
    # Starting Airflow takes a minute (tests/dags/test_live.py does): here bash evaluates the script's own
    # AIRFLOW__API__* exports, with no AIRFLOW__API__HOST in the environment, and reports the address it binds.
    exports = [
        line
        for line in (REPO / "airflow" / "standalone.sh").read_text().splitlines()
        if line.startswith("export AIRFLOW__API__HOST")
    ]
    assert exports, "airflow/standalone.sh does not set the API server's address"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__API__")}
    bound = subprocess.run(
        ["bash", "-c", "\n".join([*exports, 'echo "$AIRFLOW__API__HOST"'])],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    assert bound == "127.0.0.1"


def listening_addresses(pids: set[int], port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == port and (c.pid is None or c.pid in pids)
    }


def test_make_dashboard_listens_on_loopback_only(tmp_path):
    """`make dashboard` as a user runs it: the server it starts accepts connections on 127.0.0.1 only."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DASHBOARD_ADDRESS"}
    proc = subprocess.Popen(
        ["make", "-o", "install", "dashboard"],
        cwd=REPO, env={**env, "ECOM_DASHBOARD_PORT": str(port), "ECOM_DATA_DIR": str(tmp_path)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        addresses: set[str] = set()
        while not addresses and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
            pids = {proc.pid, *(child.pid for child in psutil.Process(proc.pid).children(recursive=True))}
            addresses = listening_addresses(pids, port)
        assert addresses, f"nothing listened on port {port} (make exited {proc.poll()})"
        assert addresses == {"127.0.0.1"}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
