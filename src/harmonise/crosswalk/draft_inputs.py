"""What a draft crosswalk needs from outside the export (the I/O edge of drafting).

:func:`draft_context` gathers, for ``harmonise inspect --draft-crosswalk``:

* the targets files present under ``<root>/surveys/targets/*.csv``, each area ×
  population as a :class:`~harmonise.crosswalk.draft_rules.TargetsChoice` (a file that
  cannot be read is named in ``skipped`` and left out);
* the fieldwork dates from the file's own date column: the first and last date of a
  timestamp column (dropped at ingest as identifying, so it is read again, kept only for
  this, and only its first and last day are used — no value is printed or written), or of
  a date-time column still in the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harmonise.crosswalk.draft_rules import TargetsChoice, targets_choices
from harmonise.errors import HarmoniseError
from harmonise.models.survey import SurveyFile

TARGETS_FOLDER = Path("surveys/targets")


@dataclass(frozen=True)
class DraftContext:
    """Inputs of a draft besides the export and the schema (all optional)."""

    targets: tuple[TargetsChoice, ...] = ()
    fieldwork: tuple[dt.date, dt.date] | None = None
    date_column: str | None = None  # the column the fieldwork dates come from
    skipped: tuple[str, ...] = field(default_factory=tuple)


def read_targets_choices(root: Path) -> tuple[tuple[TargetsChoice, ...], tuple[str, ...]]:
    """Every area × population of every targets file under ``root/surveys/targets``."""
    from harmonise.weight.targets import read_targets_table

    folder = root / TARGETS_FOLDER
    choices: list[TargetsChoice] = []
    skipped: list[str] = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        rel = (TARGETS_FOLDER / path.name).as_posix()
        try:
            table, _ = read_targets_table(path)
        except HarmoniseError:
            skipped.append(rel)
            continue
        found = targets_choices(rel, table)
        if not found:
            skipped.append(rel)
        choices += found
    return tuple(choices), tuple(skipped)


def _as_dates(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dropna()
    text = series.dropna().astype(str)
    if text.empty:
        return pd.Series([], dtype="datetime64[ns]")
    from harmonise.ingest.dates import date_columns, decide, to_datetimes

    frame = text.to_frame("when")
    if date_columns(frame):
        try:
            decision = decide("", frame, ["when"])
            day_first = decision.day_first if decision is not None else True
            return to_datetimes("", frame["when"], day_first, hidden=True).dropna()
        except HarmoniseError:
            return pd.Series([], dtype="datetime64[ns]")
    cleaned = text.str.replace(r"\s*(GMT|UTC)[+-]?\d*(:\d\d)?$", "", regex=True)
    year_first = bool(cleaned.str.match(r"^\d{4}\D").all())  # 2025/11/03: y/m/d
    parsed = pd.to_datetime(cleaned, errors="coerce", format="mixed",
                            dayfirst=not year_first)
    return parsed.dropna() if parsed.notna().mean() >= 0.9 else parsed.iloc[0:0]


def date_range(series: pd.Series) -> tuple[dt.date, dt.date] | None:
    """First and last day of a column of dates or date-times (None when it has none)."""
    dates = _as_dates(series)
    if dates.empty:
        return None
    return dates.min().date(), dates.max().date()


def fieldwork_dates(path: Path, survey: SurveyFile, read: Mapping[str, object]
                    ) -> tuple[tuple[dt.date, dt.date] | None, str | None]:
    """The fieldwork dates from the file's own timestamp or date-time column, if any.

    ``read`` holds the options the export was read with (encoding, sheet, header_rows).
    """
    stamps = [f.name for f in survey.flagged if f.kind == "timestamp"]
    if stamps:
        from harmonise.ingest import read_survey

        keep = {c: "read again only for the draft's fieldwork dates" for c in stamps}
        try:
            again = read_survey(path, keep=keep, **read)  # type: ignore[arg-type]
        except HarmoniseError:
            again = None
        if again is not None:
            for col in stamps:
                found = date_range(again.data[col])
                if found is not None:
                    return found, col
    for col in survey.data.columns:
        if pd.api.types.is_datetime64_any_dtype(survey.data[col].dtype):
            found = date_range(survey.data[col])
            if found is not None:
                return found, str(col)
    return None, None


def draft_context(path: Path, survey: SurveyFile, root: Path,
                  read: Mapping[str, object]) -> DraftContext:
    """Targets under ``root`` and the export's fieldwork dates, for the draft."""
    choices, skipped = read_targets_choices(root)
    fieldwork, column = fieldwork_dates(path, survey, read)
    return DraftContext(targets=choices, fieldwork=fieldwork, date_column=column,
                        skipped=skipped)


__all__ = ["DraftContext", "date_range", "draft_context", "fieldwork_dates",
           "read_targets_choices"]
