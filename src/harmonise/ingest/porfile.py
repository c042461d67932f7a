"""User-missing values of an SPSS portable (``.por``) file, read by harmonise itself.

pyreadstat's ``read_por`` has no ``user_missing`` option: it turns every user-missing code
into a blank and does not say which codes were declared (a range such as ``1 THRU HI``
blanks every value). So before pyreadstat reads the file, :func:`strip_missing` reads the
dictionary's missing-value records (``8`` a value, ``9`` LO THRU x, ``A`` x THRU HI, ``B``
x THRU y), takes them out of the file's bytes and returns them per variable; the reader
then keeps the codes in the data, as for ``.sav`` files, and lists them in the codebook.

Only files whose character table maps digits and capital letters to themselves (every
SPSS-written file) are rewritten; for any other, or a dictionary this parser cannot follow,
:func:`strip_missing` returns None and the reader says that user-missing information may
have been lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_HEADER = 200 + 256 + 8  # splash strings, character table, "SPSSPORT"
_LINE = 80
_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRST"


@dataclass
class PorMissing:
    """The missing-value declarations of one variable."""

    values: list[float | str] = field(default_factory=list)
    ranges: list[tuple[float, float]] = field(default_factory=list)


class _Stop(Exception):
    """The dictionary cannot be followed."""


class _Reader:
    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def char(self) -> str:
        if self.pos >= len(self.text):
            raise _Stop
        c = self.text[self.pos]
        self.pos += 1
        return c

    def number(self) -> float:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1
        if self.text.startswith("*.", self.pos):
            self.pos += 2
            return float("nan")
        end = self.text.find("/", self.pos)
        if end < 0 or end - self.pos > 40:
            raise _Stop
        token, self.pos = self.text[self.pos:end], end + 1
        return _base30(token)

    def integer(self) -> int:
        value = self.number()
        if value != value or value < 0 or value != int(value):  # NaN or not a count
            raise _Stop
        return int(value)

    def string(self) -> str:
        n = self.integer()
        out = self.text[self.pos:self.pos + n]
        if len(out) != n:
            raise _Stop
        self.pos += n
        return out


def _base30(token: str) -> float:
    """A portable-file number: base-30 digits, optional fraction and exponent."""
    sign = -1.0 if token.startswith("-") else 1.0
    token = token.lstrip("-")
    exponent = 0
    for i in range(1, len(token)):
        if token[i] in "+-":
            exponent = int(_base30(token[i + 1:])) * (1 if token[i] == "+" else -1)
            token = token[:i]
            break
    whole, _, frac = token.partition(".")
    value = 0.0
    for ch in whole:
        if ch not in _DIGITS:
            raise _Stop
        value = value * 30 + _DIGITS.index(ch)
    scale = 1 / 30
    for ch in frac:
        if ch not in _DIGITS:
            raise _Stop
        value += _DIGITS.index(ch) * scale
        scale /= 30
    return sign * value * 30.0 ** exponent


def _unwrap(content: bytes) -> str | None:
    try:
        text = content.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        return None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "".join(line.ljust(_LINE) if i < len(lines) - 1 else line
                   for i, line in enumerate(lines))


def _standard_table(text: str) -> bool:
    table = text[200:456]
    return table[64:74] == "0123456789" and table[74:100] == "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def strip_missing(content: bytes) -> tuple[bytes, dict[str, PorMissing]] | None:
    """(the file without missing-value records, declarations per variable; the file as it
    is when it declares none), or None when it cannot be followed (see the module
    docstring)."""
    text = _unwrap(content)
    if text is None or len(text) < _HEADER or text[456:464] != "SPSSPORT" or not (
            _standard_table(text)):
        return None
    r = _Reader(text, _HEADER)
    cut: list[tuple[int, int]] = []
    found: dict[str, PorMissing] = {}
    try:
        if r.char() != "A":
            return None
        r.string()
        r.string()  # creation date and time
        name, width = "", 0
        widths: dict[str, int] = {}
        while True:
            start = r.pos
            tag = r.char()
            if tag in "123":
                r.string()
            elif tag in "45":
                r.number()
            elif tag == "6":
                r.string()
            elif tag == "7":
                width = r.integer()
                name = r.string()
                widths[name] = width
                for _ in range(6):
                    r.number()
            elif tag in "89AB":
                entry = found.setdefault(name, PorMissing())
                read = r.string if width else r.number
                if tag == "8":
                    entry.values.append(read())
                elif width:
                    raise _Stop  # ranges of a string variable do not exist
                elif tag == "9":
                    entry.ranges.append((float("-inf"), r.number()))
                elif tag == "A":
                    entry.ranges.append((r.number(), float("inf")))
                else:
                    lo = r.number()
                    entry.ranges.append((lo, r.number()))
                cut.append((start, r.pos))
            elif tag == "C":
                r.string()
            elif tag == "D":
                names = [r.string() for _ in range(r.integer())]
                text_values = any(widths.get(v, 0) > 0 for v in names)
                for _ in range(r.integer()):
                    if text_values:
                        r.string()
                    else:
                        r.number()
                    r.string()
            elif tag == "E":
                for _ in range(r.integer()):
                    r.string()
            elif tag == "F":
                break
            else:
                return None
    except (_Stop, ValueError, IndexError):
        return None
    if not cut:
        return content, {}
    kept = []
    last = 0
    for a, b in cut:
        kept.append(text[last:a])
        last = b
    kept.append(text[last:])
    body = "".join(kept)
    lines = [body[i:i + _LINE] for i in range(0, len(body), _LINE)]
    return "\r\n".join(lines).encode("latin-1"), found

