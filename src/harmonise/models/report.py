"""Validation problems as data: an :class:`Issue` per problem, a :class:`Report` of them all.

Checks never stop at the first problem: they return issues, and a caller decides what to do
(the CLI prints a table or JSON and exits with ``int(not report.valid)``; ``apply_crosswalk``
raises with every message). Each issue has a stable ``code`` from :data:`ISSUE_CODES`, so
scripts and tests can rely on it while messages stay free to improve.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]

#: Every issue code, with what it means. Codes are stable: add new ones, never rename.
ISSUE_CODES: dict[str, str] = {
    # reading the file
    "file-not-found": "the crosswalk, schema, lock or data file does not exist",
    "file-unreadable": "the file is not UTF-8 text or not valid YAML/JSON",
    "key-repeated": "a YAML mapping lists the same key twice (the last would silently win)",
    # structure (the pydantic model)
    "field-missing": "a required field is absent",
    "field-unknown": "a field the format does not have (often a typo)",
    "field-invalid": "a field's value has the wrong type or form",
    "yaml-boolean-key": "a recode key is a YAML boolean (true/false); quote it",
    "value-listed-twice": "a source value appears twice across an item's recode and missing",
    "item-id-repeated": "two items share an id",
    "column-repeated": "two items fill the same concept (and option)",
    "fieldwork-dates": "fieldwork ends before it starts",
    "release-incomplete": "status is released but some item lacks a concept or a grade",
    "draft-placeholder": "a TODO marker or a note still saying it was pre-filled by the draft",
    # versioning
    "release-edited": "a released crosswalk's bytes differ from its lock entry",
    "release-not-locked": "status is released but lock.json has no entry for this version",
    "version-filename-mismatch": "the file name's .vN does not match the version field",
    # against the schema
    "schema-version-mismatch": "the crosswalk targets a different schema version",
    "population-not-in-schema": "the population is not one of the schema's",
    "concept-missing": "an item has no concept yet (drafts only)",
    "grade-missing": "an item has no comparability grade, or it is 'unassessed'",
    "concept-not-in-schema": "an item's concept is not in the schema",
    "scale-not-in-schema": "an item's scale is not in the schema",
    "option-invalid": "a multi-select item's option is missing or not one of the concept's",
    "option-not-allowed": "an option is set on an item whose concept is not multi-select",
    "target-not-in-scale": "a recode target is not a category of the item's scale",
    "target-not-slug": "an open-scale recode target is not a lower-case slug",
    "indicator-lacks-scale": "an indicator of the concept does not define the item's scale",
    # against the data
    "column-missing": "a source or design column is not in the data",
    "column-identifying": "a column used by the crosswalk was removed at ingest as identifying",
    "value-not-in-recode": "a value in the data is listed in neither recode nor missing",
    "typed-answer-not-in-recode": "typed answers (free text one respondent gave) are listed "
                                  "in neither recode nor missing (their text never shown)",
    "identifying-value": "a recode or missing key looks like an e-mail, phone, postcode or IP",
    "column-unmapped": "a data column is neither mapped nor listed under 'unmapped:'",
    # against the weighting targets
    "targets-invalid": "the targets file does not fit the weighting block (area, population, "
                       "margins, or categories other than those the crosswalk recodes to)",
}


@dataclass(frozen=True)
class Issue:
    """One problem, located as precisely as the check can: file, item, variable, value, row."""

    code: str
    message: str
    file: str = ""
    item: str = ""
    variable: str = ""
    value: str = ""
    row: int | None = None
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.code not in ISSUE_CODES:
            raise ValueError(f"unknown issue code {self.code!r}; add it to ISSUE_CODES")


#: Columns of :meth:`Report.to_table` and keys of :meth:`Report.to_json` rows.
ISSUE_FIELDS = ("severity", "code", "file", "item", "variable", "value", "row", "message")


@dataclass(frozen=True)
class Report:
    """Every issue found in the files checked. Valid when no issue is an error."""

    issues: tuple[Issue, ...] = ()
    files: tuple[str, ...] = field(default_factory=tuple)

    @property
    def valid(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity == "warning")

    @property
    def counts(self) -> dict[str, int]:
        """Number of issues per code, codes in alphabetical order."""
        return dict(sorted(Counter(i.code for i in self.issues).items()))

    def __add__(self, other: Report) -> Report:
        return Report(self.issues + other.issues, self.files + other.files)

    def summary(self) -> str:
        n_files = len(self.files)
        what = f"{n_files} file{'s' if n_files != 1 else ''}"
        if not self.issues:
            return f"valid: {what} checked, no issues"
        state = "valid" if self.valid else "INVALID"
        return (f"{state}: {what} checked, {len(self.errors)} error(s), "
                f"{len(self.warnings)} warning(s)")

    def to_rows(self) -> list[dict[str, object]]:
        return [{k: asdict(i)[k] for k in ISSUE_FIELDS} for i in self.issues]

    def to_json(self) -> str:
        payload = {
            "valid": self.valid,
            "files": list(self.files),
            "counts": self.counts,
            "issues": self.to_rows(),
        }
        return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"

    def to_table(self) -> str:
        """A plain-text table, one block per issue, then the summary line."""
        lines: list[str] = []
        for i in self.issues:
            where = " ".join(
                part for part in (
                    i.file,
                    f"item={i.item}" if i.item else "",
                    f"variable={i.variable!r}" if i.variable else "",
                    f"value={i.value}" if i.value else "",
                    f"row={i.row}" if i.row is not None else "",
                ) if part
            )
            lines.append(f"{i.severity.upper():<7} {i.code:<26} {where}")
            lines.append(f"        {i.message}")
        if self.issues:
            counts = ", ".join(f"{code} {n}" for code, n in self.counts.items())
            lines.append(f"counts: {counts}")
        lines.append(self.summary())
        return "\n".join(lines) + "\n"
