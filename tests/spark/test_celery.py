"""The CeleryExecutor for real, without Docker: the compose `celery` profile's processes started by hand.

Redis (the broker) and PostgreSQL (the metadata database and Celery's result backend) run as plain processes on
free ports; Airflow runs its API server (whose execution API the workers' task processes call), its scheduler,
its DAG processor and two `airflow celery worker` processes. Each worker stands for a machine: its task
instances report its own host name (`[core] hostname_callable`, `worker_hostname` below), as workers on two
hosts would. The backfill DAG maps one `generate` task per day; the test checks the days ran on both workers and
wrote the same bytes as `ecom generate`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.spark.test_scale_out import digest
from tests.support.ecom import BIN, REPO, ecom, free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DAG_ID = "ecommerce_generate_backfill"
RUN_ID = "celery_backfill"
DAYS = [dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(4)]
WORKERS = ("worker-a", "worker-b")
STARTUP_TIMEOUT = 600  # Airflow's processes start in tens of seconds, minutes on a loaded 2-core machine
RUN_TIMEOUT = 900


def worker_hostname() -> str:
    """The `hostname_callable` of the workers: the name of the machine this worker stands for."""
    return os.environ["CELERY_TEST_WORKER_HOST"]


def signal_group(proc: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group has exited
        os.killpg(proc.pid, sig)


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM (a worker finishes its task first), SIGKILL after a minute, then sweep any child left behind."""
    signal_group(proc, signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        signal_group(proc, signal.SIGKILL)
        proc.wait()
    signal_group(proc, signal.SIGKILL)


def redis_answers(port: int) -> bool:
    ping = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False)
    return ping.stdout.strip() == "PONG"


@pytest.fixture(scope="module")
def redis_url(redis_bin, tmp_path_factory):
    """A Redis broker as a plain process on a free loopback port, nothing saved to disk."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    subprocess.run(
        [redis_bin, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir), "--logfile", str(workdir / "redis.log"), "--daemonize", "yes"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not redis_answers(port):
            assert time.monotonic() < deadline, (workdir / "redis.log").read_text()[-2000:]
            time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, check=False)


@pytest.fixture(scope="module")
def metadata_db(postgres_bin):
    """A throwaway PostgreSQL cluster (the project's own cluster code) holding an empty `airflow` database."""
    import psycopg

    from pipeline.publish.postgres.cluster import ADMIN_ROLE, LocalCluster

    root = Path(tempfile.mkdtemp(prefix="ecom-celery-pg-", dir="/tmp"))
    os.chmod(root, 0o755)  # the postgres system user must traverse it
    cluster = LocalCluster(root / "postgres", free_port(), postgres_bin)
    password = secrets.token_urlsafe(16)
    try:
        cluster.ensure_running(password)
        dsn = f"host=127.0.0.1 port={cluster.port} user={ADMIN_ROLE} password={password}"
        with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as con:
            con.execute("create database airflow")
        yield (
            f"postgresql+psycopg://{ADMIN_ROLE}:{password}@127.0.0.1:{cluster.port}/airflow",
            dsn + " dbname=airflow",
        )
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


class CeleryAirflow:
    """Airflow's processes for the CeleryExecutor, each in its own process group with its own log file."""

    def __init__(self, home: Path, env: dict[str, str], dsn: str):
        self.home, self.env, self.dsn = home, env, dsn
        self.procs: dict[str, subprocess.Popen] = {}

    def airflow(self, *args: str) -> str:
        proc = subprocess.run(
            [str(BIN / "airflow"), *args], env=self.env, capture_output=True, text=True, check=False, cwd=REPO
        )
        assert proc.returncode == 0, f"airflow {' '.join(args)}:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}"
        return proc.stdout

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> None:
        with (self.home / f"{name}.log").open("w") as log:
            self.procs[name] = subprocess.Popen(
                [str(BIN / "airflow"), *args], env={**self.env, **(env or {})}, cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise AssertionError(f"airflow {name} exited {proc.returncode}:\n{self.log_tail(name)}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")[-chars:]

    def query(self, sql: str, *params) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.dsn) as con:
            return con.execute(sql, params).fetchall()

    def wait(self, what: str, ready, timeout: float = STARTUP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            if result := ready():
                return result
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}\n{self.log_tail(n, 1500)}" for n in self.procs)
                raise AssertionError(f"{what}: not within {timeout}s\n{logs}")
            time.sleep(2)

    def stop(self) -> None:
        for proc in self.procs.values():
            stop_group(proc)


@pytest.fixture(scope="module")
def celery_airflow(redis_url, metadata_db, tmp_path_factory):
    sql_url, dsn = metadata_db
    home = tmp_path_factory.mktemp("celery-airflow-home")
    dags = (
        home / "dags"
    )  # only the backfill DAG: the other DAGs need a manifest and schedule runs of their own
    dags.mkdir()
    shutil.copy(REPO / "dags" / f"{DAG_ID}.py", dags)
    data = tmp_path_factory.mktemp("celery-data")
    api_port, secret = free_port(), secrets.token_urlsafe(32)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ECOM_"))},
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PYTHONPATH": str(REPO),  # the workers import `worker_hostname` from this module
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_url,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": sql_url,  # psycopg 3 is async too (asyncpg is not installed)
        "AIRFLOW__CELERY__BROKER_URL": redis_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{sql_url}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",  # one task at a time per worker: the days must spread
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        # the API server signs and checks the workers' task tokens with this secret
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__API__SECRET_KEY": secret,
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "ECOM_DATA_DIR": str(data),
        "ECOM_SCALE": "tiny",
    }
    airflow = CeleryAirflow(home, env, dsn)
    try:
        airflow.airflow("db", "migrate")
        airflow.start("api-server", "api-server", "--workers", "1")
        airflow.start("scheduler", "scheduler")
        airflow.start("dag-processor", "dag-processor")
        for name in WORKERS:
            airflow.start(
                name, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs",
                env={"AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.worker_hostname",
                     "CELERY_TEST_WORKER_HOST": name},
            )  # fmt: skip
        yield airflow, data
    finally:
        airflow.stop()


