"""Shared fixtures. Every test points the pipeline at its own temporary ECOM_DATA_DIR.

System packages: the browser, PostgreSQL, Redis and compose tests ask for `chromium_path`, `postgres_bin`,
`redis_bin` or `docker_compose`. Where the package is missing they are skipped with one line naming what to
install, before any other fixture of theirs runs; with ECOM_REQUIRE_SYSTEM_TESTS=1 (CI) the same line fails them
instead.

Markers are applied here, from what a test uses, so that `make test-fast` (`-m "not slow and not integration"`)
stays the unit-level lane: `integration` for a real server or browser, `slow` for a generated and built run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest

from pipeline.settings import Settings
from tests.support.ecom import REPO, TINY_END, TINY_START, ecom, free_port
from tests.support.marts import SMALL_END, SMALL_START
from tests.support.postgres import BiServer, reachable_tmp_dir
from tests.support.synthetic import write_build

# Read before pytest_configure clears every ECOM_* variable from the tests' environment.
TEST_ENV = ("ECOM_CHROMIUM", "ECOM_POSTGRES_BIN", "ECOM_REQUIRE_SYSTEM_TESTS")
test_env: dict[str, str] = {}

# fixture -> marker: whatever needs one of these fixtures (directly or through another fixture) gets the marker
INTEGRATION_FIXTURES = {"chromium_path", "postgres_bin", "redis_bin", "bi_server", "airflow"}
SLOW_FIXTURES = {"tiny_run", "small_build", "airflow_db"}  # airflow_db: DAGs run in-process by dag.test()


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # the xdist controller runs no test; its workers start from its environment and set up their own
    test_env.update({name: os.environ[name] for name in TEST_ENV if os.environ.get(name)})
    # Airflow reads its home once, at first import: point it at a throwaway folder before any test imports it.
    home = Path(config._tmp_path_factory.getbasetemp() if hasattr(config, "_tmp_path_factory") else "/tmp")
    # An xdist worker inherits the controller's environment: it gets a home of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker or "AIRFLOW_HOME" not in os.environ:
        os.environ["AIRFLOW_HOME"] = str(home / f"airflow-home-{worker or os.getpid()}")
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO / "dags"))
    for name in [k for k in os.environ if k.startswith("ECOM_") and not k.startswith("ECOM_REQUIRE_")]:
        del os.environ[name]  # tests must not inherit a developer's settings


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A published tiny run over two weeks, shared by the read-only end-to-end tests."""
    data_dir = tmp_path_factory.mktemp("tiny-run")
    ecom("run", "--scale", "tiny", "--start", str(TINY_START), "--end", str(TINY_END), data_dir=data_dir)
    return data_dir


@pytest.fixture(scope="session")
def small_build(tmp_path_factory) -> Path:
    """A `small` window generated and built (all dbt tests passing); returns its data dir. Shared by the dbt
    truth and reference tests and the product truth tests."""
    data_dir = tmp_path_factory.mktemp("small-build")
    ecom(
        "generate", "--scale", "small", "--start", str(SMALL_START), "--end", str(SMALL_END),
        "--workers", "2", data_dir=data_dir,
    )  # fmt: skip
    ecom("build", data_dir=data_dir)
    return data_dir


# `make test` runs the suite on pytest-xdist workers with `--dist loadgroup`: every item gets the group of its
# module (its module fixtures are built once, its tests keep their order), and modules that share one of these
# session fixtures get one group (the fixture is built once, on one worker).
SHARED_FIXTURES = {"small_build", "tiny_run", "future_lake", "small_demo_lake", "redis_server"}
# The groups that take longest (minutes of builds, Spark, Airflow) are handed out first, in this order, so that
# no worker starts one of them when the other is about to finish (the rest follow in collection order).
LONGEST_FIRST = (
    "tests/spark/",
    "tests/dags/test_live.py",
    "tests/dags/test_dags.py",
    "tests/e2e/test_build_path.py",
    "tests/dbt/test_incremental.py",
    "tests/reliability/test_convergence.py",
    "tests/reliability/test_crash_safety.py",
    "tests/e2e/test_build_lock.py",
    "tests/dbt/test_reference.py",  # with the other users of `small_build`
    "tests/reliability/test_quality_gate.py",
)


