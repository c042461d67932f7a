"""A structural check of an SPSS ``.sav``/``.zsav`` dictionary before ReadStat sees it.

ReadStat (under pyreadstat 1.3.7) trusts some counts and indices in the dictionary: a
value-label record pointing at variable number 8,388,609 of a 3-variable file makes it
read outside its buffers and crash the whole process (found by fuzzing, see
``tests/ingest/test_fuzz_readers.py``). A crash cannot be turned into a message, so the
dictionary records are walked here first, in pure Python, and anything out of range is
an :class:`IngestError` naming the byte offset.

Only the dictionary is walked (header, variable, value-label, document and extension
records up to the 999 terminator); the data that follows is left to ReadStat.
"""

from __future__ import annotations

import struct

from harmonise.errors import IngestError

HEADER_BYTES = 176
_MAX_LABELS = 1_000_000


class _Cursor:
    def __init__(self, file: str, content: bytes, endian: str) -> None:
        self.file, self.content, self.endian, self.pos = file, content, endian, HEADER_BYTES

    def fail(self, what: str) -> IngestError:
        return IngestError(
            f"{self.file}: could not be read as an SPSS .sav file: its dictionary (the list of "
            f"variables and labels) is damaged at byte offset {self.pos}: {what}. It is "
            "probably truncated (an interrupted download or copy) or corrupt. Save it again "
            "from SPSS (File > Save As, SPSS Statistics .sav) and upload the new file."
        )

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.content):
            raise self.fail(f"{what} needs {n} bytes but the file ends at {len(self.content)}")
        out = self.content[self.pos:self.pos + n]
        self.pos += n
        return out

    def int32(self, what: str) -> int:
        value: int = struct.unpack(self.endian + "i", self.take(4, what))[0]
        return value


def _endian(content: bytes) -> str:
    for endian in ("<", ">"):
        layout = struct.unpack(endian + "i", content[64:68])[0]
        if layout in (2, 3):
            return endian
    return "<"


def _variable(cur: _Cursor) -> int:
    """One type-2 record; returns its type (0 numeric, >0 string width, -1 continuation)."""
    vtype = cur.int32("variable type")
    has_label = cur.int32("variable label flag")
    n_missing = cur.int32("missing-value count")
    cur.take(16, "variable formats and name")
    if not -1 <= vtype <= 255:
        raise cur.fail(f"variable type is {vtype}, expected -1 (continuation), 0 (numeric) or "
                       "a string width of 1-255")
    if has_label not in (0, 1):
        raise cur.fail(f"variable label flag is {has_label}, expected 0 or 1")
    if has_label:
        length = cur.int32("variable label length")
        if not 0 <= length <= 65535:
            raise cur.fail(f"variable label length is {length}")
        cur.take((length + 3) // 4 * 4, "variable label")
    if not -3 <= n_missing <= 3:
        raise cur.fail(f"missing-value count is {n_missing}, expected -3 to 3")
    cur.take(abs(n_missing) * 8, "missing values")
    return vtype


def _value_labels(cur: _Cursor, slots: list[int]) -> None:
    """A type-3 record and the type-4 record that names its variables."""
    count = cur.int32("value label count")
    if not 0 <= count <= _MAX_LABELS:
        raise cur.fail(f"value label count is {count}")
    for _ in range(count):
        cur.take(8, "labelled value")
        length = cur.take(1, "value label length")[0]
        cur.take((length + 1 + 7) // 8 * 8 - 1, "value label")
    if cur.int32("record type") != 4:
        raise cur.fail("a value-label record is not followed by its variable list (type 4)")
    n_vars = cur.int32("value label variable count")
    if not 1 <= n_vars <= len(slots):
        raise cur.fail(f"value labels apply to {n_vars} variables; the file has {len(slots)}")
    for _ in range(n_vars):
        index = cur.int32("value label variable index")
        if not 1 <= index <= len(slots) or slots[index - 1] < 0:
            raise cur.fail(f"value labels point at variable number {index}, which does not "
                           f"exist (the dictionary has {len(slots)} variable slots)")


def _check_slots(cur: _Cursor, slots: list[int]) -> None:
    """A string of width w takes ceil(w / 8) slots: itself and its continuation records."""
    i = 0
    while i < len(slots):
        width = slots[i]
        if width < 0:
            raise cur.fail(f"variable slot {i + 1} continues a string that is not there")
        follow = (width + 7) // 8 - 1 if width > 0 else 0
        if slots[i + 1:i + 1 + follow] != [-1] * follow:
            raise cur.fail(f"variable slot {i + 1} is a string of width {width} but is not "
                           f"followed by its {follow} continuation slot(s)")
        i += 1 + follow


#: Most data bytes one byte of file can hold, per compression code in the header: none
#: (8-byte values), bytecode (at least one command byte per value), zlib over bytecode
#: (deflate expands at most ~1032:1; rounded up).
_MAX_EXPANSION = {0: 1 / 8, 1: 1.0, 2: 1100.0}


def _check_case_count(file: str, content: bytes, endian: str) -> None:
    """The header's case count must fit in the file: ReadStat allocates for it up front,
    and a damaged count (536 million rows in a 2 kB file) exhausts memory or hangs."""
    case_size, compression, _, n_cases = struct.unpack(endian + "iiii", content[68:84])
    if n_cases < 0 or case_size <= 0:  # -1: count not recorded; ReadStat then counts rows
        return
    most = _MAX_EXPANSION.get(compression, 1100.0) * len(content)
    if n_cases * case_size > most + 4096:
        raise IngestError(
            f"{file}: could not be read as an SPSS .sav file: its header declares "
            f"{n_cases:,} cases of {case_size} values, more than a {len(content):,}-byte file "
            "can hold, so the header is damaged or the file truncated. Save it again from "
            "SPSS (File > Save As, SPSS Statistics .sav) and upload the new file."
        )


def check_sav_dictionary(file: str, content: bytes) -> None:
    """Raise IngestError if the dictionary of a .sav/.zsav is out of range anywhere."""
    if len(content) < HEADER_BYTES:
        raise IngestError(
            f"{file}: is {len(content)} bytes, shorter than the {HEADER_BYTES}-byte SPSS file "
            "header: it is truncated. Save it again from SPSS and upload the new file."
        )
    endian = _endian(content)
    _check_case_count(file, content, endian)
    cur = _Cursor(file, content, endian)
    slots: list[int] = []
    while True:
        record = cur.int32("record type")
        if record == 2:
            slots.append(_variable(cur))
        elif record == 3:
            _value_labels(cur, slots)
        elif record == 6:
            lines = cur.int32("document line count")
            if not 0 <= lines <= len(content) // 80:
                raise cur.fail(f"document line count is {lines}")
            cur.take(lines * 80, "document")
        elif record == 7:
            cur.int32("extension subtype")
            size, count = cur.int32("extension item size"), cur.int32("extension item count")
            if size < 0 or count < 0:
                raise cur.fail(f"extension record of {count} items of {size} bytes")
            cur.take(size * count, "extension record")
        elif record == 999:
            cur.int32("dictionary terminator")
            _check_slots(cur, slots)
            return
        else:
            raise cur.fail(f"unknown record type {record}")
