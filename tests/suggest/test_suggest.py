"""The concept suggester: facets, recode proposals, ranking, none, the labelled set, CLI.

Every test runs the lexical method; tests marked with ``MODEL`` also run the wordllama
model when the ``suggest`` extra is installed (``make test`` installs it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.crosswalk.io import load_schema
from harmonise.ingest import read_survey
from harmonise.models.schema import Schema
from harmonise.suggest.embed import installed, load_embedder
from harmonise.suggest.evaluate import evaluate, read_labelled
from harmonise.suggest.facets import read_facets
from harmonise.suggest.rank import Question, Suggester
from harmonise.suggest.scales import missing_type, propose_recode, scale_shape
from harmonise.suggest.survey import survey_questions

ROOT = Path(__file__).resolve().parents[2]
LABELLED = ROOT / "tests/data/suggest/labelled.csv"
METHODS = ["lexical"] + [m for m in ("wordllama", "minilm") if installed(m)]
S4 = ("Very safe", "Fairly safe", "A bit unsafe", "Very unsafe", "Don't know")


@pytest.fixture(scope="module")
def schema() -> Schema:
    return load_schema(ROOT / "crosswalks/schema/perception-v1.yaml")


@pytest.fixture(scope="module", params=METHODS)
def suggester(request: pytest.FixtureRequest, schema: Schema) -> Suggester:
    return Suggester(schema, request.param)


def one(s: Suggester, text: str, options: tuple[str, ...] = (), multi: bool = False):  # type: ignore[no-untyped-def]
    return s.suggest([Question(text, options, multi=multi)])[0]


# --- facets ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "time", "place", "period"), [
    ("How safe do you feel walking alone in this area after dark?", "dark", "area", None),
    ("How safe do you feel in Bedford town centre during the day?", "day", "town_centre", None),
    ("In the last 12 months, have you been trolled online?", None, "online", "12_months"),
    ("How safe do you feel at home alone at night?", "dark", "home", None),
    ("How safe do you feel in a quiet street near your home after dark?", "dark", "area", None),
    ("Have you ever been bullied at school?", None, "school", "ever"),
    ("How safe do you feel on public transport?", None, "public_transport", None),
])
def test_facets_read_from_wording(text: str, time: str | None, place: str | None,
                                  period: str | None) -> None:
    f = read_facets(text)
    assert (f.time, f.place, f.period) == (time, place, period)


def test_polarity_and_scale_shape() -> None:
    assert read_facets("How unsafe do you feel?").polarity == "negative"
    assert read_facets("How safe or unsafe do you feel?").polarity == "both"
    assert read_facets("I do not feel safe walking alone").polarity == "negated_statement"
    shape = scale_shape(("Very safe", "Safe", "Neither safe nor unsafe", "Unsafe",
                         "Very unsafe", "Don't know"))
    assert shape is not None and (shape.points, shape.midpoint, shape.family) == (
        5, True, "safety")
    assert shape.missing == ("dont_know",)
    assert scale_shape(tuple(str(i) for i in range(11))).family == "ls11"  # type: ignore[union-attr]
    assert scale_shape(("11", "12", "13")).family == "age"  # type: ignore[union-attr]
    assert read_facets("Which year are you in?", ("Year 7", "Year 8")).universe == "pupils"


# --- recode proposals --------------------------------------------------------------------

def test_recode_proposal_marks_uncertain_lines(schema: Schema) -> None:
    prop = propose_recode(("Very safe", "Safe", "Neither safe nor unsafe", "Unsafe",
                           "Very unsafe", "Don't know", "Not answered"), schema.scale("safety5"))
    got = {ln.label: (ln.target, ln.status) for ln in prop.lines}
    assert got["Very safe"] == ("very_safe", "exact")
    assert got["Neither safe nor unsafe"] == ("neither", "exact")
    assert got["Safe"] == ("fairly_safe", "likely")  # a bare "Safe": left for review
    assert got["Unsafe"] == ("fairly_unsafe", "likely")
    assert got["Don't know"] == ("dont_know", "missing")
    assert got["Not answered"] == ("no_answer", "missing")
    assert set(prop.to_review) == {"Safe", "Unsafe"} and not prop.reversed
    odd = propose_recode(("Brilliant", "Very safe"), schema.scale("safety4"))
    assert odd.lines[0].target is None and odd.lines[0].status == "review"


def test_reversed_scale_is_flagged(schema: Schema) -> None:
    prop = propose_recode(("Very unsafe", "A bit unsafe", "Fairly safe", "Very safe"),
                          schema.scale("safety4"))
    assert prop.reversed and [ln.target for ln in prop.lines] == [
        "very_unsafe", "a_bit_unsafe", "fairly_safe", "very_safe"]
    assert missing_type("Not sure", "certainty4") is None  # a point of that scale
    assert missing_type("Not sure") == "dont_know"


# --- ranking ------------------------------------------------------------------------------

def test_day_and_dark_are_never_confused(suggester: Suggester) -> None:
    dark = one(suggester, "How safe do you feel walking alone in your area after dark?", S4)
    day = one(suggester, "How safe do you feel walking alone in your area during the day?", S4)
    assert (dark.suggestion, day.suggestion) == ("safe_area_dark", "safe_area_day")
    assert "safe_area_day" in {c.concept for c in dark.ruled_out}
    reason = next(c for c in dark.ruled_out if c.concept == "safe_area_day").reasons[0]
    assert reason.startswith("time differs")


def test_place_mismatch_rules_out(suggester: Suggester) -> None:
    town = one(suggester, "How safe do you feel in Luton town centre after dark?", S4)
    assert town.suggestion == "safe_towncentre_dark"
    transport = one(suggester, "How safe do you feel on public transport after dark?", S4)
    assert transport.suggestion == "none"
    assert all(not c.concept.startswith("safe_") for c in transport.candidates
               if c.score >= 0.3)


def test_unsafe_wording_is_flagged_not_silently_matched(suggester: Suggester) -> None:
    res = one(suggester, "How unsafe do you feel walking alone in this area after dark?",
              ("Very unsafe", "Fairly unsafe", "Fairly safe", "Very safe"))
    assert res.suggestion == "safe_area_dark" and res.best is not None
    assert any("reversed" in f for f in res.best.flags)


def test_questions_the_schema_does_not_hold_are_none(suggester: Suggester) -> None:
    for text, options in [
        ("How worried are you about having your home broken into?",
         ("Very worried", "Fairly worried", "Not very worried", "Not at all worried")),
        ("How much of a problem is litter in your area?",
         ("A very big problem", "A fairly big problem", "Not a very big problem",
          "Not a problem at all")),
        ("Overall, how happy did you feel yesterday?", tuple(str(i) for i in range(11))),
        ("Colour of your front door?", ()),
    ]:
        assert one(suggester, text, options).suggestion == "none", text


def test_sex_from_options_and_tick_boxes_as_one_question(suggester: Suggester) -> None:
    assert one(suggester, "Are you…?", ("Female", "Male")).suggestion == "sex"
    res = one(suggester, "Which of the following would make you feel safer?",
              ("More police patrols", "Better lighting", "CCTV", "Youth clubs"), multi=True)
    assert res.suggestion == "safer_measures"
    assert res.best is not None and res.best.option_fit is not None and \
        res.best.option_fit >= 0.75


def test_bundled_exports_including_tick_box_groups(schema: Schema) -> None:
    survey = read_survey(ROOT / "surveys/bedford/bedford-residents-2024.sav")
    asked = survey_questions(survey)
    group = next(sq for sq in asked if len(sq.columns) > 1)
    assert group.question.is_multi and len(group.question.options) == 6
    assert "tick all" in group.question.text and ":" not in group.question.text[-3:]
    got = {sq.columns[0]: r.suggestion for sq, r in zip(
        asked, Suggester(schema, "lexical").suggest([sq.question for sq in asked]),
        strict=True)}
    assert got == {"WARD": "area", "AGEBAND": "age_band", "SEX": "sex",
                   "Q1A": "safe_area_day", "Q1B": "safe_area_dark",
                   "Q2A": "safe_towncentre_day", "Q2B": "safe_towncentre_dark",
                   "Q3_1": "unsafe_reasons"}


# --- the labelled set --------------------------------------------------------------------

def test_labelled_set_is_large_sourced_and_valid(schema: Schema) -> None:
    items = read_labelled(LABELLED)
    assert len(items) >= 250
    ids = {c.id for c in schema.concepts} | {"none"}
    assert {i.concept for i in items} <= ids
    assert sum(i.concept == "none" for i in items) >= 80
    kinds = {i.kind for i in items}
    assert kinds <= {"bundled", "verbatim", "verbatim-expanded", "reported", "constructed"}
    sources = (LABELLED.parent / "SOURCES.md").read_text(encoding="utf-8")
    import csv
    with LABELLED.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["kind"] != "constructed":
                assert f"`{row['source']}`" in sources, row["source"]
            else:
                assert row["source"] == "constructed"


@pytest.mark.parametrize("method", METHODS)
def test_accuracy_on_the_labelled_set(schema: Schema, method: str) -> None:
    ev = evaluate(read_labelled(LABELLED), Suggester(schema, method))
    assert ev.top1 >= 0.85 and ev.top3 >= 0.93, ev.as_dict()
    assert ev.day_dark_confusions == 0
    plain = evaluate(read_labelled(LABELLED), Suggester(schema, method, facets=False))
    assert ev.top1 > plain.top1 + 0.05  # the facets are what makes it work
    assert ev.decoy_error < plain.decoy_error


# --- model and command ---------------------------------------------------------------------

@pytest.mark.skipif(not installed("wordllama"), reason="the suggest extra is not installed")
def test_model_loads_offline_and_embeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    emb = load_embedder("wordllama")
    assert emb is not None
    vecs = emb.embed(["How safe do you feel after dark?", "What is your sex?"])
    assert vecs.shape == (2, 256)
    assert abs(float((vecs[0] ** 2).sum()) - 1.0) < 1e-4


@pytest.mark.skipif(not installed("minilm"), reason="the suggest-minilm extra is not installed")
def test_minilm_weights_are_hash_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    import harmonise.suggest.embed as embed

    monkeypatch.setitem(embed.MINILM_SHA256, "model.safetensors", "0" * 64)
    with pytest.raises(embed.SuggestModelError, match="not the upstream"):
        load_embedder("minilm")


def test_lexical_fallback_says_so(schema: Schema, monkeypatch: pytest.MonkeyPatch) -> None:
    import harmonise.suggest.embed as embed

    monkeypatch.setattr(embed.importlib.util, "find_spec", lambda name: None)
    s = Suggester(schema, "auto")
    assert s.method == "lexical+facets"
    from harmonise.suggest.embed import SuggestModelError
    with pytest.raises(SuggestModelError, match="not installed"):
        Suggester(schema, "wordllama")


def test_cli_text_json_and_questions_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["suggest", "--root", str(ROOT), "--text",
                               "How safe do you feel in the town centre after dark?",
                               "--options", "|".join(S4), "--json", "--method", "lexical"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    q = out["questions"][0]
    assert out["method"] == "lexical+facets" and q["suggestion"] == "safe_towncentre_dark"
    assert q["facets"]["time"] == "dark" and q["facets"]["place"] == "town_centre"
    assert q["candidates"][0]["recode"]["lines"][0] == {
        "label": "Very safe", "target": "very_safe", "status": "exact"}
    csv_file = tmp_path / "q.csv"
    csv_file.write_text("question_text,response_options\n"
                        "What is your sex?,Female|Male\n"
                        "How worried are you about burglary?,Very worried|Not worried\n",
                        encoding="utf-8")
    res = runner.invoke(main, ["suggest", "--root", str(ROOT), "--questions", str(csv_file),
                               "--method", "lexical"])
    assert res.exit_code == 0, res.output
    assert "→ sex" in res.output and "→ none" in res.output and "method: lexical" in res.output
    bad = tmp_path / "bad.csv"
    bad.write_text("text\nhello\n", encoding="utf-8")
    res = runner.invoke(main, ["suggest", "--root", str(ROOT), "--questions", str(bad)])
    assert res.exit_code == 2 and "question_text" in res.output
    res = runner.invoke(main, ["suggest", "--root", str(ROOT)])
    assert res.exit_code == 2 and "exactly one" in res.output


def test_draft_crosswalk_writes_suggestions_with_score_and_reasons(schema: Schema) -> None:
    import yaml

    from harmonise.crosswalk.draft import draft_crosswalk, draft_summary

    survey = read_survey(ROOT / "surveys/luton/pupils-2024.dta")
    text = draft_crosswalk(survey, schema, method="lexical")
    raw = yaml.safe_load(text)
    items = {i["source"]: i for i in raw["items"]}
    assert items["SAFEDARK"]["concept"] == "pupil_safety_dark"
    assert items["SAFEDARK"]["scale"] == "rating4"
    assert items["SAFEDARK"]["recode"] == {1: "very_good", 2: "good", 3: "poor", 4: "very_poor"}
    assert items["SAFEDARK"]["comparability"] == "unassessed"  # a person must grade it
    note = items["SAFEDARK"]["note"]
    assert "suggested pupil_safety_dark (score" in note and "time matches" in note
    assert items["SCHOOL"]["concept"] is None  # nothing fits: no nearest neighbour
    line = next(ln for ln in text.splitlines() if "concept: pupil_safety_dark" in ln)
    assert "# suggested: score" in line and "lexical+facets" in line
    assert draft_summary(text)["suggested"] == sum(
        1 for i in raw["items"] if i["concept"] is not None)


def test_period_universe_and_scale_differences_demote_with_reasons(schema: Schema) -> None:
    s = Suggester(schema, "lexical")
    ever, last = s.suggest([Question("Have you ever been trolled online?", ("Yes", "No")),
                            Question("In the last 12 months, have you been trolled online?",
                                     ("Yes", "No"))])
    assert ever.suggestion == last.suggestion == "online_trolled"
    assert ever.best is not None and last.best is not None
    assert any(r.startswith("period differs: question ever") for r in ever.best.reasons)
    assert ever.best.score < last.best.score
    pupils = one(s, "As a pupil, how safe do you feel walking around your area after dark?", S4)
    assert pupils.suggestion == "safe_area_dark" and pupils.best is not None
    assert any("universe differs: pupils vs adults" in r for r in pupils.best.reasons)
    worried = one(s, "How worried are you about serious violence in your area?",
                  ("Very worried", "Fairly worried", "Not very worried", "Not at all worried"))
    assert worried.suggestion == "sv_concern"  # worried ~ concerned: kindred scales
    rating = one(s, "How would you rate your safety when you go out after dark where you live?",
                 ("Very safe", "Fairly safe", "A bit unsafe", "Very unsafe"))
    pupil = next(c for c in rating.candidates if c.concept == "pupil_safety_dark")
    assert any(r.startswith("response scale differs") for r in pupil.reasons)
