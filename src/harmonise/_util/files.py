"""SHA-256 of bytes, text and files: the one place hashes are made.

Every hash harmonise records (``crosswalks/lock.json``, the provenance record of a run,
a report's ``outputs``, each export's ``Provenance.sha256``) is the lower-case hex
SHA-256 of a file's bytes, with no prefix, so ``sha256sum FILE`` shows the same value.
A reader that parses what it hashes should hash the bytes it parsed
(:func:`read_hashed`), so the hash recorded always belongs to what was used, even when
the file changes on disk in between.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Read files in pieces of this many bytes when only their hash is needed.
CHUNK_SIZE = 1 << 20


def sha256_bytes(content: bytes) -> str:
    """SHA-256 of ``content`` as lower-case hex."""
    return hashlib.sha256(content).hexdigest()


def sha256_text(text: str) -> str:
    """SHA-256 of ``text`` encoded as UTF-8: the hash of the file that holds exactly it."""
    return sha256_bytes(text.encode("utf-8"))


def sha256_file(path: Path, *, chunk_size: int = CHUNK_SIZE) -> str:
    """SHA-256 of the file at ``path``, read in chunks (a large file is never held whole).

    Raises ``OSError`` (``FileNotFoundError`` …) as :func:`open` does.
    """
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def read_hashed(path: Path) -> tuple[bytes, str]:
    """The bytes of ``path`` and their SHA-256, from one read.

    Raises ``OSError`` as :meth:`pathlib.Path.read_bytes` does.
    """
    content = path.read_bytes()
    return content, sha256_bytes(content)


__all__ = ["CHUNK_SIZE", "read_hashed", "sha256_bytes", "sha256_file", "sha256_text"]
