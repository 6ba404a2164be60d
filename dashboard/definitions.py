"""What a headline means, in the words the dbt project's docs already hold: the column descriptions of its YAML
files (dbt_project/models/**/_*.yml), read once per process, so the dashboard and `dbt docs` cannot drift."""

from __future__ import annotations

import functools
from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models"


@functools.cache
def descriptions() -> dict[str, str]:
    """`model.column` -> the column's description, for every documented column of every model."""
    found = {}
    for path in sorted(MODELS.rglob("_*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                if column.get("description"):
                    found[f"{model['name']}.{column['name']}"] = " ".join(column["description"].split())
    return found


def describe(source: str) -> str:
    """The description of `source` ("dm_kpi_daily.conversion_rate"), or "" when the docs hold none."""
    return descriptions().get(source, "")
