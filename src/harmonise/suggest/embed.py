"""Sentence embeddings for the suggester — an optional extra, offline, CPU only.

``pip install 'harmonise[suggest]'`` installs `wordllama <https://pypi.org/project/wordllama/>`_
0.4.x, whose wheel carries its 16 MB model (256-dimension ``l2_supercat`` token
embeddings with average pooling) and tokenizer. Nothing is downloaded at run time: the
model is loaded with ``disable_download=True`` and ``cache_dir`` pointed at the installed
package folder (wordllama 0.4.0.post1 looks for its tokenizer in ``tokenizer/`` but ships
it in ``tokenizers/``; the package folder is where both the weights and the tokenizer
file are found). The package is MIT-licensed; its weights were trained from the token
embedding tables of Llama 2 family models (see docs/suggest.md, "Licences").

:func:`load_embedder` returns None when the extra is not installed, so callers fall back
to the lexical method and say so.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import HarmoniseError

METHODS = ("wordllama",)
"""Embedding backends this module knows, default first."""


class SuggestModelError(HarmoniseError):
    """The embedding model asked for is not installed or cannot be loaded offline."""


class Embedder(Protocol):
    name: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text."""
        ...


class WordLlamaEmbedder:
    """WordLlama ``l2_supercat`` 256-d, loaded from the installed package only."""

    name = "wordllama"

    def __init__(self) -> None:
        import wordllama  # the optional extra

        folder = Path(wordllama.__file__).parent
        self._model: Any = wordllama.WordLlama.load(config="l2_supercat", dim=256,
                                                     disable_download=True, cache_dir=folder)

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        out = np.asarray(self._model.embed(list(texts), norm=True), dtype=np.float32)
        return out


def installed(name: str = "wordllama") -> bool:
    """True when the backend's package can be imported."""
    return name in METHODS and importlib.util.find_spec(name) is not None


def load_embedder(name: str = "wordllama") -> Embedder | None:
    """The embedding backend ``name``, or None when its package is not installed."""
    if name not in METHODS:
        raise SuggestModelError(f"unknown embedding method {name!r}; choose one of "
                                f"{', '.join(METHODS)}")
    if not installed(name):
        return None
    try:
        return WordLlamaEmbedder()
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise SuggestModelError(
            f"the {name} model is installed but did not load offline ({exc}); reinstall "
            "it with pip install 'harmonise[suggest]' or use --method lexical") from None
