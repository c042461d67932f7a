"""harmonise._util.files: the one place hashes are made (hex SHA-256, no prefix)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harmonise._util.files import read_hashed, sha256_bytes, sha256_file, sha256_text
from harmonise.crosswalk.io import content_hash

# FIPS 180-2 test vectors
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(("content", "expected"), [(b"abc", ABC), (b"", EMPTY)],
                         ids=["abc", "empty"])
def test_sha256_bytes_matches_the_standard_vectors(content: bytes, expected: str) -> None:
    assert sha256_bytes(content) == expected


def test_sha256_text_is_the_hash_of_the_utf8_file(tmp_path: Path) -> None:
    text = "label: Très sûr\r\n"
    path = tmp_path / "a.yaml"
    path.write_bytes(text.encode("utf-8"))
    assert sha256_text(text) == sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("chunk_size", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("size", [0, 1, 4096, 10_001])
def test_sha256_file_streams_to_the_same_hash(tmp_path: Path, size: int, chunk_size: int) -> None:
    content = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    path = tmp_path / "blob.bin"
    path.write_bytes(content)
    assert sha256_file(path, chunk_size=chunk_size) == hashlib.sha256(content).hexdigest()


def test_read_hashed_returns_the_bytes_it_hashed(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"variable,category,count\nsex,male,10\n")
    content, sha = read_hashed(path)
    assert content == path.read_bytes()
    assert sha == sha256_bytes(content) == content_hash(path)


def test_a_missing_file_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        sha256_file(tmp_path / "nope")
    with pytest.raises(FileNotFoundError):
        read_hashed(tmp_path / "nope")
