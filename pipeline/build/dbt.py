"""Run dbt in-process against the build DuckDB, with paths taken from the settings."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from pipeline.errors import Interrupted, PipelineFailed
from pipeline.settings import Settings

FAILED_STATUSES = ("error", "fail", "runtime error")


@dataclass(frozen=True)
class DbtFailure:
    node: str | None
    status: str
    message: str
    failures: int | None = None

    def record(self) -> dict:
        """The one shape a failure takes in build.json, whichever path (`ecom build` or Airflow) ran the build."""
        return {"node": self.node, "status": self.status, "message": self.message, "failures": self.failures}


@dataclass(frozen=True)
class DbtOutcome:
    """One dbt invocation as `run_results.json` tells it: the CLI's outcome and the Airflow per-model verdicts
    (`pipeline.build.results.node_verdicts`) are both read from `results`."""

    success: bool
    counts: dict[str, int] = field(default_factory=dict)
    failures: tuple[DbtFailure, ...] = ()
    error: str | None = None
    results: tuple[dict, ...] = ()  # run_results.json's "results", one per node dbt ran or skipped
    returncode: int = 0
    seconds: float = 0.0

    @classmethod
    def from_results(cls, results: list[dict], returncode: int, seconds: float = 0.0) -> DbtOutcome:
        counts: dict[str, int] = {}
        failures = []
        for node in results:
            status = node["status"]
            counts[status] = counts.get(status, 0) + 1
            if status in FAILED_STATUSES:
                failures.append(
                    DbtFailure(
                        node=node["unique_id"],
                        status=status,
                        message=(node.get("message") or "").strip(),
                        failures=node.get("failures"),
                    )
                )
        return cls(
            returncode == 0 and not failures,
            counts,
            tuple(failures),
            None,
            tuple(results),
            returncode,
            seconds,
        )

    def failure_records(self) -> list[dict]:
        records = [f.record() for f in self.failures]
        if self.error:
            records.append(DbtFailure(None, "error", self.error).record())
        return records

    def describe_failures(self) -> str:
        if self.error:
            return self.error
        lines = []
        for f in self.failures:
            rows = f" ({f.failures} failing rows)" if f.failures else ""
            lines.append(f"{f.status.upper()} {f.node}{rows}: {f.message}")
        return "\n".join(lines) or "dbt reported a failure without a failing node; see the dbt log"


def selection_args(select: str | None = None, full_refresh: bool = False) -> list[str]:
    """dbt's flags for a build of `select` (everything when empty), the same for `ecom build` and the refresh DAG.

    `--indirect-selection cautious`: a test on two models runs only when both are selected, so a selected build
    never tests against a table this build did not write. Unit tests are left out (`--exclude-resource-type`):
    they test the models' SQL on fixed inputs, not the day's data, so they run with the test suite (`make test`,
    tests/e2e/test_run.py) and `dbt test --select test_type:unit`, as dbt advises, not in every refresh.
    """
    args = ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    if select and select.strip():
        args += ["--select", select.strip(), "--indirect-selection", "cautious"]
    return args


def dbt_args(settings: Settings, command: str, *extra: str) -> list[str]:
    return [
        command,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.dbt_project_dir),
        "--target-path",
        str(settings.dbt_target_dir),
        "--log-path",
        str(settings.dbt_log_dir),
        *extra,
    ]


def dbt_executable() -> str:
    """The dbt beside this interpreter (the project's virtualenv), else the one on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


# "12 of 173 PASS ..." for a node; the on-run-start/end hooks count separately ("1 of 1 OK hook: ...").
_PROGRESS = re.compile(r"^\S*\s+(\d+) of (\d+) (OK|PASS|FAIL|ERROR|WARN|SKIP|NO-OP)\b(?! hook:)")
_GRACE_SECONDS = 30  # how long an interrupted dbt may take to cancel its queries before it is killed


def _parent_death_signal() -> Callable[[], None] | None:
    """For the dbt child: SIGTERM when the parent dies (even by SIGKILL), so no orphan keeps build.duckdb.

    Linux only (prctl PR_SET_PDEATHSIG); elsewhere an orphaned dbt finishes on its own. libc is loaded here, in
    the parent: the returned function runs between fork and exec, where importing is unsafe.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)


def _colour_env(to_tty: bool) -> dict[str, str]:
    # dbt's ANSI colours belong on a terminal only: never in a file or a pipe (its own dbt.log included).
    env = {"DBT_USE_COLORS_FILE": "false"}
    if not to_tty:
        env["DBT_USE_COLORS"] = "false"
    return env


def run_dbt(
    settings: Settings,
    command: str,
    *extra: str,
    quiet: bool = False,
    log_file: Path | None = None,
    progress: Callable[[str], None] | None = None,
    output: TextIO | None = None,
) -> DbtOutcome:
    """Run `dbt command` in a child process and summarise its run_results.json (never raises for failures).

    dbt's console output goes to `output` (default stderr; an Airflow task passes its log, stdout), or, with
    `log_file`, to that file while `progress` gets a line every tenth of the nodes. Ctrl-C (or SIGTERM) stops
    dbt and raises `Interrupted`.

    A child process, not dbtRunner in-process: dbt-duckdb keeps its DuckDB instance open for the life of the
    process, which would block the publish step (and an analyst's reader) until the process exits.
    """
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    args = [dbt_executable(), *(["--quiet"] if quiet else []), *dbt_args(settings, command, *extra)]
    results_path = settings.dbt_target_dir / "run_results.json"
    results_path.unlink(missing_ok=True)
    output = output or sys.stderr
    to_tty = log_file is None and output.isatty()
    env = {
        **os.environ,
        **settings.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **_colour_env(to_tty),
    }
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    # line-buffered: `tail -f` of the log follows the build as it runs
    sink = open(log_file, "w", buffering=1) if log_file is not None else None  # noqa: SIM115 (closed below)
    if sink is None:
        output.flush()  # what was printed before dbt starts stays before dbt's lines
    started = time.perf_counter()
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE if sink else output,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        preexec_fn=_parent_death_signal(),
    )
    try:
        if sink is not None:
            _follow(proc, sink, progress)
        proc.wait()
    except KeyboardInterrupt:
        _stop(proc)
        raise Interrupted(f"dbt {command} was interrupted") from None
    finally:
        if sink is not None:
            sink.close()
    seconds = time.perf_counter() - started
    try:
        results = json.loads(results_path.read_text())["results"]
    except (FileNotFoundError, KeyError, json.JSONDecodeError):
        if proc.returncode == 0:
            return DbtOutcome(True, returncode=0, seconds=seconds)
        where = f" (see {log_file})" if log_file else ""
        return DbtOutcome(
            False,
            error=f"dbt {command} exited with code {proc.returncode} before running any node{where}",
            returncode=proc.returncode,
            seconds=seconds,
        )
    return DbtOutcome.from_results(results, proc.returncode, seconds)


def _follow(proc: subprocess.Popen, sink, progress: Callable[[str], None] | None) -> None:
    """Copy dbt's output to `sink`; report progress at every tenth of the nodes."""
    done = failed = 0
    reported = -1
    for line in proc.stdout:
        sink.write(line)
        match = _PROGRESS.match(line)
        if not match:
            continue
        done += 1
        failed += match.group(3) in ("FAIL", "ERROR")
        total = int(match.group(2))
        tenth = done * 10 // max(total, 1)
        if progress and (tenth > reported or match.group(3) in ("FAIL", "ERROR")):
            reported = tenth
            progress(f"  dbt {done}/{total} nodes done" + (f", {failed} failed" if failed else ""))
    sink.flush()


def _stop(proc: subprocess.Popen) -> None:
    """Let dbt cancel its work (a terminal's Ctrl-C already reached it), then make sure it is gone."""
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGINT)
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
        try:
            proc.wait(timeout=_GRACE_SECONDS if sig is None else 10)
            return
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting politely
            continue


def generate_docs(settings: Settings) -> Path:
    """`dbt docs generate` against the build database; returns the folder with index.html and catalog.json."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    args = [dbt_executable(), "docs", *dbt_args(settings, "generate")]
    env = {
        **os.environ,
        **settings.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **_colour_env(sys.stderr.isatty()),
    }
    proc = subprocess.run(args, env=env, stdout=sys.stderr, stderr=sys.stderr, check=False)
    if proc.returncode != 0:
        raise PipelineFailed(f"dbt docs generate exited with code {proc.returncode}")
    return settings.dbt_target_dir