def xdist_groups(items) -> dict[str, str]:
    """module path -> group name: modules joined when they share a fixture of SHARED_FIXTURES (union-find)."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        while parent.setdefault(key, key) != key:
            key = parent[key]
        return key

    for item in items:
        module = item.nodeid.split("::")[0]
        for fixture in sorted(set(item.fixturenames) & SHARED_FIXTURES):
            # the root is a module (the group's name), the first in path order
            a, b = sorted(
                (find(module), find(f"fixture:{fixture}")), key=lambda k: (k.startswith("fixture:"), k)
            )
            parent[b] = a
        find(module)
    return {key: find(key) for key in parent if not key.startswith("fixture:")}


# tryfirst: before xdist's own hook, which reads the xdist_group marks into the node ids
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        used = set(item.fixturenames)
        if used & INTEGRATION_FIXTURES:
            item.add_marker(pytest.mark.integration)
        if used & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
    groups = xdist_groups(items)
    ranks: dict[str, int] = {}
    for module, group in groups.items():
        rank = next(
            (i for i, prefix in enumerate(LONGEST_FIRST) if module.startswith(prefix)), len(LONGEST_FIRST)
        )
        ranks[group] = min(rank, ranks.get(group, rank))
    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid.split("::")[0]]))
    items.sort(key=lambda item: ranks[groups[item.nodeid.split("::")[0]]])  # stable: groups keep their order


# ------------------------------------------------------------------------------------ system packages


def find_chromium() -> tuple[str | None, str]:
    """(path or None, where it was looked for)."""
    configured = test_env.get("ECOM_CHROMIUM")
    if configured:
        found = configured if os.access(configured, os.X_OK) and Path(configured).is_file() else None
        return found, f"ECOM_CHROMIUM={configured}"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found, "PATH"
    return None, "PATH"


def find_postgres_bin() -> tuple[Path | None, str]:
    """The directory of the PostgreSQL server binaries the project itself would use (or ECOM_POSTGRES_BIN)."""
    configured = test_env.get("ECOM_POSTGRES_BIN")
    if configured:
        found = Path(configured) if (Path(configured) / "initdb").is_file() else None
        return found, f"ECOM_POSTGRES_BIN={configured}"
    from pipeline.publish.postgres.cluster import postgres_bin_dir

    try:
        return postgres_bin_dir(), "the project's lookup"
    except Exception:  # the project's own one-line error: binaries not installed
        return None, "/usr/lib/postgresql/*/bin and PATH"


SYSTEM_REQUIREMENTS = {
    # fixture: (what, finder, Debian package)
    "chromium_path": ("Chromium", find_chromium, "chromium"),
    "redis_bin": (
        "redis-server",
        lambda: (shutil.which("redis-cli") and shutil.which("redis-server"), "PATH"),
        "redis-server",
    ),
    "postgres_bin": ("PostgreSQL server binaries", find_postgres_bin, "postgresql"),
    "docker_compose": ("docker-compose", lambda: (shutil.which("docker-compose"), "PATH"), "docker-compose"),
}


def require_system(fixture: str):
    """The found path, else skip (or fail, under ECOM_REQUIRE_SYSTEM_TESTS=1) with what to install."""
    what, finder, package = SYSTEM_REQUIREMENTS[fixture]
    found, where = finder()
    if found:
        return found
    message = (
        f"{what} not found ({where}): install it with `apt-get install {package}` "
        "(or `make system-deps` as root)"
    )
    if test_env.get("ECOM_REQUIRE_SYSTEM_TESTS") == "1":
        pytest.fail(f"{message}; ECOM_REQUIRE_SYSTEM_TESTS=1 forbids skipping it", pytrace=False)
    pytest.skip(message)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # Check before any fixture runs: no tiny run gets built for a browser test that is skipped anyway.
    for fixture in SYSTEM_REQUIREMENTS:
        if fixture in item.fixturenames:
            require_system(fixture)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """A Chromium binary: ECOM_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    return require_system("chromium_path")


@pytest.fixture(scope="session")
def postgres_bin() -> Path:
    """The directory holding initdb, pg_ctl and postgres (Debian keeps it off PATH)."""
    return require_system("postgres_bin")


@pytest.fixture(scope="session")
def docker_compose() -> str:
    """The docker-compose binary (validating the compose file needs no Docker engine)."""
    return require_system("docker_compose")


@pytest.fixture(scope="session")
def redis_bin() -> str:
    """The redis-server binary (redis-cli, which stops it, comes with it)."""
    return require_system("redis_bin")


@pytest.fixture(scope="session")
def bi_server(postgres_bin):
    """A real PostgreSQL cluster, started once by `ecom serve` (serving and security tests) and stopped at the end."""
    data_dir = reachable_tmp_dir("ecom-bi-server-")
    port = free_port()
    env = {"ECOM_BI_PORT": str(port)}
    write_build(Settings.load(data_dir=data_dir), 1)
    ecom("publish", data_dir=data_dir)
    try:
        proc = ecom("serve", data_dir=data_dir, env=env)
        admin = (data_dir / "secrets" / "postgres_admin.password").read_text().strip()
        reader = (data_dir / "secrets" / "bi_reader.password").read_text().strip()
        yield BiServer(
            data_dir,
            port,
            f"host=127.0.0.1 port={port} user=postgres password={admin} dbname=postgres",
            proc.stdout.strip(),
            reader,
        )
    finally:
        with contextlib.suppress(AssertionError):
            ecom("serve", "--stop", data_dir=data_dir, env=env)
        shutil.rmtree(data_dir, ignore_errors=True)
