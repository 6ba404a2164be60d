"""Deliberate corruption of one day, for data-quality demos and tests (`--inject KIND[,KIND...]`).

Each kind is documented in `generator.config.FAULT_KINDS`; every one must make the dbt tests fail.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SHARE = 0.05  # share of rows a fault touches (at least one row)


def _pick(rng: np.random.Generator, n: int) -> np.ndarray:
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, int(n * SHARE))
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def _mask(rng: np.random.Generator, n: int) -> pa.Array:
    """A boolean mask over `n` rows with the picked rows set (faults compose: each keeps earlier damage)."""
    hit = np.zeros(n, dtype=bool)
    hit[_pick(rng, n)] = True
    return pa.array(hit)


def _replace(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    return table.set_column(i, pa.field(name, column.type), column)


def apply_faults(tables: dict[str, pa.Table], kinds: tuple[str, ...], rng: np.random.Generator) -> set[str]:
    """Corrupt `tables` in place; return the tables that must not be written (missing partitions)."""
    skip: set[str] = set()
    for kind in kinds:
        if kind == "duplicate_keys":
            orders = tables["orders"]
            tables["orders"] = pa.concat_tables([orders, orders.take(_pick(rng, orders.num_rows))])
        elif kind == "null_keys":
            items = tables["order_items"]
            ids = items["order_id"].combine_chunks()
            hit = _mask(rng, items.num_rows)
            tables["order_items"] = _replace(
                items, "order_id", pc.if_else(hit, pa.scalar(None, pa.int64()), ids)
            )
        elif kind == "orphan_order_items":
            items = tables["order_items"]
            ids = items["order_id"].combine_chunks()
            orphans = pc.add(ids, 900_000)  # beyond any order number of the day
            tables["order_items"] = _replace(
                items, "order_id", pc.if_else(_mask(rng, items.num_rows), orphans, ids)
            )
        elif kind == "negative_prices":
            items = tables["order_items"]
            price = items["unit_price"].combine_chunks()
            negated = pc.if_else(_mask(rng, items.num_rows), pc.negate(price), price)
            tables["order_items"] = _replace(items, "unit_price", negated)
        elif kind == "out_of_order_funnel":
            tables["user_events"] = _purchase_before_checkout(tables["user_events"], rng)
        elif kind == "schema_drift":
            orders = tables["orders"]
            i = orders.schema.get_field_index("order_total")
            as_text = pc.cast(orders["order_total"], pa.string())
            tables["orders"] = orders.set_column(i, pa.field("total_amount", pa.string()), as_text)
        elif kind == "missing_partition":
            skip.add("user_events")
    return skip


def _purchase_before_checkout(events: pa.Table, rng: np.random.Generator) -> pa.Table:
    """Swap the sequence numbers and times of checkout and purchase in some purchasing sessions."""
    etype = pc.cast(events["event_type"], pa.string()).to_numpy(zero_copy_only=False)
    purchases = np.flatnonzero(etype == "purchase")
    chosen = purchases[_pick(rng, len(purchases))]
    checkouts = chosen - 1  # the checkout event sits right before its purchase
    seq = events["sequence_number"].to_numpy().copy()
    at = events["event_at"].to_numpy().copy()
    seq[chosen], seq[checkouts] = seq[checkouts], seq[chosen].copy()
    at[chosen], at[checkouts] = at[checkouts], at[chosen].copy()
    events = _replace(events, "sequence_number", pa.array(seq))
    return _replace(events, "event_at", pa.array(at, pa.timestamp("us")))
