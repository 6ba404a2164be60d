"""Arrow column helpers: arrays from numpy and lists, exact decimals, millisecond timestamps, dictionary and
nullable columns."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

SECONDS_PER_DAY = 86_400
US_PER_SECOND = 1_000_000

# --- arrays without pandas ----------------------------------------------------------------------------------
#
# `pa.array` and `pa.scalar` first ask pandas whether their input is a pandas object, which imports pandas:
# about 0.7 s of CPU at the start of every `ecom generate` process (and of each of its workers) for a library
# the generator never uses. `array` builds the same arrays from buffers instead (the same values, so the same
# Parquet bytes), for what the generator passes: numpy arrays and short lists of str, float, int, bool, date.
# pyarrow 26; `tests/generator/test_arrow.py` checks that a generated day still leaves pandas unloaded
# and that `array` equals `pa.array`.

_FROM_NUMPY = {
    np.dtype(np.bool_): pa.bool_(),
    np.dtype(np.int8): pa.int8(),
    np.dtype(np.int16): pa.int16(),
    np.dtype(np.int32): pa.int32(),
    np.dtype(np.int64): pa.int64(),
    np.dtype(np.uint8): pa.uint8(),
    np.dtype(np.uint32): pa.uint32(),
    np.dtype(np.uint64): pa.uint64(),
    np.dtype(np.float32): pa.float32(),
    np.dtype(np.float64): pa.float64(),
}
_TO_NUMPY = {t: d for d, t in _FROM_NUMPY.items()}
# Arrow types stored as a numpy dtype's values, reinterpreted without a copy
_SAME_BUFFER = {pa.date32(): np.dtype(np.int32), pa.timestamp("us"): np.dtype(np.int64)}


def array(values, type: pa.DataType | None = None, mask: np.ndarray | None = None) -> pa.Array:
    """`pa.array(values, type, mask=mask)` (`mask` True where null) without importing pandas."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "UO":
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        return _from_list(list(values), type)
    values = np.ascontiguousarray(values)
    natural = _FROM_NUMPY.get(values.dtype)
    if natural is None:
        raise TypeError(f"no Arrow array from numpy {values.dtype}")
    type = type or natural
    if type in _SAME_BUFFER:
        stored = _SAME_BUFFER[type]
    elif type in _TO_NUMPY:
        stored = _TO_NUMPY[type]
    else:
        raise TypeError(f"no Arrow {type} from numpy {values.dtype}")
    if values.dtype != stored:
        converted = values.astype(stored)
        if values.dtype.kind != "f" and not np.array_equal(converted, values):  # pa.array's safe cast
            raise ValueError(f"values do not fit {type}")
        values = converted
    validity, nulls = _validity(mask, len(values))
    data = np.packbits(values, bitorder="little") if type == pa.bool_() else values
    return pa.Array.from_buffers(type, len(values), [validity, pa.py_buffer(data)], null_count=nulls)


def string_scalar(value: str) -> pa.Scalar:
    """A string scalar for compute functions (a Python str there goes through `pa.scalar`, and pandas)."""
    return array([value], pa.string())[0]


def _validity(mask: np.ndarray | None, n: int) -> tuple[pa.Buffer | None, int]:
    if mask is None:
        return None, 0
    mask = np.asarray(mask, dtype=bool)
    if len(mask) != n:
        raise ValueError("mask is a different length from the values")
    nulls = int(mask.sum())
    return (pa.py_buffer(np.packbits(~mask, bitorder="little")) if nulls else None), nulls


def _from_list(values: list, type: pa.DataType | None) -> pa.Array:
    has_nulls = None in values
    mask = np.array([v is None for v in values], dtype=bool) if has_nulls else None
    present = [v for v in values if v is not None] if has_nulls else values
    if type is None and not present:
        return pa.nulls(len(values))
    if type is None:
        if present and all(isinstance(v, str) for v in present):
            type = pa.string()
        elif present and all(isinstance(v, bool) for v in present):
            type = pa.bool_()
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            type = pa.int64()
        elif present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            type = pa.float64()
        else:
            raise TypeError("no Arrow type inferred for these values")
    if type == pa.string():
        encoded = (
            [("" if v is None else v).encode() for v in values] if has_nulls else [v.encode() for v in values]
        )
        offsets = np.zeros(len(values) + 1, dtype=np.int32)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        validity, nulls = _validity(mask, len(values))
        buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
        return pa.Array.from_buffers(type, len(values), buffers, null_count=nulls)
    if type == pa.date32():
        days = np.array([0 if v is None else v.toordinal() - EPOCH_ORDINAL for v in values], dtype=np.int32)
        return array(days, type, mask=mask)
    numbers = [0 if v is None else v for v in values] if has_nulls else values
    dtype = _TO_NUMPY.get(type, _SAME_BUFFER.get(type))
    return array(np.array(numbers, dtype=dtype), type, mask=mask)


EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


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
    return array(ms * (US_PER_SECOND // 1000), pa.timestamp("us"))


def _epoch_seconds(day: dt.date) -> int:
    return (day - dt.date(1970, 1, 1)).days * SECONDS_PER_DAY


def dictionary(values: tuple[str, ...] | pa.Array, codes: np.ndarray) -> pa.Array:
    """A dictionary-encoded string column. The lake stores it as a plain Parquet string column (the writer
    does not embed the Arrow schema), so every reader sees `string`/`VARCHAR`; skipping the decode to dense
    strings saves a large share of the events' build time. The values must be distinct: Parquet writers do not
    encode a dictionary with repeated values reproducibly."""
    return pa.DictionaryArray.from_arrays(array(codes, pa.int32()), _strings(values))


def nullable_int(values: np.ndarray, mask: np.ndarray) -> pa.Array:
    """int64 array with nulls where `mask` is False."""
    return array(values.astype(np.int64), pa.int64(), mask=~mask)


def _strings(values) -> pa.Array:
    return values if isinstance(values, pa.Array) else array(values, pa.string())
