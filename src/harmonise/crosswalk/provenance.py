"""Read back what produced an output: ``harmonise provenance OUTPUT``.

Every run writes ``provenance.json`` beside its outputs (schema version and hash, each
crosswalk id + version + hash, input and targets file hashes, tool version, time). For an
``index.html`` the record embedded in the page, if present, is preferred:
``<script type="application/json" id="harmonise-provenance">…</script>``; otherwise the
``provenance.json`` beside the output is read.

``provenance.json`` also lists the report's own files with their SHA-256 (``outputs``,
written by :mod:`harmonise.report.write`); :func:`verify_outputs` re-hashes them, so a
table edited after the run is caught.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from harmonise._util.files import sha256_file
from harmonise.errors import ReportError

PROVENANCE_NAME = "provenance.json"
_EMBEDDED = re.compile(
    r'<script type="application/json" id="harmonise-provenance">(.*?)</script>', re.DOTALL
)


def find_provenance(output: Path) -> tuple[dict[str, Any], Path]:
    """The provenance record for ``output`` and the file it was read from."""
    if not output.exists():
        raise ReportError(f"{output}: no such file or folder; name a file in a report folder")
    if output.is_dir():
        source = output / PROVENANCE_NAME
    elif output.name == PROVENANCE_NAME:
        source = output
    else:
        if output.suffix == ".html":
            m = _EMBEDDED.search(output.read_text(encoding="utf-8"))
            if m:
                return _parse(html.unescape(m.group(1)), output), output
        source = output.parent / PROVENANCE_NAME
    if not source.exists():
        raise ReportError(
            f"{output}: no {PROVENANCE_NAME} beside it, so what produced it is unknown. "
            "Outputs written by harmonise run always have one; re-run to regenerate."
        )
    return _parse(source.read_text(encoding="utf-8"), source), source


def _parse(text: str, where: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReportError(f"{where}: provenance is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{where}: provenance is not a JSON object")
    return data


def format_provenance(prov: dict[str, Any]) -> str:
    """The record as lines a person reads."""
    schema = prov.get("schema") or {}
    lines = [
        f"tool:      {prov.get('tool', 'harmonise')} {prov.get('tool_version', '?')}",
        f"run at:    {prov.get('run_at', '?')}",
        f"schema:    {schema.get('ref', '?')}  {schema.get('path', '')}  "
        f"sha256 {schema.get('sha256', '?')}",
        "crosswalks:",
    ]
    for c in prov.get("crosswalks", []):
        lines.append(f"  {c.get('crosswalk')}@v{c.get('version')} ({c.get('status', '?')})  "
                     f"{c.get('path', '')}  sha256 {c.get('sha256')}")
    lines.append("inputs:")
    for i in prov.get("inputs", []):
        lines.append(f"  {i.get('file')}  sha256 {i.get('sha256')}  ({i.get('rows', '?')} rows, "
                     f"{i.get('format', '?')})")
    if prov.get("targets"):
        lines.append("targets:")
        for t in prov["targets"]:
            extra = ", illustrative" if t.get("illustrative") else ""
            lines.append(f"  {t.get('file')}  sha256 {t.get('sha256')}{extra}")
    if prov.get("synthetic"):
        lines.append("note:      the inputs are SYNTHETIC sample data")
    return "\n".join(lines) + "\n"


def _status(path: Path, sha: str) -> str:
    if not path.is_file():
        return "missing"
    return "ok" if sha256_file(path) == sha else "changed"


def recorded_outputs(prov: dict[str, Any], folder: Path) -> dict[str, str]:
    """The report files and hashes the record lists (``outputs``).

    A record embedded in ``index.html`` cannot hold the page's own hash, so when ``prov``
    has no ``outputs`` the ``provenance.json`` in ``folder`` (if any) supplies them.
    """
    outputs = prov.get("outputs")
    if outputs is None and (folder / PROVENANCE_NAME).is_file():
        beside = _parse((folder / PROVENANCE_NAME).read_text(encoding="utf-8"),
                        folder / PROVENANCE_NAME)
        outputs = beside.get("outputs")
    if outputs is None:
        return {}
    if not isinstance(outputs, dict):
        raise ReportError(f"{folder / PROVENANCE_NAME}: 'outputs' is not a mapping of file "
                          "name to sha256; re-run to regenerate the report")
    return {str(name): str(sha) for name, sha in outputs.items()}


def verify_outputs(prov: dict[str, Any], folder: Path) -> list[tuple[str, str]]:
    """(path, 'ok' | 'changed' | 'missing') for every report file the record lists,
    looked for in ``folder`` (the report folder, beside ``provenance.json``)."""
    return [(str(folder / name), _status(folder / name, sha))
            for name, sha in sorted(recorded_outputs(prov, folder).items())]


def verify_provenance(prov: dict[str, Any], root: Path) -> list[tuple[str, str]]:
    """(path, 'ok' | 'changed' | 'missing') for every hashed input, paths under ``root``."""
    recorded: list[tuple[str, str]] = []
    try:
        schema = prov.get("schema") or {}
        if schema.get("path"):
            recorded.append((str(schema["path"]), str(schema.get("sha256", ""))))
        recorded += [(str(c["path"]), str(c["sha256"]))
                     for c in prov.get("crosswalks", []) if "path" in c]
        recorded += [(str(i["file"]), str(i["sha256"])) for i in prov.get("inputs", [])]
        recorded += [(str(t["file"]), str(t["sha256"])) for t in prov.get("targets", [])]
    except (KeyError, TypeError, AttributeError) as exc:
        raise ReportError(
            f"the provenance record is malformed ({type(exc).__name__}: {exc}); it must list "
            "schema, crosswalks, inputs and targets as written by 'harmonise run' — "
            "regenerate the report rather than editing provenance.json"
        ) from exc
    return [(rel, _status(root / rel, sha)) for rel, sha in recorded]
