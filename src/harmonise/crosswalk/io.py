"""Read schema and crosswalk YAML files into validated models (the only file I/O here).

Parsing is :mod:`harmonise.yamlio` (YAML 1.2 booleans, so bare ``Yes``/``No`` recode keys
stay text); here every problem is a :class:`~harmonise.errors.CrosswalkError`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harmonise import yamlio
from harmonise.errors import CrosswalkError
from harmonise.files import sha256_file
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


def load_schema(path: Path) -> Schema:
    return yamlio.validate_yaml(read_yaml(path), Schema, path, error=CrosswalkError)


def load_crosswalk(path: Path) -> Crosswalk:
    return yamlio.validate_yaml(read_yaml(path), Crosswalk, path, error=CrosswalkError)
