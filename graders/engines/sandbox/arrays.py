"""Arrays across the sandbox boundary as plain JSON: `{"__ndarray__": base64, "dtype", "shape"}`.

Decoding uses numpy.frombuffer on a whitelisted dtype with bounded size, never pickle, so a
hostile job can at worst hand back a wrong array, not code. Runs on both sides of the boundary
(numpy only, no torch import)."""
from __future__ import annotations

import base64
import binascii
import math
from typing import Any

import numpy as np

ARRAY_KEY = "__ndarray__"
# little-endian, fixed-size, no objects: everything the ex4 tasks exchange
ALLOWED_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64",
                  "uint8", "bool")
MAX_ARRAY_BYTES = 64 * 1024 * 1024
MAX_NDIM = 8
MAX_DEPTH = 32


class ArrayDecodeError(ValueError):
    """An encoded array is malformed (dtype, shape, size or base64)."""


def encode_array(array: Any) -> dict[str, Any]:
    """Encode a numpy array (or anything with `.detach().cpu().numpy()`, e.g. a torch tensor)."""
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    arr = np.asarray(array)
    if arr.dtype.name not in ALLOWED_DTYPES:
        raise ArrayDecodeError(f"dtype {arr.dtype.name} cannot cross the sandbox boundary")
    if arr.ndim > MAX_NDIM or arr.nbytes > MAX_ARRAY_BYTES:
        raise ArrayDecodeError(f"array of shape {arr.shape} is too large to cross the sandbox boundary")
    data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return {ARRAY_KEY: base64.b64encode(data).decode("ascii"), "dtype": arr.dtype.name,
            "shape": list(arr.shape)}


def is_encoded_array(value: Any) -> bool:
    return isinstance(value, dict) and ARRAY_KEY in value


def decode_array(value: Any) -> np.ndarray:
    """Decode an `encode_array` dict into a writable numpy array; an ndarray passes through."""
    if isinstance(value, np.ndarray):
        return value
    if not is_encoded_array(value) or set(value) != {ARRAY_KEY, "dtype", "shape"}:
        raise ArrayDecodeError("not an encoded array")
    dtype, shape, data = value["dtype"], value["shape"], value[ARRAY_KEY]
    if not isinstance(dtype, str) or dtype not in ALLOWED_DTYPES:
        raise ArrayDecodeError(f"dtype {dtype!r} is not allowed")
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(type(n) is int and 0 <= n for n in shape)):
        raise ArrayDecodeError("shape must be a list of at most 8 non-negative integers")
    if not isinstance(data, str) or len(data) > (MAX_ARRAY_BYTES * 4) // 3 + 4:
        raise ArrayDecodeError("array data is missing or too large")
    np_dtype = np.dtype(dtype).newbyteorder("<")
    count = math.prod(shape)
    if count * np_dtype.itemsize > MAX_ARRAY_BYTES:
        raise ArrayDecodeError("array is too large")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ArrayDecodeError("array data is not valid base64") from exc
    if len(raw) != count * np_dtype.itemsize:
        raise ArrayDecodeError("array data does not match its shape and dtype")
    return np.frombuffer(raw, dtype=np_dtype).astype(np.dtype(dtype), copy=True).reshape(shape)


def encode_tree(value: Any, depth: int = 0) -> Any:
    """Encode every array in a JSON-like tree (dicts with str keys, lists, tuples, scalars)."""
    if depth > MAX_DEPTH:
        raise ValueError("value is nested too deeply")
    if isinstance(value, np.ndarray) or hasattr(value, "detach"):
        return encode_array(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("dict keys must be strings")
        return {k: encode_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode_tree(v, depth + 1) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"a value of type {type(value).__name__} cannot cross the sandbox boundary")


def decode_tree(value: Any, depth: int = 0) -> Any:
    """Decode every encoded array in a JSON tree; raises ArrayDecodeError on a malformed one."""
    if depth > MAX_DEPTH:
        raise ArrayDecodeError("value is nested too deeply")
    if is_encoded_array(value):
        return decode_array(value)
    if isinstance(value, dict):
        return {k: decode_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_tree(v, depth + 1) for v in value]
    return value
