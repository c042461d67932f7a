"""Read the YAML files people write (schemas, crosswalks, design files, manifests).

YAML 1.1 turns bare ``Yes``/``No``/``On``/``Off`` into booleans, which silently breaks
tables keyed by labels (a recode table, a calibration margin ``{No: 1072, Yes: 5122}``);
the loader here only treats ``true``/``false`` as booleans (YAML 1.2 behaviour).

A key written twice in one mapping (a second ``items:`` block, a recode key listed twice)
is an error naming the file, both lines and the key: YAML loaders otherwise keep the last
one silently, so half of what a person wrote would be ignored.

Every reader takes the :class:`~harmonise.errors.HarmoniseError` subclass to raise, so a
crosswalk problem is a ``CrosswalkError`` and a design-file problem an ``EstimationError``;
each message names the file, and for a structure problem every field that is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from harmonise._util.files import sha256_bytes
from harmonise.errors import HarmoniseError

M = TypeVar("M", bound=BaseModel)


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


class DuplicateKeyError(yaml.YAMLError):
    """A mapping lists the same key twice (raised while parsing; see :func:`parse_yaml`)."""

    def __init__(self, key: object, line: int, first_line: int, parent: str) -> None:
        super().__init__(f"key {key!r} repeated")
        self.key, self.line, self.first_line, self.parent = key, line, first_line, parent


def _shown_key(key: object, limit: int = 60) -> str:
    """A key for a message: capped, and never a value that looks identifying."""
    from harmonise.privacy import describe, looks_identifying

    kind = looks_identifying(key)
    if kind is not None:
        return f"<{describe(kind)}>"
    text = repr(key)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _check_unique_keys(loader: yaml.SafeLoader, node: yaml.MappingNode) -> None:
    seen: dict[object, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # '<<: *anchor' merges are meant to be overridden
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            continue  # an unhashable key: SafeLoader reports it itself
        line = key_node.start_mark.line + 1
        if key in seen:
            mark = node.start_mark
            parent = ("at the top level" if mark.column == 0
                      else f"in the mapping that starts at line {mark.line + 1}")
            raise DuplicateKeyError(key, line, seen[key], parent)
        seen[key] = line


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Any:
    if isinstance(node, yaml.MappingNode):
        _check_unique_keys(loader, node)
    return loader.construct_yaml_map(node)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def parse_yaml(text: str, where: str, *, error: type[HarmoniseError] = HarmoniseError) -> Any:
    """Parse YAML text with YAML 1.2 booleans; a syntax error names ``where`` and the line."""
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except DuplicateKeyError as exc:
        raise error(
            f"{where}, line {exc.line}: key {_shown_key(exc.key)} is written twice "
            f"{exc.parent} (first at line {exc.first_line}). YAML would silently keep only "
            "the last one; keep one of them (merge their contents if both are needed)."
        ) from exc
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML{_syntax(exc)}. Check that it is the file meant "
                    "(a YAML file, not an export or a document) and fix that line.") from None


def _syntax(exc: yaml.YAMLError) -> str:
    """Where and what YAML's parser found, without the file's text (which YAML quotes)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return f"{where}: {' '.join(str(problem).split())[:80]}"


def _read_text(path: Path, error: type[HarmoniseError]) -> tuple[str, bytes]:
    """The file's UTF-8 text (newlines as ``Path.read_text`` gives them) and its bytes."""
    try:
        content = path.read_bytes()
        text = content.decode("utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found; check the path") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from exc
    except OSError as exc:
        raise error(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n"), content


def read_yaml(path: Path, *, error: type[HarmoniseError] = HarmoniseError) -> Any:
    """Parse a YAML file; a missing file, bad encoding or syntax error raises ``error``."""
    return parse_yaml(_read_text(path, error)[0], str(path), error=error)


def read_yaml_hashed(
    path: Path, *, error: type[HarmoniseError] = HarmoniseError
) -> tuple[Any, str]:
    """:func:`read_yaml` and the SHA-256 of the very bytes parsed (one read of the file)."""
    text, content = _read_text(path, error)
    return parse_yaml(text, str(path), error=error), sha256_bytes(content)


def explain(where: Path | str, exc: ValidationError, what: str = "") -> str:
    """A validation error as one line per wrong field: ``  calibrate.method: Input should…``.

    ``what`` names the kind of file (``"design file"``) in the first line.
    """
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = "" if err["type"] == "missing" else f" (got {_short(err.get('input'))})"
        if not err["loc"] and not isinstance(err.get("input"), dict):
            value = " (got text or a list, not named fields: is this the file meant?)"
        lines.append(f"  {field}: {err['msg']}{value}")
    head = f"not a valid {what}" if what else "does not match the expected structure"
    return f"{where}: {head}:\n" + "\n".join(lines)


def _short(value: object, limit: int = 60) -> str:
    from harmonise.privacy import describe, looks_identifying

    if isinstance(value, str) and ("\n" in value or len(value) > 200):
        return "a block of text: is this the file meant?"  # never echo a file's start
    kind = looks_identifying(value)
    if kind is not None:
        return describe(kind)
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_yaml(
    raw: Any,
    model: type[M],
    where: Path | str,
    *,
    error: type[HarmoniseError] = HarmoniseError,
    what: str = "",
) -> M:
    """``model`` from parsed YAML; a structure problem raises ``error`` naming every field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(explain(where, exc, what)) from exc


def load_yaml_model(
    path: Path,
    model: type[M],
    *,
    error: type[HarmoniseError] = HarmoniseError,
    what: str = "",
) -> M:
    """Read ``path`` (YAML 1.2 booleans) and validate it as ``model``; an empty file is ``{}``.

    ``error`` is the exception raised for any problem (missing file, syntax, structure),
    ``what`` the kind of file named in the message (``"manifest"``, ``"design file"``).
    """
    raw = read_yaml(path, error=error)
    return validate_yaml({} if raw is None else raw, model, path, error=error, what=what)


__all__ = [
    "DuplicateKeyError",
    "explain", "load_yaml_model", "parse_yaml", "read_yaml", "read_yaml_hashed", "validate_yaml",
]
