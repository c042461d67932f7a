"""Validate crosswalks: every problem at once, as a :class:`~harmonise.models.report.Report`.

    parse_crosswalk(text, file)            structure (the pydantic model) -> Parsed
    lock_issues(...)                       immutability of releases (crosswalks/lock.json)
    check_crosswalk(text, file, ...)       structure + lock + schema (+ data) -> Report  (pure)
    validate_paths(paths, ...)             the I/O edge used by ``harmonise crosswalk validate``

Checks against the schema and the data are :func:`harmonise.recode.schema_issues` and
:func:`harmonise.recode.data_issues`, the same ones ``apply_crosswalk`` runs before it
harmonises, so a crosswalk that validates against an export also harmonises it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harmonise._util.files import sha256_text
from harmonise._util.yamlio import DuplicateKeyError
from harmonise.crosswalk.io import load_schema, parse_yaml
from harmonise.crosswalk.lock import LOCK_NAME, Lock, read_lock, relative_key
from harmonise.crosswalk.placeholders import placeholder_issues
from harmonise.errors import CrosswalkError
from harmonise.models.crosswalk import Crosswalk
from harmonise.models.report import ISSUE_CODES, Issue, Report
from harmonise.models.schema import Schema
from harmonise.models.survey import SurveyFile
from harmonise.recode import data_issues, schema_issues

_VERSION_IN_NAME = re.compile(r"\.v(\d+)\.ya?ml$")
_PYDANTIC_CODES = {"missing": "field-missing", "extra_forbidden": "field-unknown"}


@dataclass(frozen=True)
class Parsed:
    """A crosswalk file read as far as it goes: the model (if valid) and the problems."""

    crosswalk: Crosswalk | None
    raw: Any
    issues: tuple[Issue, ...]

    @property
    def released(self) -> bool:
        return isinstance(self.raw, dict) and self.raw.get("status") == "released"


def _item_id(raw: Any, index: object) -> str:
    items = raw.get("items") if isinstance(raw, dict) else None
    if isinstance(index, int) and isinstance(items, list) and 0 <= index < len(items):
        entry = items[index]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str | int):
            return str(entry["id"])
    return f"#{index}"


def _structure_issues(exc: ValidationError, raw: Any, file: str) -> list[Issue]:
    issues: list[Issue] = []
    errors = exc.errors()
    item_errors = any(len(e["loc"]) >= 2 and e["loc"][0] == "items" for e in errors)
    for err in errors:
        loc = list(err["loc"])
        if err["type"] == "too_short" and loc == ["items"] and item_errors:
            continue  # pydantic's echo of an invalid item ("at least 1 item after validation")
        item = ""
        if len(loc) >= 2 and loc[0] == "items":
            item = _item_id(raw, loc[1])
        code = str(err["type"])
        if code not in ISSUE_CODES:
            code = _PYDANTIC_CODES.get(code, "field-invalid")
        if code == "field-missing" and loc and loc[-1] == "comparability":
            code = "grade-missing"
        where = ".".join(str(p) for p in loc) or "(top level)"
        if item and not item.startswith("#"):
            rest = ".".join(str(p) for p in loc[2:])
            where = f"item {item!r}" + (f" {rest}" if rest else "")
        hint = ""
        if code == "field-unknown":
            hint = " (check the spelling; see crosswalks/crosswalk.schema.json for the fields)"
        elif code == "grade-missing":
            hint = (" (grade it: identical, equivalent, close, proxy or not comparable; "
                    "see docs/comparability.md)")
        issues.append(Issue(code=code, file=file, item=item,
                            value="" if code != "field-unknown" else str(loc[-1]),
                            message=f"{where}: {err['msg']}{hint}"))
    return issues


def parse_crosswalk(text: str, file: str) -> Parsed:
    """Parse and validate the structure; a released file lacking grades is read as a draft
    so that the per-item ``concept-missing`` / ``grade-missing`` rows can be reported."""
    try:
        raw = parse_yaml(text, file)
    except CrosswalkError as exc:
        code = "key-repeated" if isinstance(exc.__cause__, DuplicateKeyError) \
            else "file-unreadable"
        return Parsed(None, None, (Issue(code=code, file=file, message=str(exc)),))
    if not isinstance(raw, dict):
        return Parsed(None, raw, (Issue(code="file-unreadable", file=file,
                                        message=f"{file}: expected a YAML mapping at the top "
                                                "level (crosswalk: …, items: …)"),))
    try:
        return Parsed(Crosswalk.model_validate(raw), raw, ())
    except ValidationError as exc:
        if any(e["type"] == "release-incomplete" for e in exc.errors()):
            try:
                return Parsed(Crosswalk.model_validate({**raw, "status": "draft"}), raw, ())
            except ValidationError:  # pragma: no cover - release check runs last
                pass
        return Parsed(None, raw, tuple(_structure_issues(exc, raw, file)))


def lock_issues(parsed: Parsed, *, sha256: str, key: str, lock: Lock, file: str) -> list[Issue]:
    """Released files must match their lock entry byte for byte; releases must be locked."""
    issues: list[Issue] = []
    entry = lock.at_path(key)
    cw = parsed.crosswalk
    if entry is not None and entry.sha256 != sha256:
        nxt = entry.version + 1
        issues.append(Issue(
            code="release-edited", file=file, value=entry.key,
            message=(
                f"{file} was released as {entry.key} (sha256 {entry.sha256[:12]}…) and has "
                f"been edited since (now {sha256[:12]}…). A release never changes: undo the "
                f"edit (e.g. git checkout -- {file}) and make the change in a new version: "
                f"copy it to a .v{nxt}.yaml file, set version: {nxt} and status: draft, add "
                f"a 'v{nxt}: …' changelog entry, then run harmonise crosswalk release."
            ),
        ))
    elif cw is not None and parsed.released:
        by_id = lock.get(cw.crosswalk, cw.version)
        if by_id is None:
            issues.append(Issue(
                code="release-not-locked", file=file, value=cw.ref,
                message=(
                    f"{file} says status: released but the lock file has no entry for "
                    f"{cw.ref}. Set status: draft and run harmonise crosswalk release {file}, "
                    "which checks it is complete and records its hash."
                ),
            ))
        elif by_id.path != key and by_id.sha256 != sha256:
            issues.append(Issue(
                code="release-edited", file=file, value=cw.ref,
                message=(
                    f"{file} claims to be {cw.ref}, which was released from {by_id.path} with "
                    f"different content. Give this file a new version number (status: draft) "
                    "and release it."
                ),
            ))
    return issues


def _name_issues(cw: Crosswalk, file: str) -> list[Issue]:
    m = _VERSION_IN_NAME.search(file)
    if m and int(m.group(1)) != cw.version:
        return [Issue(code="version-filename-mismatch", file=file, value=str(cw.version),
                      message=(f"{file}: the file name says v{m.group(1)} but version is "
                               f"{cw.version}; name the file <instrument>.v{cw.version}.yaml"))]
    return []


def _identifying_keys(cw: Crosswalk, file: str) -> list[Issue]:
    """A crosswalk is published beside the figures: its keys must not carry personal data
    (an e-mail listed under 'missing' to make a run pass, say)."""
    from harmonise.privacy import describe, looks_identifying

    issues = []
    for item in cw.items:
        for key in (*item.recode, *item.missing):
            kind = looks_identifying(key)
            if kind is not None:
                issues.append(Issue(
                    code="identifying-value", file=file, item=item.id, variable=item.source,
                    value=f"<{describe(kind)}>",
                    message=(f"{file}: item {item.id!r} lists {describe(kind)} as a recode or "
                             "missing key; crosswalks are shared and published, so map the "
                             "column as identifying instead (privacy / unmapped) and remove "
                             "the value from the file"),
                ))
    return issues


def check_crosswalk(
    text: str,
    file: str,
    *,
    schema: Schema | None,
    lock: Lock | None = None,
    lock_key: str | None = None,
    survey: SurveyFile | None = None,
) -> Report:
    """Every problem with one crosswalk file's text (pure: no file is read here).

    ``schema`` None means the schema the crosswalk names could not be found (reported by
    the caller). ``lock_key`` is the file's path as the lock names it (default ``file``).
    """
    parsed = parse_crosswalk(text, file)
    issues = list(parsed.issues)
    sha = sha256_text(text)
    if lock is not None:
        issues += lock_issues(parsed, sha256=sha, key=lock_key or file, lock=lock, file=file)
    cw = parsed.crosswalk
    if cw is not None:
        issues += _name_issues(cw, file)
        issues += placeholder_issues(text, file, cw)
        issues += _identifying_keys(cw, file)
        if schema is not None:
            # a population still left as a to-do mark is one decision, reported as the placeholder
            issues += [i for i in schema_issues(cw, schema, file)
                       if not (i.code == "population-not-in-schema"
                               and "TODO" in cw.population)]
        if survey is not None:
            issues += data_issues(survey, cw, file)
    return Report(tuple(issues), (file,))


def crosswalk_files(paths: Sequence[Path]) -> list[Path]:
    """The crosswalk files named: files as given, folders searched for ``*.v*.yaml``."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found += sorted(f for f in p.rglob("*.v*.yaml") if "schema" not in f.parts)
        else:
            found.append(p)
    return found


