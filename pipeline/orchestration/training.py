"""The training DAG's task: `ecom train` as a function, its refusals and failures as one line in the task log."""

from __future__ import annotations

import datetime as dt
import json

from pipeline.settings import Settings
from predict.artifacts import json_text


def train_models(as_of: str | None = None, models: list[str] | None = None) -> dict:
    """Train `models` (empty: all) as of `as_of` (empty: the lake's last day); return their versions and metrics.

    Bad input (an empty or too short lake, a day after the lake's end) fails at once without retrying; a model
    whose training fails leaves its previous artifact in use, and the task fails saying which and why.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.errors import BadInput, PipelineFailed
    from pipeline.orchestration.tasks import _no_retry_on_bad_input
    from pipeline.train import train

    with _no_retry_on_bad_input():
        try:
            day = dt.date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise BadInput(f"as_of {as_of!r} is not a day: give YYYY-MM-DD, or leave it empty") from None
        try:
            trained = train(Settings.load(), as_of=day, models=tuple(models or ()) or None, echo=_print)
        except PipelineFailed as exc:
            raise AirflowFailException(exc.line()) from None
    # the XCom: strict JSON, as metrics.json holds it (a metric that is not a number is null)
    return json.loads(
        json_text({t.name: {"version": t.version, "reused": t.reused, "metrics": t.metrics} for t in trained})
    )


def _print(line: str) -> None:
    print(line, flush=True)
