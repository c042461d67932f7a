"""Read schema and crosswalk YAML files into validated models (the only file I/O here).

Parsing is :mod:`harmonise._util.yamlio` (YAML 1.2 booleans, so bare ``Yes``/``No`` recode keys
stay text); here every problem is a :class:`~harmonise.errors.CrosswalkError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harmonise._util import yamlio
from harmonise._util.files import sha256_file
from harmonise.errors import CrosswalkError
from harmonise.models.crosswalk import Crosswalk
from harmonise.models.schema import Schema


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, turning syntax errors into a CrosswalkError naming file and line."""
    return yamlio.read_yaml(path, error=CrosswalkError)


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML text with YAML 1.2 booleans; a syntax error names ``where`` and the line."""
    return yamlio.parse_yaml(text, where, error=CrosswalkError)


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes: what the provenance footer and lock file record."""
    return sha256_file(path)


def load_schema_hashed(path: Path) -> tuple[Schema, str]:
    """The schema and the SHA-256 of the bytes it was parsed from (one read)."""
    raw, sha = yamlio.read_yaml_hashed(path, error=CrosswalkError)
    return yamlio.validate_yaml(raw, Schema, path, error=CrosswalkError), sha


def load_crosswalk_hashed(path: Path) -> tuple[Crosswalk, str]:
    """The crosswalk and the SHA-256 of the bytes it was parsed from (one read), so the
    hash a run records always belongs to the crosswalk it used."""
    raw, sha = yamlio.read_yaml_hashed(path, error=CrosswalkError)
    return yamlio.validate_yaml(raw, Crosswalk, path, error=CrosswalkError), sha


def load_schema(path: Path) -> Schema:
    return load_schema_hashed(path)[0]


def load_crosswalk(path: Path) -> Crosswalk:
    return load_crosswalk_hashed(path)[0]
