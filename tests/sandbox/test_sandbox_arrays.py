"""Arrays cross the sandbox boundary as whitelisted, bounded base64 buffers, never pickles."""
import base64
import pickle

import numpy as np
import pytest
import torch

from graders.engines.sandbox import ArrayDecodeError, decode_array, encode_array
from graders.engines.sandbox.arrays import decode_tree, encode_tree


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "uint8", "bool"])
def test_round_trip_keeps_dtype_shape_and_values(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    decoded = decode_array(encode_array(array))
    assert decoded.dtype == array.dtype and decoded.shape == array.shape
    np.testing.assert_array_equal(decoded, array)
    decoded[0, 0, 0] = 1  # a writable copy, not a view of the base64 buffer


def test_torch_tensors_and_nested_trees_are_encoded():
    tree = {"w": torch.ones(3, requires_grad=True), "items": [np.float32(2.5), (1, "a")]}
    back = decode_tree(encode_tree(tree))
    np.testing.assert_array_equal(back["w"], np.ones(3, dtype=np.float32))
    assert back["items"] == [2.5, [1, "a"]]


def test_object_arrays_and_pickles_are_refused():
    with pytest.raises(ArrayDecodeError):
        encode_array(np.array([object()], dtype=object))
    pickled = base64.b64encode(pickle.dumps(np.ones(2))).decode()
    with pytest.raises(ArrayDecodeError):
        decode_array({"__ndarray__": pickled, "dtype": "object", "shape": [2]})


@pytest.mark.parametrize("bad", [
    {"__ndarray__": base64.b64encode(b"\0" * 12).decode(), "dtype": "float32", "shape": [4]},
    {"__ndarray__": "not base64!", "dtype": "float32", "shape": [1]},
    {"__ndarray__": "", "dtype": "float32", "shape": [-1]},
    {"__ndarray__": "", "dtype": "float32", "shape": [1 << 40]},
    {"__ndarray__": "", "dtype": "float32", "shape": [0], "extra": 1},
])
def test_malformed_arrays_are_rejected(bad):
    with pytest.raises(ArrayDecodeError):
        decode_array(bad)
