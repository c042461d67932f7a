"""XLSForm (pyxform + ODK Validate), printable HTML and DOCX, codebook, joint crosswalks."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest

from harmonise._util.files import sha256_file
from harmonise.crosswalk.io import load_crosswalk
from harmonise.crosswalk.lock import read_lock
from harmonise.errors import QuestionnaireError
from harmonise.questionnaire.build import Built, form_stem
from harmonise.questionnaire.crosswalks import crosswalk_path
from harmonise.questionnaire.spec import DONT_KNOW, PREFER_NOT
from harmonise.questionnaire.xlsform import convert, read_xlsform, xlsform_bytes, xlsform_rows

ROOT = Path(__file__).resolve().parent.parent.parent
JAVA = shutil.which("java")
if JAVA is None and os.environ.get("HARMONISE_REQUIRE_JAVA"):
    raise RuntimeError("HARMONISE_REQUIRE_JAVA is set but java is not on PATH; run "
                       "'make java-deps' (installs Debian's default-jre-headless)")
needs_java = pytest.mark.skipif(JAVA is None, reason="no Java runtime for ODK Validate "
                                "(make java-deps; set HARMONISE_REQUIRE_JAVA=1 to fail instead)")


def _rows(built: Built, form: str):  # type: ignore[no-untyped-def]
    lay = next(lay for lay in built.layouts if lay.form.id == form)
    return lay, read_xlsform(built.files[f"{form_stem(lay)}.xlsx"])


@pytest.mark.parametrize("form", ["adults", "young_people"])
def test_xlsform_sheets_codes_and_rules(built: Built, joint, form: str) -> None:  # type: ignore[no-untyped-def]
    _, schema = joint
    lay, rows = _rows(built, form)
    assert rows.settings["form_id"] == f"joint_{form}_v1" and rows.settings["version"] == "1"
    types = [r["type"].split(" ")[0] for r in rows.survey]
    assert "text" not in types, "no free-text question may be in the form"
    questions = [r for r in rows.survey if r["type"].split(" ")[0] in
                 ("select_one", "select_multiple", "integer")]
    assert len(questions) == len(lay.questions)
    assert all(r["required"] == "yes" for r in questions)
    assert rows.survey[0]["name"] == "privacy_notice" and "voluntary" in rows.survey[0]["label"]
    # choice names are the schema codes; DK / prefer not to say the same everywhere, last
    lists: dict[str, list[tuple[str, str]]] = {}
    for c in rows.choices:
        lists.setdefault(c["list_name"], []).append((c["name"], c["label"]))
    for q in lay.questions:
        if q.kind != "select_one":
            continue
        names = [n for n, _ in lists[q.list_name]]
        scale = schema.scale(schema.concept(q.concept).scale)
        assert names[: len(scale.codes)] == list(scale.codes)
        extra = dict(lists[q.list_name][len(scale.codes):])
        assert set(extra) <= {DONT_KNOW[0], PREFER_NOT[0]}
        for name, label in extra.items():
            assert label == {DONT_KNOW[0]: DONT_KNOW[1], PREFER_NOT[0]: PREFER_NOT[1]}[name]
    by_name = {r["name"]: r for r in rows.survey}
    assert "selected(${safe_area_dark}, 'a_bit_unsafe')" in by_name["unsafe_reasons"]["relevant"]
    assert by_name["activity_limit"]["relevant"].endswith("${long_condition} = 'yes'")
    if form == "young_people":
        assert by_name["anxious_yesterday"]["relevant"] == "${age} >= 16"
        assert by_name["long_condition"]["relevant"] == "${age} >= 16"
        assert "gender_identity" not in by_name and "sexual_orientation" not in by_name
        assert by_name["age"]["constraint"] == ". >= 11 and . <= 18"
    else:
        assert by_name["anxious_yesterday"]["relevant"] == ""
        assert by_name["gender_identity"]["relevant"] == ""
    assert len([c for c in rows.choices if c["list_name"] == "ethnic19_pn"]) == 20


@pytest.mark.parametrize("form", ["adults", "young_people"])
def test_pyxform_converts_each_form(built: Built, form: str) -> None:
    lay, _ = _rows(built, form)
    xform = built.files[f"{form_stem(lay)}.xml"].decode()
    assert "<h:html" in xform and 'relevant=" /' in xform
    assert f'id="joint_{form}_v1"' in xform


@needs_java
def test_odk_validate_accepts_every_form(built: Built) -> None:
    for lay in built.layouts:
        convert(built.files[f"{form_stem(lay)}.xlsx"], validate=True, name=lay.form_id)


@needs_java
def test_odk_validate_rejects_a_bad_expression(built: Built) -> None:
    _, rows = _rows(built, "adults")
    survey = [dict(r) for r in rows.survey]
    row = next(r for r in survey if r["name"] == "activity_limit")
    row["relevant"] = "foo(${long_condition})"  # pyxform passes it; ODK Validate does not
    bad = xlsform_bytes(type(rows)(survey=tuple(survey), choices=rows.choices,
                                   settings=rows.settings))
    convert(bad, validate=False, name="bad.xlsx")
    with pytest.raises(QuestionnaireError, match="rejected the form"):
        convert(bad, validate=True, name="bad.xlsx")


def test_pyxform_rejects_routing_to_a_missing_name(built: Built) -> None:
    lay, _ = _rows(built, "adults")
    rows = xlsform_rows(lay)
    survey = [dict(r) for r in rows.survey]
    next(r for r in survey if r["name"] == "activity_limit")["relevant"] = "${nonexistent} = 'yes'"
    bad = xlsform_bytes(type(rows)(survey=tuple(survey), choices=rows.choices,
                                   settings=rows.settings))
    with pytest.raises(QuestionnaireError, match="nonexistent"):
        convert(bad, name="bad.xlsx")


@pytest.mark.parametrize("form", ["adults", "young_people"])
def test_docx_reread_has_every_question(built: Built, form: str) -> None:
    from docx import Document

    lay, _ = _rows(built, form)
    doc = Document(io.BytesIO(built.files[f"{form_stem(lay)}.docx"]))
    paras = [p.text for p in doc.paragraphs]
    text = "\n".join(paras)
    assert "How we use your answers." in paras[2] and "voluntary" in paras[2]
    pos = -1
    for q in lay.questions:
        head = next(i for i, p in enumerate(paras) if p.startswith(f"Q{q.number}  "))
        assert head > pos, f"Q{q.number} out of order"
        pos = head
        assert q.label in paras[head]
        after = paras[head + 1: head + 2 + len(q.choices) + 12]
        for c in q.choices:
            assert f"☐ {c.label}" in after, (q.number, c.label)
        if q.ask_when:
            assert f"Answer Q{q.number} only if {q.ask_when}." in text
        for s in q.skips:
            assert s in after
    assert section_a4(doc)


def section_a4(doc) -> bool:  # type: ignore[no-untyped-def]
    s = doc.sections[0]
    return abs(s.page_width.mm - 210) < 0.5 and abs(s.page_height.mm - 297) < 0.5


def test_paper_routing_reads_as_instructions(built: Built) -> None:
    lay, _ = _rows(built, "young_people")
    long_q = lay.question("long_condition")
    assert long_q.skips == ("If 'No' or 'Prefer not to say', go to the end",)
    happy = lay.question("happy_yesterday")
    ethnic = lay.question("ethnic_group")
    assert happy.skips == (f"If you are under 16, go to Q{ethnic.number}",)
    assert ethnic.skips == ("If you are under 16, go to the end",)


@pytest.mark.parametrize("form", ["adults", "young_people"])
def test_html_is_printable_and_complete(built: Built, form: str) -> None:
    lay, _ = _rows(built, form)
    page = built.files[f"{form_stem(lay)}.html"].decode()
    assert "@page { size: A4" in page and "How we use your answers." in page
    for q in lay.questions:
        assert f'id="q{q.number}"' in page
    unverified = [q for q in lay.questions if q.wording_status != "verified"]
    assert unverified and "not yet checked" in page
    assert page.count("†") >= len(unverified)


def test_codebook_lists_every_variable(built: Built) -> None:
    import pandas as pd

    book = pd.read_csv(io.BytesIO(built.files["joint-v1-codebook.csv"]), dtype=str,
                       keep_default_na=False)
    for lay in built.layouts:
        rows = book[book["form"] == lay.form.id]
        for q in lay.questions:
            row = rows[rows["variable"] == q.path]
            assert len(row) == 1, q.path
            assert row["routing"].iloc[0] == (q.relevant or "(everyone)")
        assert "about_you_first/age_band" in set(rows["variable"])
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(built.files["joint-v1-codebook.xlsx"]), read_only=True)
    assert "codebook" in wb.sheetnames
    assert wb["codebook"].max_row == len(book) + 1


def test_released_joint_crosswalks_are_what_the_spec_builds(built: Built) -> None:
    lock = read_lock(ROOT / "crosswalks/lock.json")
    for lay in built.layouts:
        for p in lay.spec.partnerships:
            rel = crosswalk_path(p, lay)
            draft = built.files[f"crosswalks/{rel}"].decode()
            released = (ROOT / "crosswalks" / rel).read_text(encoding="utf-8")
            assert released == draft.replace("status: draft", "status: released", 1), (
                f"crosswalks/{rel} differs from what questionnaire/joint-v1.yaml builds")
            cw = load_crosswalk(ROOT / "crosswalks" / rel)
            entry = lock.get(cw.crosswalk, cw.version)
            assert entry is not None and entry.sha256 == sha256_file(ROOT / "crosswalks" / rel)
            assert all(i.comparability == "identical" for i in cw.items)
            assert all(v == k for i in cw.items if i.concept not in ("ethnic_group5",)
                       and i.option is None for k, v in i.recode.items())
