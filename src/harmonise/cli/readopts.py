"""The options every command that reads an export shares: --encoding, --sheet, --header-rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def sheet_value(text: str | None) -> str | int | None:
    """``"2"`` -> 2 (a 0-based sheet number), a name stays a name."""
    return int(text) if text is not None and text.isdigit() else text


def header_rows_option(what: str = "a CSV/Excel export") -> Callable[[F], F]:
    return click.option(
        "--header-rows", type=click.IntRange(1, 3), default=None,
        help=f"Header rows of {what}: 1, 2 (SurveyMonkey, SmartSurvey) or 3 (Qualtrics) "
             "[default: the crosswalk's read: block, else detect].")


def sheet_option(what: str = "an Excel export") -> Callable[[F], F]:
    return click.option(
        "--sheet", default=None,
        help=f"Sheet of {what}, by name or 0-based number [default: the crosswalk's read: "
             "block, else the first].")


def encoding_option(what: str = "a CSV export") -> Callable[[F], F]:
    return click.option(
        "--encoding", default=None,
        help=f"Text encoding of {what} [default: the crosswalk's read: block, else detect].")
