"""A tiny drawing list and its two renderers: SVG text and PNG (Pillow).

A chart is laid out once as a :class:`Canvas` of primitive shapes (lines, markers, text,
rectangles) in pixel units; :func:`to_svg` and :func:`to_png` turn that same list into
an SVG document and a PNG image, so the two files of a chart cannot disagree. Text is
DejaVu Sans (the copy matplotlib ships when it is installed, else Debian's, else
Pillow's built-in font), so a PNG draws the same on every machine with the same wheels.
"""

from __future__ import annotations

import functools
import importlib.util
import io
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Literal

Anchor = Literal["start", "middle", "end"]
Shape = Literal["circle", "square", "triangle", "diamond", "cross", "bar"]


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str = "#444444"
    width: float = 1.0
    dash: bool = False


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    shape: Shape
    colour: str
    filled: bool = True
    size: float = 6.0  # half-width in px


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float = 13.0
    anchor: Anchor = "start"
    bold: bool = False
    colour: str = "#222222"


Op = Line | Rect | Marker | Text


@dataclass
class Canvas:
    """Width, height and the shapes in drawing order (built by a layout, then frozen)."""

    width: int
    height: int = 0
    ops: list[Op] = field(default_factory=list)

    def add(self, *ops: Op) -> None:
        self.ops.extend(ops)


# ----------------------------------------------------------------- fonts and text width

def _font_file(bold: bool) -> str | None:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    spec = importlib.util.find_spec("matplotlib")  # no import: just where it lives
    candidates = []
    if spec is not None and spec.origin is not None:
        candidates.append(Path(spec.origin).parent / "mpl-data" / "fonts" / "ttf" / name)
    candidates.append(Path("/usr/share/fonts/truetype/dejavu") / name)
    return next((str(p) for p in candidates if p.exists()), None)


@functools.lru_cache(maxsize=64)
def _font(size: int, bold: bool):  # type: ignore[no-untyped-def]
    from PIL import ImageFont

    path = _font_file(bold)
    if path is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(path, size)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in px at ``size`` (measured with the PNG font)."""
    return float(_font(max(1, round(size * 4)), bold).getlength(text)) / 4


def wrap(text: str, size: float, width: float, bold: bool = False) -> list[str]:
    """Break ``text`` into lines no wider than ``width`` px (a long word stays whole)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and text_width(trial, size, bold) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]


# ----------------------------------------------------------------- SVG

def _marker_svg(m: Marker) -> str:
    s = m.size
    fill = m.colour if m.filled else "#ffffff"
    style = f'fill="{fill}" stroke="{m.colour}" stroke-width="1.6"'
    if m.shape == "circle":
        return f'<circle cx="{m.x:.1f}" cy="{m.y:.1f}" r="{s:.1f}" {style}/>'
    if m.shape == "square":
        return (f'<rect x="{m.x - s * .9:.1f}" y="{m.y - s * .9:.1f}" width="{s * 1.8:.1f}" '
                f'height="{s * 1.8:.1f}" {style}/>')
    if m.shape == "bar":
        return (f'<rect x="{m.x - 1.2:.1f}" y="{m.y - s * 1.4:.1f}" width="2.4" '
                f'height="{s * 2.8:.1f}" fill="{m.colour}"/>')
    if m.shape == "cross":
        d = s * .8
        return (f'<path d="M{m.x - d:.1f},{m.y - d:.1f}L{m.x + d:.1f},{m.y + d:.1f}'
                f'M{m.x - d:.1f},{m.y + d:.1f}L{m.x + d:.1f},{m.y - d:.1f}" '
                f'stroke="{m.colour}" stroke-width="2.4"/>')
    points = _polygon(m)
    return f'<polygon points="{" ".join(f"{x:.1f},{y:.1f}" for x, y in points)}" {style}/>'


def _polygon(m: Marker) -> list[tuple[float, float]]:
    s = m.size
    if m.shape == "triangle":
        return [(m.x, m.y - s * 1.1), (m.x + s, m.y + s * .8), (m.x - s, m.y + s * .8)]
    return [(m.x, m.y - s * 1.2), (m.x + s, m.y), (m.x, m.y + s * 1.2), (m.x - s, m.y)]