def _schema_for(raw: Any, cw_path: Path, schema_path: Path | None,
                cache: dict[Path, Schema], project: Path | None = None
                ) -> tuple[Schema | None, Issue | None]:
    if schema_path is None:
        ref = raw.get("schema") if isinstance(raw, dict) else None
        if not isinstance(ref, str):
            return None, None  # reported as a structure problem
        schema_path = cw_path.parent.parent / "schema" / f"{ref}.yaml"
        if not schema_path.exists() and project is not None:
            # a draft kept outside the project: the project's schema of that version
            schema_path = project / "crosswalks" / "schema" / f"{ref}.yaml"
        if not schema_path.exists():
            return None, Issue(
                code="schema-version-mismatch", file=str(cw_path), value=ref,
                message=(f"{cw_path}: targets schema {ref!r} but there is no {schema_path}; "
                         "name an existing schema version or pass --schema"),
            )
    if schema_path not in cache:
        cache[schema_path] = load_schema(schema_path)
    return cache[schema_path], None


def validate_paths(
    paths: Sequence[Path],
    *,
    schema_path: Path | None = None,
    lock_path: Path | None = None,
    data: Path | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    header_rows: int | None = None,
    project: Path | None = None,
) -> Report:
    """Validate crosswalk files (folders are searched) and return one report for all.

    The schema defaults to ``<crosswalks>/schema/<schema>.yaml`` and the lock to
    ``<crosswalks>/lock.json``, where ``<crosswalks>`` is the folder above the file's CSP
    folder. ``data`` (one export) is read as the main job reads it (with the crosswalk's
    ``privacy.keep`` and ``read:`` block) and checked against every crosswalk named.
    """
    from harmonise.ingest import read_survey  # the ingest stage is only needed with data
    from harmonise.ingest.common import resolve_read

    files = crosswalk_files(paths)
    if not files:
        raise CrosswalkError(f"no crosswalk files (*.vN.yaml) found in {list(map(str, paths))}")
    report = Report()
    schemas: dict[Path, Schema] = {}
    for path in files:
        file = str(path)
        try:
            text = path.read_bytes().decode("utf-8")
        except FileNotFoundError:
            report += Report((Issue(code="file-not-found", file=file,
                                    message=f"{file}: file not found; check the path"),), (file,))
            continue
        except UnicodeDecodeError as exc:
            report += Report((Issue(code="file-unreadable", file=file,
                                    message=f"{file}: not UTF-8 text (byte {exc.start}); save "
                                            "the file as UTF-8"),), (file,))
            continue
        lp = lock_path or path.parent.parent / LOCK_NAME
        lock = read_lock(lp)
        parsed = parse_crosswalk(text, file)
        schema, problem = _schema_for(parsed.raw, path, schema_path, schemas, project)
        survey = None
        if data is not None and parsed.crosswalk is not None:
            privacy = parsed.crosswalk.privacy
            how = resolve_read(data.name, parsed.crosswalk.read.model_dump(),
                               {"encoding": encoding, "sheet": sheet,
                                "header_rows": header_rows})
            survey = read_survey(data, **how, keep=privacy.keep or None,
                                 postcode_district=privacy.postcode_district or None)
        one = check_crosswalk(text, file, schema=schema, lock=lock,
                              lock_key=relative_key(path, lp.parent), survey=survey)
        if problem is not None:
            one = Report((problem, *one.issues), one.files)
        if parsed.crosswalk is not None and parsed.crosswalk.weighting is not None:
            one = Report((*one.issues, *targets_issues(parsed.crosswalk, path)), one.files)
        report += one
    return report