def workers_answering(redis_url: str) -> set[str]:
    from celery import Celery

    app = Celery(broker=redis_url)
    try:
        return {name.split("@")[0] for reply in app.control.ping(timeout=2) for name in reply}
    finally:
        app.close()


def test_celery_workers_share_the_backfill_and_write_the_same_bytes(celery_airflow, redis_url, tmp_path):
    airflow, data = celery_airflow
    started = time.monotonic()
    airflow.wait("both Celery workers answer", lambda: workers_answering(redis_url) == set(WORKERS))
    airflow.wait(
        "the backfill DAG is parsed", lambda: airflow.query("select 1 from dag where dag_id = %s", DAG_ID)
    )
    conf = {"start": DAYS[0].isoformat(), "end": DAYS[-1].isoformat(), "scale": "tiny", "seed": 42}
    airflow.airflow("dags", "trigger", DAG_ID, "--run-id", RUN_ID, "--conf", json.dumps(conf))

    def finished():
        rows = airflow.query("select state from dag_run where dag_id = %s and run_id = %s", DAG_ID, RUN_ID)
        return rows and rows[0][0] in ("success", "failed") and rows[0][0]

    state = airflow.wait("the backfill run finishes", finished, timeout=RUN_TIMEOUT)
    tis = airflow.query(
        "select task_id, map_index, state, hostname, duration, external_executor_id from task_instance"
        " where dag_id = %s and run_id = %s order by task_id, map_index",
        DAG_ID,
        RUN_ID,
    )
    print(f"\nCelery backfill of {len(DAYS)} days: run {state} {time.monotonic() - started:.0f} s after the "
          "workers answered")  # fmt: skip
    for task_id, map_index, ti_state, host, duration, _ in tis:
        print(f"  {task_id}[{map_index}] {ti_state} on {host}: {duration or 0:.1f} s")
    assert state == "success", tis
    mapped = [ti for ti in tis if ti[0] == "generate"]
    assert sorted(ti[1] for ti in mapped) == list(range(len(DAYS)))
    assert {ti[2] for ti in mapped} == {"success"}
    assert {ti[3] for ti in mapped} == set(WORKERS)  # the days spread over both workers
    assert all(ti[5] for ti in tis)  # each task instance went through Celery (its Celery task id)
    reference = tmp_path / "reference"
    ecom("generate", "--scale", "tiny", "--start", str(DAYS[0]), "--end", str(DAYS[-1]), data_dir=reference)
    produced = digest(data / "lake", DAYS)
    assert produced and produced == digest(reference / "lake", DAYS)
