"""Read schema and crosswalk YAML files into validated models (the only file I/O here).

YAML 1.1 turns bare ``Yes``/``No``/``On``/``Off`` into booleans, which would silently break
recode tables keyed by labels; the loader here only treats ``true``/``false`` as booleans
(YAML 1.2 behaviour).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from harmonise.errors import CrosswalkError
from harmonise.models.crosswalk import Crosswalk
from harmonise.models.schema import Schema


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only true/false (any case)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, turning syntax errors into a CrosswalkError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CrosswalkError(f"{path}: file not found; check the path") from exc
    except UnicodeDecodeError as exc:
        raise CrosswalkError(
            f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from exc
    return parse_yaml(text, str(path))


def parse_yaml(text: str, where: str) -> Any:
    """Parse YAML text with YAML 1.2 booleans; a syntax error names ``where`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise CrosswalkError(f"{where}: not valid YAML: {exc}") from exc


def content_hash(path: Path) -> str:
    """SHA-256 of a file's bytes: what the provenance footer and lock file record."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _explain(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  {where}: {err['msg']}")
    return f"{path}: does not match the expected structure:\n" + "\n".join(lines)


def load_schema(path: Path) -> Schema:
    raw = read_yaml(path)
    try:
        return Schema.model_validate(raw)
    except ValidationError as exc:
        raise CrosswalkError(_explain(path, exc)) from exc


def load_crosswalk(path: Path) -> Crosswalk:
    raw = read_yaml(path)
    try:
        return Crosswalk.model_validate(raw)
    except ValidationError as exc:
        raise CrosswalkError(_explain(path, exc)) from exc
