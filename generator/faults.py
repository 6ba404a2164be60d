"""Deliberate corruption of one day, for data-quality demos and tests (`--inject KIND[,KIND...]`).

`FAULTS` is the one registry of fault kinds: what each does (the CLI's help and the DAG's form show it) and the
function that does it; every kind must make the dbt tests fail. The registry is read whenever the CLI starts or
Airflow parses a DAG file (through `generator.config.FAULT_KINDS`), so numpy and pyarrow are imported only by the
functions that corrupt a day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

SHARE = 0.05  # share of rows a fault touches (at least one row)
SRM_SHARE = (
    0.8  # share of the treatment arm's exposures the `srm` fault loses (a redirect that drops visitors)
)


@dataclass(frozen=True)
class Fault:
    description: str
    corrupt: Callable[[dict[str, pa.Table], np.random.Generator], None]  # changes the day's tables in place
    unwritten: tuple[str, ...] = ()  # tables whose partition is left out


def _pick(rng: np.random.Generator, n: int) -> np.ndarray:
    import numpy as np

    if n == 0:
        return np.zeros(0, dtype=np.int64)
    k = max(1, int(n * SHARE))
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def _mask(rng: np.random.Generator, n: int) -> pa.Array:
    """A boolean mask over `n` rows with the picked rows set (faults compose: each keeps earlier damage)."""
    import numpy as np
    import pyarrow as pa

    hit = np.zeros(n, dtype=bool)
    hit[_pick(rng, n)] = True
    return pa.array(hit)


def _replace(table: pa.Table, name: str, column: pa.Array) -> pa.Table:
    import pyarrow as pa

    i = table.schema.get_field_index(name)
    return table.set_column(i, pa.field(name, column.type), column)


def _duplicate_orders(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    import pyarrow as pa

    orders = tables["orders"]
    tables["orders"] = pa.concat_tables([orders, orders.take(_pick(rng, orders.num_rows))])


def _null_order_item_keys(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    items = tables["order_items"]
    ids = items["order_id"].combine_chunks()
    hit = _mask(rng, items.num_rows)
    tables["order_items"] = _replace(items, "order_id", pc.if_else(hit, pa.scalar(None, pa.int64()), ids))


def _orphan_order_items(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    import pyarrow.compute as pc

    items = tables["order_items"]
    ids = items["order_id"].combine_chunks()
    orphans = pc.add(ids, 900_000)  # beyond any order number of the day
    tables["order_items"] = _replace(items, "order_id", pc.if_else(_mask(rng, items.num_rows), orphans, ids))


def _negate_prices(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    import pyarrow.compute as pc

    items = tables["order_items"]
    price = items["unit_price"].combine_chunks()
    negated = pc.if_else(_mask(rng, items.num_rows), pc.negate(price), price)
    tables["order_items"] = _replace(items, "unit_price", negated)


def _purchase_before_checkout(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    """Swap the sequence numbers and times of checkout and purchase in some purchasing sessions."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    events = tables["user_events"]
    etype = pc.cast(events["event_type"], pa.string()).to_numpy(zero_copy_only=False)
    purchases = np.flatnonzero(etype == "purchase")
    chosen = purchases[_pick(rng, len(purchases))]
    checkouts = chosen - 1  # the checkout event sits right before its purchase
    seq = events["sequence_number"].to_numpy().copy()
    at = events["event_at"].to_numpy().copy()
    seq[chosen], seq[checkouts] = seq[checkouts], seq[chosen].copy()
    at[chosen], at[checkouts] = at[checkouts], at[chosen].copy()
    events = _replace(events, "sequence_number", pa.array(seq))
    tables["user_events"] = _replace(events, "event_at", pa.array(at, pa.timestamp("us")))


def _rename_order_total(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    orders = tables["orders"]
    i = orders.schema.get_field_index("order_total")
    as_text = pc.cast(orders["order_total"], pa.string())
    tables["orders"] = orders.set_column(i, pa.field("total_amount", pa.string()), as_text)


def _lose_treatment_exposures(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    """Drop `SRM_SHARE` of each experiment's treatment exposures, as a tracker that loses the visitors a
    treatment redirects: the orders stay, the arms no longer hold the planned shares (a sample-ratio mismatch)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    exposures = tables["experiment_exposures"]
    variant = pc.cast(exposures["variant"], pa.string()).to_numpy(zero_copy_only=False)
    treated = np.flatnonzero(variant == "treatment")
    lost = rng.choice(treated, size=round(len(treated) * SRM_SHARE), replace=False)
    keep = np.ones(exposures.num_rows, dtype=bool)
    keep[lost] = False
    tables["experiment_exposures"] = exposures.filter(pa.array(keep))


def _write_everything(tables: dict[str, pa.Table], rng: np.random.Generator) -> None:
    """The tables stay whole; the fault is which of them are not written (`Fault.unwritten`)."""


FAULTS: dict[str, Fault] = {
    "duplicate_keys": Fault("a share of the day's orders appears twice (same order_id)", _duplicate_orders),
    "null_keys": Fault("some order_items lose their order_id", _null_order_item_keys),
    "orphan_order_items": Fault(
        "some order_items point to an order_id that does not exist", _orphan_order_items
    ),
    "negative_prices": Fault("some order_items get a negative unit_price", _negate_prices),
    "out_of_order_funnel": Fault(
        "in some purchasing sessions the purchase comes before the checkout", _purchase_before_checkout
    ),
    "schema_drift": Fault(
        "orders.order_total is renamed to orders.total_amount and retyped to text", _rename_order_total
    ),
    "missing_partition": Fault(
        "the day's user_events partition is not written", _write_everything, unwritten=("user_events",)
    ),
    "srm": Fault(
        "the treatment arm of every running experiment loses 80% of its exposures (a sample-ratio mismatch)",
        _lose_treatment_exposures,
    ),
}


def apply_faults(tables: dict[str, pa.Table], kinds: tuple[str, ...], rng: np.random.Generator) -> set[str]:
    """Corrupt `tables` in place, in the order of `kinds`; return the tables that must not be written."""
    skip: set[str] = set()
    for kind in kinds:
        FAULTS[kind].corrupt(tables, rng)
        skip.update(FAULTS[kind].unwritten)
    return skip
