"""Find what a draft crosswalk still leaves for a person to decide, by line.

A draft written by ``harmonise inspect --draft-crosswalk`` marks every place a person must
decide; a crosswalk holding any of them cannot be released, and ``crosswalk validate``
lists them (code ``draft-placeholder``) so a fresh draft's report is the short list of
decisions. A placeholder is:

* a ``TODO`` marker anywhere in the file, in a value or a comment (``mode: "TODO: …"``,
  ``wave: "2025"  # TODO: check``);
* an item note that still says it was pre-filled (starts ``draft:`` or mentions
  ``pre-filled``): a note is what a reader of the report sees, so a person writes it;
* the draft's ``# DRAFT crosswalk written by`` banner: its concepts were *suggested* and
  some grades *proposed* from the file, and a person deletes the banner once they have
  checked every one (one line, so a short draft does not cost an edit per item).

Items without a concept or with the grade ``unassessed`` are reported by the schema check
(``concept-missing`` / ``grade-missing``) and located here by line for ``release``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harmonise.models.crosswalk import Crosswalk
from harmonise.models.report import Issue

_TODO = re.compile(r"\bTODO\b")
_BANNER = re.compile(r"^#\s*DRAFT crosswalk written by\b")
_PREFILLED = re.compile(r"^\s*draft:|\bpre-?filled\b", re.IGNORECASE)
_FIELD = re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w-]*):")


@dataclass(frozen=True)
class Placeholder:
    line: int  # 1-based
    what: str
    item: str = ""


def _item_lines(lines: list[str], cw: Crosswalk) -> dict[str, int]:
    """0-based line index of each item's ``- id:`` line (first match, in file order)."""
    found: dict[str, int] = {}
    start = 0
    for item in cw.items:
        pattern = re.compile(r"^\s*-?\s*id:\s*[\"']?" + re.escape(item.id) + r"[\"']?\s*(#.*)?$")
        for i in range(start, len(lines)):
            if pattern.match(lines[i]):
                found[item.id] = i
                start = i + 1
                break
    return found


def _field_line(lines: list[str], start: int, field: str) -> int:
    """The first line at or after ``start`` (0-based) that sets ``field``; else ``start``."""
    for i in range(start, len(lines)):
        if i > start and re.match(r"^\s*-\s+id:", lines[i]):
            break
        m = _FIELD.match(lines[i])
        if m and m.group(1) == field:
            return i
    return start


def find_placeholders(text: str, cw: Crosswalk | None) -> list[Placeholder]:
    """Every placeholder in the crosswalk text, in line order (see the module docstring)."""
    lines = text.splitlines()
    out: list[Placeholder] = []
    items = _item_lines(lines, cw) if cw is not None else {}
    owner: dict[int, str] = {}
    for item_id, start in sorted(items.items(), key=lambda kv: kv[1]):
        for i in range(start, len(lines)):
            if i > start and re.match(r"^\s*-\s+id:", lines[i]):
                break
            owner[i] = item_id
    for i, line in enumerate(lines):
        if _BANNER.match(line):
            out.append(Placeholder(i + 1, "the draft's banner is still there: check every "
                                   "suggested concept and proposed grade (their comments "
                                   "say where they come from), then delete the banner line"))
        if _TODO.search(line):
            m = _FIELD.match(line)
            field = m.group(1) if m else "comment"
            out.append(Placeholder(i + 1, f"TODO marker ({field}): {line.strip()[:100]}",
                                   owner.get(i, "")))
    if cw is not None:
        for item in cw.items:
            if item.id not in items:
                continue
            start = items[item.id]
            if _PREFILLED.search(item.note):
                i = _field_line(lines, start, "note")
                out.append(Placeholder(i + 1, "note still says it was pre-filled by the "
                                       "draft: write what a reader needs to know", item.id))
            if item.concept is None:
                i = _field_line(lines, start, "concept")
                out.append(Placeholder(i + 1, "no concept: choose one from the schema or "
                                       "move the column to unmapped", item.id))
            if item.comparability == "unassessed":
                i = _field_line(lines, start, "comparability")
                out.append(Placeholder(i + 1, "grade unassessed: grade it (docs/"
                                       "comparability.md)", item.id))
    seen: set[tuple[int, str]] = set()
    unique = []
    for p in sorted(out, key=lambda p: p.line):
        if (p.line, p.what) not in seen:
            seen.add((p.line, p.what))
            unique.append(p)
    return unique


def placeholder_issues(text: str, file: str, cw: Crosswalk | None) -> list[Issue]:
    """TODO markers and pre-filled notes as ``draft-placeholder`` errors (items lacking a
    concept or grade are already reported by the schema check, once each)."""
    incomplete = {i.id for i in cw.items if i.concept is None
                  or i.comparability == "unassessed"} if cw is not None else set()
    issues = []
    for p in find_placeholders(text, cw):
        if p.what.startswith(("no concept", "grade unassessed")) or p.item in incomplete:
            continue  # one decision per item, reported once by the schema check
        issues.append(Issue(
            code="draft-placeholder", file=file, item=p.item, row=None,
            value=f"line {p.line}",
            message=f"{file}, line {p.line}: {p.what}; decide it, then remove the marker"
                    if p.what.startswith("TODO") else f"{file}, line {p.line}: {p.what}",
        ))
    return issues


def placeholder_report(text: str, cw: Crosswalk | None) -> str:
    """The lines a release refuses, one per line (empty when none)."""
    return "\n".join(f"  line {p.line}: {p.what}" + (f" (item {p.item})" if p.item else "")
                     for p in find_placeholders(text, cw))


__all__ = ["Placeholder", "find_placeholders", "placeholder_issues", "placeholder_report"]
