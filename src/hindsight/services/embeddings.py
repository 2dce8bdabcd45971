"""The embedding model behind similar incidents: WordLlama's `l2_supercat` 256-dimension
static token embeddings, whose weights and tokenizer ship inside the `wordllama` wheel
(docs/concepts.md says why this one). Files are opened from the installed package only:
nothing is ever downloaded. Without the package or its files, `default_embedder()` is None
and similar incidents are ranked by words and shared fields alone, saying so.
"""

from __future__ import annotations

import base64
import functools
import logging
import sys
from array import array
from collections.abc import Sequence
from importlib.resources import files
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

MODEL_NAME = "wordllama-l2_supercat-256"
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")


class Embedder(Protocol):
    """Turns texts into vectors of one model; `name` is stored with every vector."""

    name: str

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """One unit-length vector per text."""
        ...


class WordLlamaEmbedder:
    """WordLlama on CPU, loaded from the files in its wheel (about 16 MB, under a second)."""

    name = MODEL_NAME

    def __init__(self) -> None:
        from safetensors import safe_open
        from tokenizers import Tokenizer
        from wordllama.inference import WordLlamaInference

        root = files("wordllama")
        weights = root.joinpath(*_WEIGHTS)
        tokenizer = root.joinpath(*_TOKENIZER)
        with safe_open(str(weights), framework="np", device="cpu") as tensors:
            embedding = tensors.get_tensor("embedding.weight")
        self._model: Any = WordLlamaInference(embedding, Tokenizer.from_file(str(tokenizer)))

    def embed(self, texts: Sequence[str]) -> list[tuple[float, ...]]:
        """Unit-length vectors (an empty text gives zeros)."""
        vectors = self._model.embed(list(texts), norm=True)
        return [tuple(float(x) for x in row) for row in vectors]


@functools.cache
def default_embedder() -> Embedder | None:
    """The model, loaded once per process; None (logged) when it cannot be loaded."""
    try:
        return WordLlamaEmbedder()
    except (ImportError, OSError, RuntimeError, ValueError) as problem:
        log.warning("similar incidents: no embedding model (%s); ranking by words only", problem)
        return None


def encode_vector(vector: Sequence[float]) -> str:
    """float32 little-endian bytes in base64 (a text column every backup format carries)."""
    values = array("f", vector)
    if sys.byteorder == "big":
        values.byteswap()
    return base64.b64encode(values.tobytes()).decode("ascii")


def decode_vector(text: str) -> npt.NDArray[np.float32] | None:
    """The vector `encode_vector` wrote, or None for ''."""
    if not text:
        return None
    return np.frombuffer(base64.b64decode(text), dtype="<f4").astype(np.float32)
