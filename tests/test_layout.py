"""The import rules of the project's layout hold: who may import what, read from the code with `ast`.

`generator` (and `predict`) import nothing of ours; only `pipeline/orchestration/`, `dags/` and `tests/` import
Airflow; `dashboard/` and `api/` read through `pipeline.read` and `pipeline.settings` (the dashboard also takes
generator constants); no test imports `bench`. Every import counts, also one inside a function.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ecom import REPO

OURS = ("generator", "pipeline", "dashboard", "dags", "tests", "bench", "predict", "api")
NOT_CODE = {"data", "target", "dbt_packages", "logs", "node_modules", "__pycache__"}  # and hidden folders


@dataclass(frozen=True)
class Import:
    path: str  # relative to the root, with forward slashes
    line: int
    module: str  # absolute dotted name of what is imported

    @property
    def top(self) -> str:
        return self.module.split(".")[0]

    def within(self, *modules: str) -> bool:
        return any(self.module == m or self.module.startswith(m + ".") for m in modules)


def python_files(root: Path) -> Iterator[Path]:
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in NOT_CODE)
        for name in sorted(files):
            if name.endswith(".py"):
                yield Path(folder) / name


def is_module(root: Path, dotted: str) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(root: Path) -> list[Import]:
    """Every import statement under `root`, relative ones resolved; `from a import b` names a.b if b is a module."""
    found = []
    for file in python_files(root):
        relative = file.relative_to(root)
        package = list(relative.parent.parts)
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package[: len(package) - node.level + 1]
                    base = ".".join([*parent, *([base] if base else [])])
                modules = []
                for alias in node.names:
                    submodule = f"{base}.{alias.name}" if base else alias.name
                    modules.append(submodule if is_module(root, submodule) else base)
            else:
                continue
            found += [Import(relative.as_posix(), node.lineno, m) for m in dict.fromkeys(modules)]
    return found


@dataclass(frozen=True)
class Rule:
    name: str
    applies: Callable[[str], bool]  # to a file, by its path
    forbidden: Callable[[Import], bool]


def under(*folders: str) -> Callable[[str], bool]:
    return lambda path: any(path.startswith(folder + "/") for folder in folders)


def ours_except(*allowed: str) -> Callable[[Import], bool]:
    return lambda imp: imp.top in OURS and not imp.within(*allowed)


RULES = [
    Rule("generator imports nothing of ours", under("generator"), ours_except("generator")),
    Rule(
        "only pipeline/orchestration, dags and tests import Airflow",
        lambda path: not under("pipeline/orchestration", "dags", "tests")(path),
        lambda imp: imp.top == "airflow",
    ),
    Rule(
        "dashboard imports only pipeline.read, pipeline.settings and generator constants",
        under("dashboard"),
        ours_except(
            "dashboard",
            "pipeline.read",
            "pipeline.settings",
            "generator.config",
            "generator.markets",
            "generator.calendar",  # the sales calendar: how long a sale event and its weeks around it are
        ),
    ),
    Rule("predict imports nothing of ours", under("predict"), ours_except("predict")),
    Rule(
        "api imports only pipeline.read and pipeline.settings",
        under("api"),
        ours_except("api", "pipeline.read", "pipeline.settings"),
    ),
    Rule("no test imports bench", under("tests"), lambda imp: imp.top == "bench"),
]


# Rules the code breaks today, each fixed by a change of its own (strict: the mark must go with the fix).
def broken(rule: Rule, found: list[Import]) -> list[str]:
    return [
        f"{imp.path}:{imp.line}: imports {imp.module}, but {rule.name}"
        for imp in found
        if rule.applies(imp.path) and rule.forbidden(imp)
    ]


@pytest.fixture(scope="module")
def repo_imports() -> list[Import]:
    return imports(REPO)


def test_the_project_is_where_the_rules_look(repo_imports):
    """The rules read real code: each folder they govern is found, with the imports it is known to have."""
    modules = {(imp.path.split("/")[0], imp.module) for imp in repo_imports}
    assert ("dashboard", "pipeline.read") in modules
    assert ("dags", "airflow.sdk") in modules
    assert ("generator", "generator.config") in modules
    assert ("pipeline", "airflow.sdk") in modules  # pipeline/orchestration/


@pytest.mark.parametrize(
    "rule",
    [pytest.param(rule, id=rule.name) for rule in RULES],
)
def test_import_rule_holds(rule, repo_imports):
    violations = broken(rule, repo_imports)
    assert not violations, "\n".join(violations)


def test_every_rule_names_the_file_and_line_of_an_import_that_breaks_it(tmp_path):
    planted = {
        "generator/day.py": "import numpy\n\n\ndef f():\n    from pipeline import settings\n",
        "generator/sub/__init__.py": "from .. import config\nfrom ..config import SCALES\n",
        "generator/config.py": "",
        "dashboard/app.py": "from pipeline.read import connect\nfrom pipeline.build import run\n",
        "pipeline/read.py": "",
        "pipeline/build/__init__.py": "",
        "pipeline/cli.py": "import airflow.sdk\n",
        "pipeline/orchestration/tasks.py": "from airflow.sdk import task\n",
        "predict/churn.py": "import generator.config\n",
        "api/app.py": "from pipeline import read, settings\nfrom dashboard.data import q\n",
        "pipeline/settings.py": "",
        "tests/test_x.py": "import airflow\nfrom bench import bgnbd\n",
    }
    for path, text in planted.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text)
    found = imports(tmp_path)
    report = {rule.name: broken(rule, found) for rule in RULES}
    assert report == {
        "generator imports nothing of ours": [
            "generator/day.py:5: imports pipeline.settings, but generator imports nothing of ours",
        ],
        "only pipeline/orchestration, dags and tests import Airflow": [
            "pipeline/cli.py:1: imports airflow.sdk, but only pipeline/orchestration, dags and tests import Airflow",
        ],
        "dashboard imports only pipeline.read, pipeline.settings and generator constants": [
            "dashboard/app.py:2: imports pipeline.build, but dashboard imports only pipeline.read, "
            "pipeline.settings and generator constants",
        ],
        "predict imports nothing of ours": [
            "predict/churn.py:1: imports generator.config, but predict imports nothing of ours",
        ],
        "api imports only pipeline.read and pipeline.settings": [
            "api/app.py:2: imports dashboard.data, but api imports only pipeline.read and pipeline.settings",
        ],
        "no test imports bench": ["tests/test_x.py:2: imports bench, but no test imports bench"],
    }
