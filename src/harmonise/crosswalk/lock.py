"""The lock file: the content hash of every released crosswalk (``crosswalks/lock.json``).

A release is immutable. The lock records, per ``<crosswalk>@v<version>``, the file's path
(relative to the lock's folder, with forward slashes) and the SHA-256 of its bytes.

Why the hash of the file bytes rather than of the parsed model: the bytes are what a
reviewer read and approved, comments and note wording included; anyone can check them with
``sha256sum``; and it is the same hash the run's provenance records for each crosswalk, so a
report's footer can be matched against the lock by eye. The cost is that a whitespace-only
edit counts as an edit, which for a released file is what we want. (Keep line endings
stable: a ``.gitattributes`` line ``crosswalks/** -text`` stops Git rewriting them.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from harmonise.errors import CrosswalkError

LOCK_NAME = "lock.json"

_NOTE = (
    "SHA-256 of each released crosswalk's file bytes. Written by `harmonise crosswalk "
    "release`; never edit a released crosswalk: make a new version."
)


@dataclass(frozen=True)
class LockEntry:
    crosswalk: str
    version: int
    path: str
    sha256: str

    @property
    def key(self) -> str:
        return f"{self.crosswalk}@v{self.version}"


@dataclass(frozen=True)
class Lock:
    entries: tuple[LockEntry, ...] = ()

    def get(self, crosswalk: str, version: int) -> LockEntry | None:
        key = f"{crosswalk}@v{version}"
        return next((e for e in self.entries if e.key == key), None)

    def at_path(self, path: str) -> LockEntry | None:
        return next((e for e in self.entries if e.path == path), None)

    def versions(self, crosswalk: str) -> tuple[LockEntry, ...]:
        return tuple(sorted((e for e in self.entries if e.crosswalk == crosswalk),
                            key=lambda e: e.version))

    def with_entry(self, entry: LockEntry) -> Lock:
        """A new lock with ``entry`` added; an existing release is never replaced."""
        if self.get(entry.crosswalk, entry.version) is not None:
            raise CrosswalkError(
                f"{entry.key} is already in the lock file: a released version cannot be "
                f"released again. Give the crosswalk a new version number."
            )
        return replace(self, entries=(*self.entries, entry))

    def to_json(self) -> str:
        releases = {
            e.key: {"path": e.path, "sha256": e.sha256}
            for e in sorted(self.entries, key=lambda e: (e.crosswalk, e.version))
        }
        return json.dumps({"note": _NOTE, "algorithm": "sha256-of-file-bytes",
                           "releases": releases}, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str) -> Lock:
        try:
            raw = json.loads(text)
            entries = []
            for key, value in raw["releases"].items():
                crosswalk, _, version = key.rpartition("@v")
                entries.append(LockEntry(crosswalk=crosswalk, version=int(version),
                                         path=str(value["path"]), sha256=str(value["sha256"])))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CrosswalkError(
                f"{where}: not a valid lock file ({exc}); restore it from version control"
            ) from exc
        return cls(tuple(entries))


def read_lock(path: Path) -> Lock:
    """The lock at ``path``; an absent file is an empty lock (nothing released yet)."""
    if not path.exists():
        return Lock()
    return Lock.from_json(path.read_text(encoding="utf-8"), str(path))


def relative_key(path: Path, lock_dir: Path) -> str:
    """How the lock names ``path``: relative to the lock's folder, forward slashes."""
    try:
        return path.resolve().relative_to(lock_dir.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()

