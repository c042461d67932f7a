"""Survey-platform layouts: one record per layout, tried in order (:data:`LAYOUTS`).

A :class:`Layout` says how to recognise an export from its first rows (``detect``) and how
to read it: how many header rows there are and how column names come out of them, which
columns are the platform's own metadata (kept with a role, or dropped as identifying with
a stated kind and reason) and how a multi-select question is spread over columns
(``grouping``; see :mod:`harmonise.ingest.optioncols`). A row of HXL hashtags right under
the header (KoboToolbox: ``#symmetry``) is never a respondent, whatever the layout.

Add a platform by adding a record: nothing else chooses between platforms. The generic
layouts at the end keep the earlier behaviour for files no platform claims (one header
row, or two when row 2 holds "Response" or option text).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import replace as dc_replace

import pandas as pd

from harmonise.ingest.common import (
    QUALTRICS_IMPORT_ID,
    ColumnHeader,
    build_headers,
    detect_header_rows,
    header_text,
)
from harmonise.ingest.optioncols import group_option_columns, shorten_group_paths
from harmonise.models.survey import VariableInfo

Rows = Sequence[Sequence[object]]


@dataclass(frozen=True)
class MetaRule:
    """A platform column, matched on its name (whole name, case-insensitive).

    ``role`` is ``"respondent_id"`` or ``"metadata"`` (kept, marked in the codebook so a
    draft crosswalk does not offer it as a question) or ``"drop"`` (identifying: dropped at
    the door with ``kind`` and ``why`` as the codebook's reason, whatever its values).
    """

    pattern: str
    role: str
    kind: str | None = None
    why: str = ""

    def matches(self, name: str) -> bool:
        return re.fullmatch(self.pattern, name.strip(), flags=re.IGNORECASE) is not None


@dataclass(frozen=True)
class Layout:
    """One platform's export layout (see the module docstring)."""

    key: str
    platform: str
    description: str
    detect: Callable[[Rows, int], bool]
    header_rows: int
    headers: Callable[[Rows, int], list[ColumnHeader]]
    metadata: tuple[MetaRule, ...] = ()
    grouping: tuple[str, ...] = ()
    """How multi-select questions are spread over columns, tried in order: ``import_id``
    (Qualtrics: export tags ``Q2_1``… of one ImportId ``QID2``, holding 1 or blank),
    ``slash`` (Kobo/ODK: ``question/option`` 0/1 columns beside the joined column),
    ``two_rows`` (SurveyMonkey-style: an option in header row 2 under one question),
    ``suffix`` (one header row: ``question (option)``, ``question: option`` …),
    ``dichotomies`` (numbered 0/1 columns ``Q3_1``, ``Q3_2`` …)."""
    group_paths: bool = False
    """Names hold XLSForm group paths (``group_x/question``): the label is the question."""

    def role(self, name: str) -> MetaRule | None:
        for rule in self.metadata:
            if rule.matches(name):
                return rule
        return None


def _texts(rows: Rows, i: int, width: int) -> list[str]:
    if i >= len(rows):
        return []
    return [t for c in list(rows[i])[:width] if (t := header_text(c)) is not None]


def _names(rows: Rows, width: int) -> set[str]:
    return {t.casefold() for t in _texts(rows, 0, width)}


def _one_row(rows: Rows, width: int) -> list[ColumnHeader]:
    return build_headers(rows, width, 1)


def _two_rows(rows: Rows, width: int) -> list[ColumnHeader]:
    return build_headers(rows, width, 2)


def _three_rows(rows: Rows, width: int) -> list[ColumnHeader]:
    return build_headers(rows, width, 3)


_IMPORT_ID = re.compile(r"""importid['"]?\s*:\s*['"](?P<id>[^'"]*)['"]""", re.IGNORECASE)


def import_id(cell: object) -> str | None:
    """``{"ImportId":"QID2_1"}`` or ``{'ImportId': 'QID2-1'}`` -> ``QID2_1`` / ``QID2-1``."""
    text = header_text(cell)
    m = _IMPORT_ID.search(text or "")
    return m.group("id") if m else None


def _import_id_row(rows: Rows, width: int, quote: str) -> bool:
    r3 = _texts(rows, 2, width)
    start = "{" + quote + "importid"
    return bool(r3) and all(c.casefold().replace(" ", "").startswith(start) for c in r3)


def _qualtrics(rows: Rows, width: int) -> bool:
    return _import_id_row(rows, width, '"')


def _qualtrics_2016(rows: Rows, width: int) -> bool:
    return _import_id_row(rows, width, "'")


_V_TAG = re.compile(r"^V\d+$")


def _qualtrics_legacy(rows: Rows, width: int) -> bool:
    r1, r2 = _texts(rows, 0, width), _texts(rows, 1, width)
    return (sum(1 for t in r1 if _V_TAG.match(t)) >= 3
            and any(t.casefold() == "responseid" for t in r2))


def _legacy_headers(rows: Rows, width: int) -> list[ColumnHeader]:
    """Legacy Qualtrics: row 1 ``V1``…``Vn`` (metadata) and question tags, row 2 the real
    metadata names (``ResponseID``…) and question texts."""
    out = []
    for h in build_headers(rows, width, 3):
        tag, text = h.name, h.question
        if _V_TAG.match(tag) and text:
            out.append(ColumnHeader(name=text, label=text))
        elif h.label is None:
            out.append(h)  # a trailing delimiter's empty column
        else:
            out.append(ColumnHeader(name=tag, label=text or tag, question=text))
    return out


def _kobo(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return bool({"_uuid", "_submission_time"} & names) or {"_id", "_index"} <= names


def _odk(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return "key" in names and bool({"meta-instanceid", "submissiondate"} & names)


def _google_forms(rows: Rows, width: int) -> bool:
    r1 = _texts(rows, 0, width)
    return bool(r1) and r1[0].casefold() in ("timestamp", "horodateur", "marca temporal",
                                             "zeitstempel")


def _ms_forms(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return {"id", "start time", "completion time"} <= names


def _surveymonkey(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return bool({"respondent id", "respondentid"} & names) and detect_header_rows(rows,
                                                                                 width) == 2


def _smartsurvey(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return {"response id", "started", "ended"} <= names and detect_header_rows(rows, width) == 2


def _snap(rows: Rows, width: int) -> bool:
    r1 = _texts(rows, 0, width)
    return bool(r1) and r1[0].casefold() == "respondent" and any(
        t.casefold() == "time started" for t in r1)


def _snap_headers(rows: Rows, width: int) -> list[ColumnHeader]:
    """Snap "names and labels": row 1 variable names, row 2 variable labels."""
    return [ColumnHeader(name=h.name, label=h.question or h.name, question=h.question)
            for h in build_headers(rows, width, 3)]


def _snap_two(rows: Rows, width: int) -> bool:
    if not _snap(rows, width) or len(rows) < 2:
        return False
    second = list(rows[1])[:width]
    return not any(isinstance(c, int | float) for c in second) and (
        header_text(next(iter(second), None)) or "").casefold() in ("respondent",
                                                                     "respondent id")


def _citizen_space(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return {"response id", "submitted on"} <= names


def _jisc(rows: Rows, width: int) -> bool:
    names = _names(rows, width)
    return {"response id", "timestamp (started)", "timestamp (completed)"} <= names


def _generic_two(rows: Rows, width: int) -> bool:
    return detect_header_rows(rows, width) == 2


def _generic_three(rows: Rows, width: int) -> bool:
    r3 = _texts(rows, 2, width)
    return bool(r3) and all(c.casefold().startswith(QUALTRICS_IMPORT_ID) for c in r3)


def _always(rows: Rows, width: int) -> bool:
    return True


def _drop(pattern: str, kind: str, why: str) -> MetaRule:
    return MetaRule(pattern, "drop", kind, why)


def _meta(pattern: str) -> MetaRule:
    return MetaRule(pattern, "metadata")


def _rid(pattern: str) -> MetaRule:
    return MetaRule(pattern, "respondent_id")


_TIMES = "a response timestamp (a quasi-identifier)"
QUALTRICS_META = (
    _rid(r"response ?id|_recordid"),
    _drop(r"(start|end|recorded) ?date", "timestamp", _TIMES),
    _drop(r"ip ?address", "ip_address", "the respondent's IP address"),
    _drop(r"recipient ?(first|last) ?name", "name", "the recipient's name"),
    _drop(r"recipient ?e-?mail|e-?mail ?address", "email", "the recipient's e-mail address"),
    _drop(r"location ?(latitude|longitude)", "location",
          "a geolocation derived from the respondent's IP address"),
    _meta(r"location ?accuracy|status|progress|duration \(in seconds\)|finished|"
          r"distribution ?channel|user ?language|response ?set|external ?(data ?)?reference"),
    _drop(r"name", "name", "the recipient's name (legacy export; 'Anonym' when anonymous)"),
)
KOBO_META = (
    _rid(r"_uuid"),
    _drop(r"start|end|today|_submission_time|endtime|starttime", "timestamp", _TIMES),
    _drop(r"_submitted_by|username", "username", "the platform user who submitted it"),
    _drop(r"deviceid|imei|subscriberid|simserial|phonenumber|audit|audit_url", "device",
          "identifies the respondent's device or phone"),
    _drop(r"_geolocation|_?gps.*|.*_(latitude|longitude|altitude|precision)", "location",
          "a geolocation"),
    _drop(r".*_url", "attachment", "a link to an uploaded file"),
    _meta(r"_id|_index|_notes|_status|_tags|_validation_status|__version__|_version_|"
          r"_attachments|_parent_index|_parent_table_name|instanceid|meta/instanceid|"
          r"formhub/uuid|meta/rootuuid|meta/deprecatedid"),
)
ODK_META = (
    _rid(r"key|meta-instanceid|instanceid"),
    _drop(r"submissiondate|start|end|today", "timestamp", _TIMES),
    _drop(r"deviceid|subscriberid|simserial|phonenumber|username", "device",
          "identifies the respondent's device or account"),
    _meta(r"meta-.*|formdef_version|review_.*"),
)
GOOGLE_META = (
    _drop(r"timestamp|horodateur|marca temporal|zeitstempel", "timestamp", _TIMES),
    _drop(r"e-?mail ?address", "email", "the respondent's e-mail address"),
    _meta(r"score|total score"),  # a quiz's score
)
MS_FORMS_META = (
    _rid(r"id"),
    _drop(r"start time|completion time|last modified time", "timestamp", _TIMES),
    _drop(r"e-?mail", "email", "the respondent's e-mail address"),
    _drop(r"name", "name", "the respondent's name (signed-in account)"),
)
SURVEYMONKEY_META = (
    _rid(r"respondent ?id"),
    _drop(r"start ?date|end ?date", "timestamp", _TIMES),
    _drop(r"ip ?address", "ip_address", "the respondent's IP address"),
    _drop(r"e-?mail ?address", "email", "the respondent's e-mail address"),
    _drop(r"(first|last) ?name", "name", "the respondent's name"),
    _meta(r"collector ?id|custom ?data ?\d*"),
)
SMARTSURVEY_META = (
    _rid(r"response id"),
    _drop(r"started|ended", "timestamp", _TIMES),
    _drop(r"ip address", "ip_address", "the respondent's IP address"),
    _drop(r"e-?mail( address)?", "email", "the respondent's e-mail address"),
    _drop(r"name|user ?id", "name", "the respondent's name or account"),
    _meta(r"tracking link|custom value|unique id|status"),
)
SNAP_META = (
    _rid(r"respondent( id)?"),
    _drop(r"time started|time completed|date", "timestamp", _TIMES),
    _drop(r"ip address", "ip_address", "the respondent's IP address"),
    _meta(r"status|interview status|language"),
)
CITIZEN_SPACE_META = (
    _rid(r"response id"),
    _drop(r"submitted on|started on|last updated", "timestamp", _TIMES),
    _meta(r"response status|analysis status|tags|status"),
)
JISC_META = (
    _rid(r"response id|id"),
    _drop(r"timestamp \((started|completed)\)|started|completed", "timestamp", _TIMES),
    _drop(r"ip address", "ip_address", "the respondent's IP address"),
    _meta(r"response status"),
)

LAYOUTS: tuple[Layout, ...] = (
    Layout("qualtrics", "Qualtrics", "Qualtrics export (2017 on): export tags, question "
           "texts, ImportId JSON", _qualtrics, 3, _three_rows, QUALTRICS_META,
           ("import_id",)),
    Layout("qualtrics-2016", "Qualtrics", "Qualtrics 'Insights' export (2016-17): export "
           "tags, 'question-option' texts, ImportId with single quotes", _qualtrics_2016, 3,
           _three_rows, QUALTRICS_META, ("import_id",)),
    Layout("qualtrics-legacy", "Qualtrics", "legacy Qualtrics export (before 2017): a V1…Vn "
           "row, then names and question texts", _qualtrics_legacy, 2, _legacy_headers,
           QUALTRICS_META, ("import_id",)),
    Layout("kobo", "KoboToolbox", "KoboToolbox export: one header row (XML names or "
           "labels), question/option 0/1 columns, Kobo metadata (_uuid, _submission_time…)",
           _kobo, 1, _one_row, KOBO_META, ("slash",), group_paths=True),
    Layout("odk-briefcase", "ODK Briefcase", "ODK Briefcase / Central CSV: SubmissionDate, "
           "question/CHOICE 1/0 columns, meta-instanceID, KEY", _odk, 1, _one_row, ODK_META,
           ("slash",), group_paths=True),
    Layout("google-forms", "Google Forms", "Google Forms responses (Sheets download): "
           "Timestamp, question texts, ticked options joined by ', '", _google_forms, 1,
           _one_row, GOOGLE_META, ("suffix",)),
    Layout("microsoft-forms", "Microsoft Forms", "Microsoft Forms responses: ID, Start time, "
           "Completion time, Email, Name; ticked options joined by ';'", _ms_forms, 1,
           _one_row, MS_FORMS_META, ("suffix",)),
    Layout("smartsurvey", "SmartSurvey", "SmartSurvey raw data export: Response ID, Started, "
           "Ended; question in row 1, option in row 2 for tick-box and grid questions",
           _smartsurvey, 2, _two_rows, SMARTSURVEY_META, ("two_rows",)),
    Layout("surveymonkey", "SurveyMonkey", "SurveyMonkey export: Respondent ID; question in "
           "row 1, 'Response' or an option in row 2", _surveymonkey, 2, _two_rows,
           SURVEYMONKEY_META, ("two_rows",)),
    Layout("snap-labels", "Snap Surveys", "Snap XMP CSV with variable names and labels: "
           "Respondent, Time started, Time completed; multiple response as Qn_1…Qn_k 0/1",
           _snap_two, 2, _snap_headers, SNAP_META, ("dichotomies",)),
    Layout("snap", "Snap Surveys", "Snap XMP CSV with variable names: Respondent, Time "
           "started, Time completed; multiple response as Qn_1…Qn_k 0/1", _snap, 1, _one_row,
           SNAP_META, ("dichotomies",)),
    Layout("citizen-space", "Citizen Space", "Citizen Space 'all responses' download: "
           "Response ID, Submitted on; one column per ticked checkbox option "
           "('question: option')", _citizen_space, 1, _one_row, CITIZEN_SPACE_META,
           ("suffix",)),
    Layout("jisc", "Jisc Online Surveys", "Jisc Online Surveys CSV: Response ID, Timestamp "
           "(started/completed); numbered questions, one column per multiple-choice option "
           "('n. question (option)')", _jisc, 1, _one_row, JISC_META, ("suffix",)),
    Layout("three-rows", "", "three header rows (export tags, question texts, ImportId)",
           _generic_three, 3, _three_rows, QUALTRICS_META, ("import_id",)),
    Layout("two-rows", "", "two header rows (question, then 'Response' or an option)",
           _generic_two, 2, _two_rows, (), ("two_rows",)),
    Layout("one-row", "", "one header row", _always, 1, _one_row, (), ("suffix",
                                                                        "dichotomies")),
)
"""Every known layout, most specific first; the last always matches."""

_FORCED = {1: "one-row", 2: "two-rows", 3: "three-rows"}


def detect_layout(rows: Rows, width: int, header_rows: int | None = None) -> Layout:
    """The first layout whose ``detect`` accepts the first rows. With ``header_rows`` given,
    the first detected layout with that many header rows, else the generic one."""
    for layout in LAYOUTS:
        if header_rows is not None and layout.header_rows != header_rows:
            continue
        if layout.detect(rows, width):
            return layout
    key = _FORCED[header_rows or 1]
    return next(la for la in LAYOUTS if la.key == key)


_HXL = re.compile(r"^#[a-z][\w+-]*$", re.IGNORECASE)


def is_tag_row(row: Sequence[object], width: int) -> bool:
    """A row of HXL hashtags (``#symmetry``, ``#adm1+name``): every filled cell is a tag."""
    cells = [t for c in list(row)[:width] if (t := header_text(c)) is not None]
    return bool(cells) and all(_HXL.match(c) for c in cells)


@dataclass(frozen=True)
class HeaderPlan:
    """How one grid of cells is read: its layout, column headers and first respondent row."""

    layout: Layout
    headers: list[ColumnHeader]
    skip: int
    notes: tuple[str, ...]


def plan_headers(rows: Rows, width: int, header_rows: int | None = None) -> HeaderPlan:
    """The layout of the grid's first rows, its headers and how many rows to skip."""
    layout = detect_layout(rows, width, header_rows)
    headers = layout.headers(rows, width)
    if layout.header_rows == 3 and len(rows) >= 3:
        r3 = list(rows[2]) + [None] * width
        headers = [dc_replace(h, key=import_id(r3[j])) for j, h in enumerate(headers)]
    skip = layout.header_rows
    notes: list[str] = []
    if layout.platform:
        notes.append(f"layout: {layout.description} ({layout.key})")
    if len(rows) > skip and is_tag_row(rows[skip], width):
        skip += 1
        notes.append(f"row {skip} holds HXL hashtags (#…), not a respondent: skipped")
    return HeaderPlan(layout, headers, skip, tuple(notes))


@dataclass(frozen=True)
class Applied:
    """A grid's columns after the layout's rules: roles, forced flags, groups, notes."""

    data: pd.DataFrame
    variables: dict[str, VariableInfo]
    groups: dict[str, tuple[str, ...]]
    how: dict[str, str]
    forced: dict[str, tuple[str, str]]
    notes: tuple[str, ...]


def apply_layout(plan: HeaderPlan, data: pd.DataFrame,
                 variables: Mapping[str, VariableInfo]) -> Applied:
    """Metadata roles and forced flags, multi-select groups and group paths of one grid."""
    layout = plan.layout
    infos = dict(variables)
    forced: dict[str, tuple[str, str]] = {}
    for name, info in variables.items():
        rule = layout.role(name)
        if rule is None:
            continue
        if rule.role == "drop" and rule.kind is not None:
            forced[name] = (rule.kind, f"{rule.kind}: {layout.platform} column: {rule.why}")
        else:
            infos[name] = dc_replace(info, role=rule.role)
    questions = [h for h in plan.headers if h.name not in forced
                 and infos.get(h.name, VariableInfo(name=h.name, dtype="")).role is None]
    frame, infos, grouping = group_option_columns(layout.grouping, questions, data, infos)
    notes = list(plan.notes) + grouping.notes
    if layout.group_paths:
        members = {m for names in grouping.groups.values() for m in names}
        frame, infos, renamed = shorten_group_paths(frame, infos, members | set(forced))
        notes += renamed
    return Applied(frame, infos, dict(grouping.groups), dict(grouping.how), forced,
                   tuple(notes))
