"""Freeze a complete draft into a release: status, lock entry and changelog, together.

    plan_release(text, file, ...) -> ReleasePlan      pure: checks, new text, lock, changelog
    release(path, ...) -> ReleasePlan                 the I/O edge: reads, then writes all three

A draft can be released when it validates with no error (every item has a concept in the
schema and a grade other than ``unassessed``, recode targets are categories of the scale,
no draft placeholder is left: no ``TODO`` marker, no note still saying it was pre-filled —
the refusal lists them by line, see :mod:`harmonise.crosswalk.placeholders` — …), its
version is not in the lock yet and its own ``changelog:`` has a ``vN: …`` entry for this
version. Only the ``status: draft`` line of the file is rewritten, so comments and
layout stay as the author wrote them; the lock records the hash of the new bytes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from harmonise._util.files import sha256_text
from harmonise.crosswalk.diff import diff_crosswalks
from harmonise.crosswalk.io import load_crosswalk, load_schema
from harmonise.crosswalk.lock import LOCK_NAME, Lock, LockEntry, read_lock, relative_key
from harmonise.crosswalk.placeholders import placeholder_report
from harmonise.crosswalk.validate import check_crosswalk, parse_crosswalk
from harmonise.errors import CrosswalkError
from harmonise.models.crosswalk import Crosswalk
from harmonise.models.schema import Schema

CHANGELOG_NAME = "CHANGELOG.md"
_STATUS_LINE = re.compile(r"^status:[ \t]*draft[ \t]*(#.*)?$", re.MULTILINE)
_CHANGELOG_HEAD = (
    "# Crosswalk changelog\n\n"
    "One entry per released crosswalk version, newest first, written by\n"
    "`harmonise crosswalk release`. Hashes are recorded in `lock.json`.\n"
)


@dataclass(frozen=True)
class ReleasePlan:
    crosswalk: Crosswalk
    text: str
    lock: Lock
    entry: LockEntry
    changelog: str


def _changelog_entry(cw: Crosswalk) -> str:
    prefix = f"v{cw.version}:"
    found = [e for e in cw.changelog if e.strip().startswith(prefix)]
    if not found:
        raise CrosswalkError(
            f"{cw.ref} has no changelog entry for this version. Add one to the file before "
            f"releasing, e.g.\n  changelog:\n    - \"{prefix} what changed and why\""
        )
    return found[-1].strip()


def changelog_section(cw: Crosswalk, entry: LockEntry, today: dt.date,
                      previous: Crosswalk | None) -> str:
    lines = [
        f"## {cw.ref} ({today.isoformat()})",
        "",
        f"`{entry.path}`, sha256 `{entry.sha256}`.",
        "",
        f"- {_changelog_entry(cw)}",
    ]
    if previous is not None:
        changes = diff_crosswalks(previous, cw).changes
        lines += ["", f"Changes from {previous.ref}:", ""]
        lines += [f"- {c.text}" for c in changes if c.kind != "changelog-added"]
    return "\n".join(lines) + "\n"


def plan_release(
    text: str,
    file: str,
    *,
    lock_key: str,
    schema: Schema,
    lock: Lock,
    changelog: str,
    today: dt.date,
    previous: Crosswalk | None = None,
) -> ReleasePlan:
    """Check ``text`` can be released and return the new file text, lock and changelog."""
    parsed = parse_crosswalk(text, file)
    cw = parsed.crosswalk
    if parsed.released and cw is not None:
        raise CrosswalkError(
            f"{file}: {cw.ref} is already released. To change it, copy it to a .v"
            f"{cw.version + 1}.yaml file with version: {cw.version + 1} and status: draft."
        )
    locked = lock.get(cw.crosswalk, cw.version) if cw is not None else None
    if cw is not None and locked is not None:
        raise CrosswalkError(
            f"{file}: {cw.ref} is already in the lock file (released from {locked.path}); "
            "give this draft a new version number."
        )
    report = check_crosswalk(text, file, schema=schema, lock=lock, lock_key=lock_key)
    if not report.valid or cw is None:
        lines = placeholder_report(text, cw)
        where = (f"\nDraft placeholders still in the file (each is a decision for a "
                 f"person):\n{lines}\n" if lines else "")
        raise CrosswalkError(
            f"{file} cannot be released until these are fixed:\n{report.to_table()}{where}"
        )
    _changelog_entry(cw)  # raises when this version has no entry
    new_text, n = _STATUS_LINE.subn("status: released", text, count=1)
    if n != 1:
        raise CrosswalkError(
            f"{file}: cannot find a top-level line 'status: draft' to change; write the "
            "crosswalk in block style with 'status: draft' on its own line"
        )
    released = parse_crosswalk(new_text, file).crosswalk
    expected = cw.model_copy(update={"status": "released"})
    if released != expected:  # pragma: no cover - the regex only touches the status line
        raise CrosswalkError(f"{file}: internal error: changing the status changed other fields")
    entry = LockEntry(crosswalk=cw.crosswalk, version=cw.version, path=lock_key,
                      sha256=sha256_text(new_text))
    section = changelog_section(expected, entry, today, previous)
    body = changelog or _CHANGELOG_HEAD
    if f"## {cw.ref} (" in body:
        raise CrosswalkError(f"the changelog already has an entry for {cw.ref}; "
                             "give this draft a new version number")
    head, sep, rest = body.partition("\n## ")
    new_changelog = (head.rstrip("\n") + "\n\n" + section
                     + ("\n## " + rest if sep else ""))
    return ReleasePlan(crosswalk=expected, text=new_text, lock=lock.with_entry(entry),
                       entry=entry, changelog=new_changelog)


def release(
    path: Path,
    *,
    schema_path: Path | None = None,
    lock_path: Path | None = None,
    changelog_path: Path | None = None,
    today: dt.date | None = None,
) -> ReleasePlan:
    """Release the draft at ``path``: rewrite its status, add the lock and changelog entries.

    Defaults: ``<crosswalks>/lock.json``, ``<crosswalks>/CHANGELOG.md`` and the schema the
    crosswalk names under ``<crosswalks>/schema/``, where ``<crosswalks>`` is the folder above
    the file's CSP folder. The previous version (the highest locked version of the same
    crosswalk id) is diffed into the changelog entry.
    """
    root = path.parent.parent
    lock_path = lock_path or root / LOCK_NAME
    changelog_path = changelog_path or root / CHANGELOG_NAME
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise CrosswalkError(f"{path}: file not found; check the path") from exc
    except UnicodeDecodeError as exc:
        raise CrosswalkError(f"{path}: not UTF-8 text; save the file as UTF-8") from exc
    parsed = parse_crosswalk(text, str(path))
    lock = read_lock(lock_path)
    if schema_path is None:
        ref = parsed.raw.get("schema") if isinstance(parsed.raw, dict) else None
        schema_path = root / "schema" / f"{ref}.yaml"
    schema = load_schema(schema_path)
    previous = None
    if parsed.crosswalk is not None:
        older = [e for e in lock.versions(parsed.crosswalk.crosswalk)
                 if e.version < parsed.crosswalk.version]
        if older:
            previous = load_crosswalk(lock_path.parent / older[-1].path)
    changelog = changelog_path.read_text(encoding="utf-8") if changelog_path.exists() else ""
    plan = plan_release(
        text, str(path), lock_key=relative_key(path, lock_path.parent), schema=schema,
        lock=lock, changelog=changelog, today=today or dt.datetime.now(dt.UTC).date(),
        previous=previous,
    )
    # Write the crosswalk last: if anything fails before, the draft is still a draft.
    changelog_path.write_text(plan.changelog, encoding="utf-8")
    lock_path.write_text(plan.lock.to_json(), encoding="utf-8")
    path.write_bytes(plan.text.encode("utf-8"))
    return plan