def to_svg(canvas: Canvas, title: str, description: str) -> str:
    """The canvas as a standalone SVG document with a title and description."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas.width}" '
        f'height="{canvas.height}" viewBox="0 0 {canvas.width} {canvas.height}" '
        'role="img" aria-labelledby="t d" font-family="DejaVu Sans, Verdana, sans-serif">',
        f'<title id="t">{escape(title)}</title><desc id="d">{escape(description)}</desc>',
        f'<rect width="{canvas.width}" height="{canvas.height}" fill="#ffffff"/>',
    ]
    for op in canvas.ops:
        if isinstance(op, Line):
            dash = ' stroke-dasharray="5,4"' if op.dash else ""
            parts.append(f'<line x1="{op.x1:.1f}" y1="{op.y1:.1f}" x2="{op.x2:.1f}" '
                         f'y2="{op.y2:.1f}" stroke="{op.colour}" '
                         f'stroke-width="{op.width:g}"{dash}/>')
        elif isinstance(op, Rect):
            parts.append(f'<rect x="{op.x:.1f}" y="{op.y:.1f}" width="{op.w:.1f}" '
                         f'height="{op.h:.1f}" fill="{op.fill}"/>')
        elif isinstance(op, Marker):
            parts.append(_marker_svg(op))
        else:
            weight = ' font-weight="bold"' if op.bold else ""
            parts.append(f'<text x="{op.x:.1f}" y="{op.y:.1f}" font-size="{op.size:g}" '
                         f'text-anchor="{op.anchor}" fill="{op.colour}"{weight}>'
                         f'{escape(op.text)}</text>')
    parts.append("</svg>\n")
    return "\n".join(parts)


# ----------------------------------------------------------------- PNG

def to_png(canvas: Canvas, scale: int = 2) -> bytes:
    """The canvas drawn with Pillow at ``scale`` × its pixel size (crisp when printed)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (canvas.width * scale, canvas.height * scale), "#ffffff")
    draw = ImageDraw.Draw(img)

    def k(v: float) -> float:
        return v * scale

    for op in canvas.ops:
        if isinstance(op, Line):
            width = max(1, round(op.width * scale))
            if op.dash:
                _dashed(draw, k(op.x1), k(op.y1), k(op.x2), k(op.y2), op.colour, width,
                        5 * scale, 4 * scale)
            else:
                draw.line([(k(op.x1), k(op.y1)), (k(op.x2), k(op.y2))], fill=op.colour,
                          width=width)
        elif isinstance(op, Rect):
            draw.rectangle([k(op.x), k(op.y), k(op.x + op.w), k(op.y + op.h)], fill=op.fill)
        elif isinstance(op, Marker):
            _marker_png(draw, op, scale)
        else:
            anchor = {"start": "ls", "middle": "ms", "end": "rs"}[op.anchor]
            draw.text((k(op.x), k(op.y)), op.text, fill=op.colour, anchor=anchor,
                      font=_font(round(op.size * scale), op.bold))
    # 128 colours hold the few inks and their anti-aliasing; an 8-bit image encodes in
    # two thirds of the time of RGB and is half the size
    indexed = img.quantize(128, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    indexed.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _dashed(draw, x1: float, y1: float, x2: float, y2: float, colour: str,  # type: ignore[no-untyped-def]
            width: int, on: float, off: float) -> None:
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** .5
    if length == 0:
        return
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    pos = 0.0
    while pos < length:
        end = min(pos + on, length)
        draw.line([(x1 + ux * pos, y1 + uy * pos), (x1 + ux * end, y1 + uy * end)],
                  fill=colour, width=width)
        pos = end + off


def _marker_png(draw, m: Marker, scale: int) -> None:  # type: ignore[no-untyped-def]
    s, x, y = m.size * scale, m.x * scale, m.y * scale
    fill = m.colour if m.filled else "#ffffff"
    width = max(1, round(1.6 * scale))
    if m.shape == "circle":
        draw.ellipse([x - s, y - s, x + s, y + s], fill=fill, outline=m.colour, width=width)
    elif m.shape == "square":
        draw.rectangle([x - s * .9, y - s * .9, x + s * .9, y + s * .9], fill=fill,
                       outline=m.colour, width=width)
    elif m.shape == "bar":
        draw.rectangle([x - 1.2 * scale, y - s * 1.4, x + 1.2 * scale, y + s * 1.4],
                       fill=m.colour)
    elif m.shape == "cross":
        d = s * .8
        w2 = max(1, round(2.4 * scale))
        draw.line([(x - d, y - d), (x + d, y + d)], fill=m.colour, width=w2)
        draw.line([(x - d, y + d), (x + d, y - d)], fill=m.colour, width=w2)
    else:
        points = [(px * scale, py * scale) for px, py in _polygon(m)]
        draw.polygon(points, fill=fill, outline=m.colour, width=width)