def targets_issues(cw: Crosswalk, path: Path) -> list[Issue]:
    """The weighting block's targets file against the crosswalk (harmonise.weight.targets),
    when it is found relative to a folder above the crosswalk (the project root): rows for
    the area and population, every margin, and the crosswalk's categories."""
    from harmonise.errors import TargetsError
    from harmonise.weight.targets import check_categories, read_targets_table, select_targets

    spec = cw.weighting
    assert spec is not None
    file = str(path)
    found = next((p / spec.targets for p in path.resolve().parents
                  if (p / spec.targets).is_file()), None)
    if found is None:
        return []  # elsewhere (a copied tree): the run reports a missing targets file
    try:
        table, sha = read_targets_table(found)
        selected = select_targets(table, file=spec.targets, sha256=sha,
                                  area_code=spec.area_code, population=spec.population,
                                  variables=spec.margins)
        check_categories(selected, cw, file)
    except TargetsError as exc:
        return [Issue(code="targets-invalid", file=file, variable="weighting.targets",
                      value=spec.targets, message=str(exc))]
    return []


def check_locked(cw: Crosswalk, sha256: str, path: Path, lock_path: Path | None = None) -> None:
    """Refuse to use a crosswalk whose release was edited or never recorded in the lock.

    ``lock_path`` defaults to ``lock.json`` in the folder above the crosswalk's CSP folder
    (as ``crosswalk validate`` and ``release`` use). A draft is usable (a run records its
    status in the provenance), unless its path was released and the bytes changed since:
    then it is an edited release with its status changed by hand.
    """
    lock_path = lock_path or path.parent.parent / LOCK_NAME
    lock = read_lock(lock_path)
    parsed = Parsed(crosswalk=cw, raw={"status": cw.status}, issues=())
    problems = lock_issues(parsed, sha256=sha256, key=relative_key(path, lock_path.parent),
                           lock=lock, file=str(path))
    if problems:
        raise CrosswalkError(
            "\n".join(i.message for i in problems)
            + f"\n(checked against {lock_path}; harmonise run uses a released crosswalk only "
            "as it was released)"
        )
