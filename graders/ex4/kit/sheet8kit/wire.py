"""Arrays as JSON, `{"__ndarray__": base64, "dtype", "shape"}`: how the grader sends inputs to the
task functions and how they send outputs back. Never pickle."""
from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

ARRAY_KEY = "__ndarray__"
DTYPES = ("float32", "float64", "int64")


def encode(array: Any) -> dict[str, Any]:
    if hasattr(array, "detach"):
        array = array.detach().cpu().numpy()
    arr = np.ascontiguousarray(array)
    if arr.dtype.name not in DTYPES:
        raise ValueError(f"dtype {arr.dtype.name} is not sent across")
    data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
    return {ARRAY_KEY: base64.b64encode(data).decode("ascii"), "dtype": arr.dtype.name, "shape": list(arr.shape)}


def decode(value: Any) -> np.ndarray:
    """An encoded array (or an array the runner already decoded) as a numpy array."""
    if isinstance(value, np.ndarray):
        return value
    if not isinstance(value, dict) or value.get("dtype") not in DTYPES:
        raise ValueError("not an encoded array")
    shape = [int(n) for n in value["shape"]]
    dtype = np.dtype(value["dtype"]).newbyteorder("<")
    raw = base64.b64decode(value[ARRAY_KEY], validate=True)
    if len(raw) != math.prod(shape) * dtype.itemsize:
        raise ValueError("array data does not match its shape")
    return np.frombuffer(raw, dtype=dtype).astype(value["dtype"]).reshape(shape)
