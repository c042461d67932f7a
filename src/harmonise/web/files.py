"""Uploaded bytes: a content-addressed folder, checked by content before anything is kept.

    BlobStore(data_dir)                 blobs/<sha[:2]>/<sha256>, kept exactly as uploaded
    receive(stream) -> Incoming         streamed to a temp file while hashing (size capped)
    examine(incoming) -> Examined       what the bytes are (by their first bytes, not the
                                        name) and the ingest reader's codebook of them
    keep(incoming) / discard(incoming)  into place under its hash, or gone

A file's name is never used as a path: the stored path is the hash, the name offered by the
browser is only shown (cut to a base name, control characters removed, escaped on output).
Reading reuses the ingest stage (``read_survey``): the same size limit, magic-byte check,
zip-bomb and malformed-file guards and privacy screen as ``harmonise inspect``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from harmonise.errors import IngestError

CHUNK = 1024 * 1024
#: a half-received upload untouched this long (seconds) was left by a crash
INCOMING_MAX_AGE = 6 * 3600.0
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Incoming:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class Examined:
    fmt: str  # the reader's extension, from the content
    codebook: dict[str, Any]


def display_name(name: str | None) -> str:
    """What to show for a browser-supplied file name: its last path part, printable,
    at most 120 characters, replaced by a placeholder when it holds an e-mail address,
    phone number, postcode or IP address. Never used to build a path."""
    from harmonise.privacy import looks_identifying, placeholder

    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    kind = looks_identifying(base)
    if kind is not None:  # an e-mail address, phone number or postcode in the name
        return f"{placeholder(kind)}{Path(base).suffix[:8]}"
    return base[:120] or "(unnamed file)"


class BlobStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "blobs"
        self.incoming = self.root / ".incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not _HEX64.match(sha256):
            raise ValueError("not a SHA-256 hex digest")
        return self.root / sha256[:2] / sha256

    def receive(self, stream: IO[bytes], max_bytes: int) -> Incoming:
        """Copy ``stream`` to a temp file, hashing as it goes; IngestError over the cap."""
        digest = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=self.incoming, prefix="up-")
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise IngestError(
                            f"the file is over the upload limit of {max_bytes:,} bytes; "
                            "export only the survey responses, or ask an admin to raise "
                            "the limit (harmonise serve --max-upload-mb)")
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Incoming(Path(tmp), digest.hexdigest(), size)

    def examine(self, incoming: Incoming, *, encoding: str | None, max_bytes: int,
                ) -> Examined:
        """Read the bytes as the ingest stage would; IngestError says why not."""
        from harmonise.ingest import READERS, detect_format
        from harmonise.ingest.codebook import codebook_report

        if incoming.size == 0:
            raise IngestError("the file is empty (0 bytes): the export or upload did not "
                              "finish; export the survey again and upload the new file")
        fmt = detect_format(incoming.path)
        if fmt not in READERS:
            what = {"ole2": "an encrypted workbook or an old .xls file",
                    "html": "a web page", "pdf": "a PDF document",
                    "gzip": "a gzip-compressed file"}.get(str(fmt), "not a survey export")
            raise IngestError(f"the file is {what}, judged by its content, not its name. "
                              f"Upload an export in one of the supported formats "
                              f"({', '.join(sorted(READERS))}).")
        survey = read_upload(incoming.path, fmt, encoding=encoding, max_bytes=max_bytes)
        report = codebook_report(survey)
        report["file"] = "(upload)"
        return Examined(fmt=fmt, codebook=report)

    def keep(self, incoming: Incoming) -> Path:
        """Move the bytes into place under their hash (a copy already there is kept)."""
        final = self.path(incoming.sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            incoming.path.unlink(missing_ok=True)
        else:
            incoming.path.replace(final)
            final.chmod(0o440)
        return final

    def discard(self, incoming: Incoming) -> None:
        incoming.path.unlink(missing_ok=True)

    def remove(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def sweep_incoming(self, older_than: float = INCOMING_MAX_AGE) -> int:
        """Delete half-received uploads (``.incoming/up-*``) left by a crash or a killed
        server: raw bytes that no upload row points at. Only files untouched for
        ``older_than`` seconds go, so an upload arriving now is never cut. How many went."""
        import time

        gone = 0
        cutoff = time.time() - older_than
        for leftover in self.incoming.glob("up-*"):
            with contextlib.suppress(FileNotFoundError):
                if leftover.is_file() and leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
                    gone += 1
        return gone


def read_upload(blob: Path, fmt: str, *, encoding: str | None = None,
                max_bytes: int | None = None, keep: Mapping[str, str] | None = None,
                postcode_district: Mapping[str, str] | None = None) -> Any:
    """``read_survey`` on a stored blob, through a private temp link named by format."""
    from harmonise.ingest import DEFAULT_MAX_BYTES, read_survey

    with tempfile.TemporaryDirectory(prefix="harmonise-read-") as tmp:
        named = Path(tmp) / f"upload{fmt}"
        try:
            os.link(blob, named)
        except OSError:
            shutil.copyfile(blob, named)
        return read_survey(named, encoding=encoding, max_bytes=max_bytes or DEFAULT_MAX_BYTES,
                           keep=keep, postcode_district=postcode_district)


def codebook_json(report: Mapping[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False, default=str)


__all__ = ["BlobStore", "Examined", "Incoming", "codebook_json", "display_name", "read_upload"]
