"""The starter kit's data, rotation, models, wire format and task functions (run here with the
trusted reference solution only)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from graders.engines.sandbox import decode_array, encode_array
from sheet8kit import tasks
from sheet8kit.data import N_TRAIN, N_VAL, all_digits, load_splits, rotate, train_val_indices
from sheet8kit.models import CosineCNN, RotAutoencoder, WeightsError, load_weights, save_weights
from sheet8kit.synthetic import centred_data, random_spectrum
from sheet8kit.wire import decode, encode

from .paths import REFERENCE


def test_split_is_fixed_disjoint_and_leaves_a_hidden_part():
    train_idx, val_idx = train_val_indices()
    again = train_val_indices()
    assert np.array_equal(train_idx, again[0]) and np.array_equal(val_idx, again[1])
    assert len(train_idx) == N_TRAIN and len(val_idx) == N_VAL
    assert not set(train_idx) & set(val_idx)
    images, labels = all_digits()
    hidden = len(labels) - N_TRAIN - N_VAL
    assert hidden >= 300
    train, val = load_splits()
    assert train.x.shape == (N_TRAIN, 1, 8, 8) and val.y.shape == (N_VAL,)
    assert float(train.x.min()) >= 0.0 and float(train.x.max()) <= 1.0
    assert set(val.y.tolist()) == set(range(10))


def test_rotation_by_quarter_turns_permutes_pixels_exactly():
    x = load_splits()[1].x[:5]
    assert torch.allclose(rotate(x, torch.zeros(5)), x, atol=1e-6)
    quarter = rotate(x, torch.full((5,), 90.0))
    matches = [torch.allclose(quarter, torch.rot90(x, k, dims=(2, 3)), atol=1e-5) for k in (1, -1)]
    assert sum(matches) == 1
    back = rotate(quarter, torch.full((5,), -90.0))
    assert torch.allclose(back, x, atol=1e-5)


def test_weights_of_the_wrong_shape_name_the_tensor(tmp_path: Path):
    path = tmp_path / "cosine_cnn.safetensors"
    save_weights(CosineCNN(dim=16), path)
    with pytest.raises(WeightsError) as info:
        load_weights(CosineCNN(), path)
    assert info.value.problem == "shape"
    assert "(10, 16)" in str(info.value) and "(10, 32)" in str(info.value)
    assert info.value.tensor in CosineCNN().state_dict()


def test_missing_and_unexpected_tensors_are_named(tmp_path: Path):
    state = RotAutoencoder().state_dict()
    missing = dict(state)
    missing.pop("decoder.0.bias")
    torch.save(missing, tmp_path / "a.pt")
    with pytest.raises(WeightsError, match="decoder.0.bias"):
        load_weights(RotAutoencoder(), tmp_path / "a.pt")
    torch.save({**state, "extra.weight": torch.zeros(1)}, tmp_path / "b.pt")
    with pytest.raises(WeightsError, match="extra.weight"):
        load_weights(RotAutoencoder(), tmp_path / "b.pt")


def test_reference_weights_fit_the_kit_models():
    for cls, name in ((CosineCNN, "cosine_cnn"), (RotAutoencoder, "rot_autoencoder")):
        model = load_weights(cls(), REFERENCE / "weights" / f"{name}.safetensors")
        assert not model.training


def test_wire_format_is_the_sandboxs_format():
    a = np.arange(12, dtype=np.float64).reshape(3, 4) / 7
    assert np.array_equal(decode_array(encode(a)), a)
    assert np.array_equal(decode(encode_array(a)), a)
    assert decode(a) is a
    with pytest.raises(ValueError):
        decode({"__ndarray__": "AAAA", "dtype": "float64", "shape": [3]})


def test_synthetic_data_is_centred_with_the_promised_top_eigenvector():
    rng = np.random.default_rng(3)
    eigenvalues = random_spectrum(rng, 7)
    X, u1 = centred_data(rng, 150, eigenvalues)
    assert np.allclose(X.mean(axis=0), 0, atol=1e-12)
    values, vectors = np.linalg.eigh(X.T @ X / len(X))
    assert np.allclose(values[::-1], eigenvalues)
    assert abs(vectors[:, -1] @ u1) == pytest.approx(1, abs=1e-12)


def test_error_records_show_only_builtin_names_and_a_line():
    class Sneaky(ValueError):
        pass

    try:
        raise Sneaky("secret 0.123456")
    except Sneaky as exc:
        record = tasks.error_record(exc)
    assert record == {"type": "Exception", "line": None}
    assert tasks.error_record(ZeroDivisionError("x"))["type"] == "ZeroDivisionError"


def test_tasks_run_the_reference_solution(reference_workdir: Path):
    from reference.ex4.solution import cosine_logits

    rng = np.random.default_rng(0)
    z, W = rng.standard_normal((4, 6)) * 1e6, rng.standard_normal((3, 6)) * 1e-6
    out = tasks.cosine_logits({"cases": [{"z": encode(z), "W": encode(W), "tau": 0.5}]}, reference_workdir)
    assert out["status"] == "ok"
    got = decode(out["outputs"][0]["value"])
    assert np.allclose(got, cosine_logits(torch.tensor(z), torch.tensor(W), 0.5).numpy())
    X, u1 = centred_data(rng, 120, random_spectrum(rng, 5))
    out = tasks.train_linear_autoencoder({"datasets": [encode(X)]}, reference_workdir)
    w = decode(out["outputs"][0]["value"])
    assert abs(w @ u1) == pytest.approx(1, abs=1e-9)


def test_weight_tasks_return_outputs_or_a_status(reference_workdir: Path, tmp_path: Path):
    _, val = load_splits()
    out = tasks.cosine_cnn({"images": encode(val.x.numpy())}, reference_workdir)
    accuracy = (decode(out["cosines"]).argmax(1) == val.y.numpy()).mean()
    assert accuracy >= 0.97
    out = tasks.rot_autoencoder({"images": encode(val.x[:3].numpy())}, reference_workdir)
    assert decode(out["reconstructions"]).shape == (3, 1, 8, 8)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert tasks.cosine_cnn({"images": encode(val.x.numpy())}, empty) == {"status": "missing_file"}
    assert tasks.cosine_logits({"cases": []}, empty) == {"status": "missing_file"}


def test_a_pt_state_dict_is_read_with_weights_only(reference_workdir: Path, tmp_path: Path):
    state = load_weights(CosineCNN(), reference_workdir / "cosine_cnn.safetensors").state_dict()
    torch.save(state, tmp_path / "cosine_cnn.pt")
    _, val = load_splits()
    out = tasks.cosine_cnn({"images": encode(val.x.numpy())}, tmp_path)
    assert out["status"] == "ok"
