"""The refresh DAG's per-model tasks: each shows one model's (or source's) verdict from the finished build.

They run no dbt and need no worker: each starts in the triggerer (`start_from_trigger`), reads its verdict from
the build task's XCom and ends there as success, failed or skipped, printing the verdict's lines (for a failure:
the test's name, then its failing rows) as the first lines of its log. A worker process per model cost 5-20 s on
two cores; a trigger costs milliseconds. Under `dag.test()` (which runs no triggerer) `execute()` does the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from airflow.sdk import BaseOperator
from airflow.triggers.base import (
    BaseTrigger,
    StartTriggerArgs,
    TaskFailedEvent,
    TaskSkippedEvent,
    TaskSuccessEvent,
    TriggerEvent,
)

BUILD_TASK_ID = "dbt_build"


def verdict_of(build_result: dict | None, key: str) -> dict:
    """This task's verdict in the build task's return value; skipped when the build reported nothing."""
    nodes = (build_result or {}).get("nodes") or {}
    if key in nodes:
        return nodes[key]
    return {
        "state": "skipped",
        "lines": [f"{key}: the build task ({BUILD_TASK_ID}) reported no result for it; see its log"],
    }


class NodeResultTrigger(BaseTrigger):
    """Reads one node's verdict from the build task's XCom and ends the task with it."""

    def __init__(self, key: str, build_task_id: str = BUILD_TASK_ID):
        super().__init__()
        self.key, self.build_task_id = key, build_task_id

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (f"{__name__}.NodeResultTrigger", {"key": self.key, "build_task_id": self.build_task_id})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from pipeline.orchestration.airflow_compat import read_xcom_in_trigger

        ti = self.task_instance
        result = await read_xcom_in_trigger(dag_id=ti.dag_id, task_id=self.build_task_id, run_id=ti.run_id)
        verdict = verdict_of(result, self.key)
        for line in verdict["lines"]:
            self.log.info("%s", line)
        event = {"success": TaskSuccessEvent, "failed": TaskFailedEvent}.get(
            verdict["state"], TaskSkippedEvent
        )
        yield event()


class DbtNodeResult(BaseOperator):
    """One model, seed or source of the dbt build, as the build left it (see the module docstring)."""

    ui_color = "#e8f4ea"
    template_fields = ()

    def __init__(self, *, key: str, unique_id: str, members: tuple[str, ...] = (), **kwargs):
        kwargs.setdefault("retries", 0)  # a verdict does not change by asking again: re-run the DAG
        kwargs.setdefault("trigger_rule", "all_done")  # every node reports, whatever the build's outcome
        super().__init__(**kwargs)
        self.key, self.unique_id, self.members = key, unique_id, tuple(members)
        self.doc_md = f"dbt `{unique_id}`" + (
            f" and its {len(members) - 1} tests" if len(members) > 1 else ""
        )
        self.start_from_trigger = True
        self.start_trigger_args = StartTriggerArgs(
            trigger_cls=f"{__name__}.NodeResultTrigger",
            trigger_kwargs={"key": key, "build_task_id": BUILD_TASK_ID},
            next_method="execute_complete",
            timeout=dt.timedelta(minutes=5),
        )

    def execute(self, context) -> None:
        verdict = verdict_of(context["ti"].xcom_pull(task_ids=BUILD_TASK_ID), self.key)
        self._end(verdict)

    def execute_complete(self, context, event=None) -> None:  # only if a trigger resumes on a worker
        self.execute(context)

    def _end(self, verdict: dict) -> None:
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        text = "\n".join(verdict["lines"])
        print(text, flush=True)
        if verdict["state"] == "failed":
            raise AirflowFailException(verdict["lines"][0] if verdict["lines"] else self.key)
        if verdict["state"] == "skipped":
            raise AirflowSkipException(verdict["lines"][0] if verdict["lines"] else self.key)
