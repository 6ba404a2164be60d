"""Arrow column helpers: exact decimals, millisecond timestamps, dictionary and nullable columns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

SECONDS_PER_DAY = 86_400
US_PER_SECOND = 1_000_000


def decimal_from_cents(cents: np.ndarray, precision: int = 12) -> pa.Array:
    """Exact decimal(precision, 2) from integer cents, without going through floats."""
    cents = np.asarray(cents, dtype=np.int64)
    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)
    return pa.Array.from_buffers(
        pa.decimal128(precision, 2), len(cents), [None, pa.py_buffer(words.tobytes())]
    )


def timestamps(day: dt.date, seconds: np.ndarray) -> pa.Array:
    """Naive UTC timestamps (microsecond type) with millisecond precision, like a real clickstream's."""
    ms = np.round((_epoch_seconds(day) + np.asarray(seconds, dtype=np.float64)) * 1000).astype(np.int64)
    return pa.array(ms * (US_PER_SECOND // 1000), pa.timestamp("us"))


def _epoch_seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * SECONDS_PER_DAY


def dictionary(values: tuple[str, ...] | pa.Array, codes: np.ndarray) -> pa.Array:
    """A dictionary-encoded string column. The lake stores it as a plain Parquet string column (the writer
    does not embed the Arrow schema), so every reader sees `string`/`VARCHAR`; skipping the decode to dense
    strings saves a large share of the events' build time. The values must be distinct: Parquet writers do not
    encode a dictionary with repeated values reproducibly."""
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(values, pa.string()))


def nullable_int(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    """int64 array with nulls where `mask` is False."""
    return pa.array(values.astype(np.int64), pa.int64(), mask=~mask)
