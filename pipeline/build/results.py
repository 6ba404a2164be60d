"""One `dbt build`, reported per model: which node of the project each task shows, and what it says.

The refresh DAG runs one `dbt build` and shows its outcome as one task per model (with the model's tests), per
seed and per lake source (with its source tests), grouped by layer. This module holds the pure part: it groups the
manifest's nodes into those tasks and turns dbt's `run_results.json` into one verdict per task:

* `failed` only for the node whose model or tests failed; its text opens with the failing test's name and the
  rows that broke it (from the table dbt's `store_failures` wrote into the `audit` schema);
* `skipped` for what dbt skipped because of it (naming the failure upstream), and for what the selector left out;
* `success` otherwise.

No Airflow import here: the DAG file, the build task and the tests all use it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.build.dbt import FAILED_STATUSES

# Layers shown as task groups, in the order dbt builds them.
LAYERS = ("seeds", "lake", "staging", "intermediate", "marts")


def layer_group_id(layer: str) -> str:
    """The refresh DAG's task group of a layer, numbered in the order dbt builds them: `1_seeds` .. `5_marts`."""
    return f"{LAYERS.index(layer) + 1}_{layer}"


# Rows of a failing test printed in the log: enough to see the problem, few enough to read.
FAILING_ROWS_SHOWN = 10


@dataclass(frozen=True)
class TaskNode:
    """One task of the refresh DAG: a model, seed or source, and the dbt nodes it reports (its tests)."""

    key: str  # `<n>_<layer>.<name>`: the task id inside the DAG (see `layer_group_id`)
    layer: str
    name: str
    unique_id: str  # the model / seed / source
    members: tuple[str, ...] = field(default=())  # unique_id first, then its data tests


def load_manifest(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def _layer(node: dict) -> str:
    if node["resource_type"] == "seed":
        return "seeds"
    if node["resource_type"] == "source":
        return "lake"
    fqn = node.get("fqn") or []
    return fqn[1] if len(fqn) > 2 and fqn[1] in LAYERS else "marts"


def task_nodes(manifest: dict) -> list[TaskNode]:
    """Group the manifest into the refresh DAG's tasks: one per model, seed and tested source."""
    nodes = manifest.get("nodes", {})
    sources = manifest.get("sources", {})
    owners = {uid: n for uid, n in nodes.items() if n["resource_type"] in ("model", "seed")}
    owners.update(sources)
    depth = _depths(manifest)
    attached: dict[str, list[str]] = {uid: [] for uid in owners}
    # data tests only: builds leave the unit tests out (`selection_args`)
    tests = {uid: n for uid, n in nodes.items() if n["resource_type"] == "test"}
    for uid, test in sorted(tests.items()):
        owner = _owner_of(test, owners, depth)
        if owner:
            attached[owner].append(uid)
    result = []
    for uid, node in owners.items():
        if node["resource_type"] == "source" and not attached[uid]:
            continue  # an untested source has nothing to report
        name = node["name"]
        layer = _layer(node)
        key = f"{layer_group_id(layer)}.{name}"
        result.append(TaskNode(key, layer, name, uid, (uid, *sorted(attached[uid]))))
    return sorted(result, key=lambda t: (LAYERS.index(t.layer), t.name))


def _owner_of(test: dict, owners: dict, depth: dict[str, int]) -> str | None:
    """The model (or source) whose task reports a test: the one it is defined on, else its deepest parent."""
    attached = test.get("attached_node")
    if attached in owners:
        return attached
    parents = [p for p in test.get("depends_on", {}).get("nodes", []) if p in owners]
    if not parents:
        return None
    return max(parents, key=lambda p: (depth.get(p, 0), p))


def _depths(manifest: dict) -> dict[str, int]:
    parents = manifest.get("parent_map") or {
        uid: n.get("depends_on", {}).get("nodes", []) for uid, n in manifest.get("nodes", {}).items()
    }
    memo: dict[str, int] = {}

    def depth(uid: str, seen: frozenset = frozenset()) -> int:
        if uid not in memo:
            ups = [p for p in parents.get(uid, []) if p not in seen]
            memo[uid] = 1 + max((depth(p, seen | {uid}) for p in ups), default=-1)
        return memo[uid]

    for uid in parents:
        depth(uid)
    return memo


# --- verdicts from a finished build ------------------------------------------------------------------------


def node_verdicts(
    manifest: dict, run_results: list[dict], build_db: Path | None, selected_all: bool
) -> dict[str, dict]:
    """{task key: {"state": success|failed|skipped, "lines": [...]}} for every task of `task_nodes(manifest)`."""
    by_id = {r["unique_id"]: r for r in run_results}
    failed_ids = {uid for uid, r in by_id.items() if r.get("status") in FAILED_STATUSES}
    parents = manifest.get("parent_map") or {}
    verdicts = {}
    for node in task_nodes(manifest):
        ran = [by_id[m] for m in node.members if m in by_id]
        failing = [r for r in ran if r.get("status") in FAILED_STATUSES]
        if failing:
            lines = []
            for r in failing:
                lines += failure_lines(r, manifest, build_db)
                lines.append("")
            verdicts[node.key] = {"state": "failed", "lines": lines[:-1]}
        elif not ran:
            why = (
                "the build stopped before reaching it" if selected_all else "outside this run's dbt selector"
            )
            verdicts[node.key] = {"state": "skipped", "lines": [f"{node.unique_id}: not built ({why})"]}
        elif (
            all(r.get("status") == "skipped" for r in ran)
            or by_id.get(node.unique_id, {}).get("status") == "skipped"
        ):
            culprits = sorted(_failed_ancestors(node.unique_id, parents, failed_ids))
            cause = f"because {', '.join(culprits)} failed upstream" if culprits else "(see the build log)"
            verdicts[node.key] = {
                "state": "skipped",
                "lines": [f"dbt skipped {node.unique_id} {cause}: nothing was built or tested here"],
            }
        else:
            verdicts[node.key] = {"state": "success", "lines": success_lines(node, ran)}
    return verdicts


def _failed_ancestors(uid: str, parents: dict, failed: set[str]) -> set[str]:
    """The failing nodes upstream of `uid`, including failing tests of its ancestors."""
    ancestors, todo = set(), list(parents.get(uid, []))
    while todo:
        p = todo.pop()
        if p not in ancestors:
            ancestors.add(p)
            todo += parents.get(p, [])
    culprits = {a for a in ancestors if a in failed}
    # a failing test is not an ancestor in the parent map: dbt build skips the children of its model
    culprits |= {f for f in failed if set(parents.get(f, [])) & ancestors}
    return culprits


def success_lines(node: TaskNode, ran: list[dict]) -> list[str]:
    own = next((r for r in ran if r["unique_id"] == node.unique_id), None)
    tests = [r for r in ran if r["unique_id"] != node.unique_id]
    counts: dict[str, int] = {}
    for r in tests:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    head = (
        f"{node.unique_id}: {own['status']} in {own.get('execution_time', 0):.2f}s" if own else node.unique_id
    )
    lines = [head + (f"; tests: {_counts(counts)}" if tests else "; no tests")]
    lines += [
        f"  WARN {r['unique_id']}: {(r.get('message') or '').strip()}" for r in tests if r["status"] == "warn"
    ]
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def failure_lines(
    result: dict, manifest: dict, build_db: Path | None, limit: int = FAILING_ROWS_SHOWN
) -> list[str]:
    """The test's name, dbt's message, then the first failing rows (from the `store_failures` table)."""
    uid = result["unique_id"]
    node = manifest.get("nodes", {}).get(uid) or manifest.get("unit_tests", {}).get(uid) or {}
    name = node.get("name") or uid.split(".")[-1]
    kind = {"test": "test", "unit_test": "unit test"}.get(
        uid.split(".")[0], node.get("resource_type", "node")
    )
    head = f"dbt {kind} {name} {result['status'].upper()}"
    if result.get("failures"):
        head += f": {result['failures']} failing rows"
    lines = [head, f"  ({uid})"]
    message = (result.get("message") or "").strip()
    relation = result.get("relation_name") or node.get("relation_name")
    if kind == "test" and relation and build_db is not None:
        lines += failing_rows(build_db, relation, limit)
    if message:
        lines += ["  dbt: " + line for line in message.splitlines()[:20]]
    return lines


def failing_rows(build_db: Path, relation: str, limit: int = FAILING_ROWS_SHOWN) -> list[str]:
    """The first rows of the table dbt's `store_failures` wrote for a failing test, as an aligned table."""
    import duckdb

    try:
        con = duckdb.connect(str(build_db), read_only=True)
    except duckdb.Error as exc:
        return [f"  (could not open {build_db} to show the failing rows: {exc})"]
    try:
        cur = con.execute(f"select * from {relation} limit {int(limit)}")
        columns = [c[0] for c in cur.description]
        rows = cur.fetchall()
    except duckdb.Error as exc:
        return [f"  (could not read the failing rows from {relation}: {exc})"]
    finally:
        con.close()
    cells = [columns, *[["NULL" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    table = ["  " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    table.insert(1, "  " + "-+-".join("-" * w for w in widths))
    return [f"  failing rows (first {len(rows)}, from {relation}):", *table]


def build_summary(verdicts: dict[str, dict], counts: dict[str, int], seconds: float) -> str:
    """The readable end of the build log: what ran, what failed (with its rows) and what dbt skipped."""
    failed = {k: v for k, v in verdicts.items() if v["state"] == "failed"}
    skipped = sorted(k for k, v in verdicts.items() if v["state"] == "skipped")
    passed = sorted(k for k, v in verdicts.items() if v["state"] == "success")
    lines = [
        "=" * 78,
        f"dbt build summary ({seconds:.0f}s): dbt nodes {_counts(counts) or 'none'}",
        f"  {len(passed)} models/sources passed, {len(failed)} failed, {len(skipped)} skipped",
    ]
    for key, verdict in sorted(failed.items()):
        lines += ["", f"FAILED {key}", *["  " + line for line in verdict["lines"]]]
    if skipped:
        lines += ["", "skipped: " + ", ".join(skipped)]
    lines += [
        "",
        "The quality gate stopped this build: nothing will be published; the previous marts stay served."
        if failed
        else "Every model and test passed: the build goes on to be published.",
        "=" * 78,
    ]
    return "\n".join(lines)
