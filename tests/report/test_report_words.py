"""The report speaks English: no internal code in the visible text, names that tell
surveys apart, refusals worded from compare's codes, the synthetic banner only when true."""

from __future__ import annotations

import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harmonise.report import ReportData, render_html, words
from harmonise.report.findings import finding, predicate


class _Visible(HTMLParser):
    """The text a reader sees: no <script>/<style>/<title> contents, no attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def _codes(data: ReportData) -> dict[str, set[str]]:
    schema = data.schema
    return {
        "scale ids": {s.id for s in schema.scales if re.search(r"[\d_]", s.id)},
        "population ids": {p.id for p in schema.populations if "_" in p.id},
        "crosswalk ids": {s.ref for s in data.surveys} | {s.crosswalk for s in data.surveys},
        "indicator ids": {i.id for i in schema.indicators},
        "concept ids": {c.id for c in schema.concepts if "_" in c.id},
    }


@pytest.fixture(scope="module")
def text(bundled_data: ReportData) -> str:
    return visible_text(render_html(bundled_data, charts=False))


def test_no_internal_code_in_the_visible_text(text: str, bundled_data: ReportData) -> None:
    for kind, codes in _codes(bundled_data).items():
        # a file path may contain a crosswalk id (surveys/luton/...), a word may not
        found = sorted(c for c in codes if re.search(rf"(?<![\w/.-]){re.escape(c)}(?![\w@])",
                                                     text))
        assert not found, f"{kind} visible in the report: {found}"
    assert not re.search(r"\[\s*'|'\s*\]|\[\]|\{'", text), "Python list syntax is visible"
    assert "nan" not in text.split() and "None" not in text.split()
    snake = {w for w in re.findall(r"(?<![\w/.-])[a-z]+_[a-z0-9_]+(?![\w.])", text)}
    assert not snake, f"snake_case codes visible: {sorted(snake)[:10]}"


def test_the_check_finds_a_code_when_there_is_one(bundled_data: ReportData) -> None:
    html = render_html(bundled_data, charts=False).replace(
        "</main>", "<p>adults_18plus ['18_34']</p></main>")
    leaked = visible_text(html)
    assert "adults_18plus" in leaked and re.search(r"\[\s*'", leaked)


def test_the_front_page_says_what_a_councillor_needs(text: str) -> None:
    front = text.split("Contents")[0]
    assert front.startswith("Synthetic data: every figure")
    assert "Community safety perceptions: Bedford Borough, Central Bedfordshire and Luton" \
        in front
    assert re.search(r"About 1 in 3 residents aged 18 and over in Bedford Borough "
                     r"\(32%, \d+% to \d+%\) feel very or fairly safe walking alone in their "
                     r"area after dark\.", front)
    assert "Not compared (Bedford Borough and Central Bedfordshire): Bedford Borough asked " \
           "residents aged 18 and over, Central Bedfordshire asked young people aged 11 to 18" \
        in front
    assert "a real difference, higher in Luton residents 2024" in front
    assert "Who feels less safe, and where" in front and "Change over time" in front
    assert "No area stands out from the rest of its survey on feeling safe" in front
    assert "The question changed between waves: the answer scale changed" in front


def test_survey_names_tell_every_survey_apart(bundled_data: ReportData) -> None:
    names = words.survey_names(bundled_data.surveys, bundled_data.schema)
    shorts = [n.short for n in names.values()]
    fulls = [n.full for n in names.values()]
    assert len(set(shorts)) == len(shorts) == len(set(fulls)) == 5
    assert "Luton residents 2025" in shorts and "Luton secondary school pupils" in shorts
    assert "Luton: Residents' community safety survey, 2025" in fulls


def test_title_names_only_the_partnerships_in_the_run(bundled_data: ReportData) -> None:
    luton = tuple(s for s in bundled_data.surveys if s.csp == "luton")
    data = dataclasses.replace(bundled_data, surveys=luton)
    text = visible_text(render_html(data, charts=False))
    assert "Community safety perceptions: Luton " in text
    assert "Bedford" not in text.split("Summary")[0]


def test_synthetic_banner_only_when_every_input_is_synthetic(
    bundled_data: ReportData,
) -> None:
    real = tuple(dataclasses.replace(s, synthetic=False) for s in bundled_data.surveys)
    mixed = (*real[:-1], bundled_data.surveys[-1])
    none_text = visible_text(render_html(dataclasses.replace(bundled_data, surveys=real),
                                         charts=False))
    mixed_text = visible_text(render_html(dataclasses.replace(bundled_data, surveys=mixed),
                                          charts=False))
    assert "Synthetic data" not in none_text and "synthetic" not in none_text.lower()
    assert "Synthetic data: every figure" not in mixed_text
    assert ("Some inputs are synthetic: figures for Luton: Residents' community safety "
            "survey, 2025 come from simulated survey files") in mixed_text


def test_refusals_are_worded_from_codes_not_prose() -> None:
    a = words.Side("Bedford Borough", "residents aged 18 and over", "close", "")
    b = words.Side("Central Bedfordshire", "young people aged 11 to 18", "proxy", "")
    text = words.refusal(["common_age_not_separable", "b_grade_below_floor"], a, b, "18")
    assert text == ("Bedford Borough asked residents aged 18 and over, Central Bedfordshire "
                    "asked young people aged 11 to 18; the ages both cover (18) cannot be "
                    "picked out with the age groups each survey recorded; Central "
                    "Bedfordshire's question is only a proxy for the common measure.")
    assert words.refusal(["a_suppressed"], a, b) == \
        "Too few answers to publish for Bedford Borough."
    assert "fair comparison" in words.refusal(["a_new_code_nobody_knows"], a, b)


def test_sentences_read_as_english() -> None:
    assert predicate("% feeling very or fairly safe walking alone in the area after dark") \
        == "feel very or fairly safe walking alone in their area after dark"
    assert predicate("% with no adult they can trust") == "have no adult they can trust"
    assert predicate("% trolled online in the last 12 months") == \
        "were trolled online in the last 12 months"
    assert finding(0.5, 0.45, 0.55, "young people aged 11 to 18", "Luton",
                   "% saying drugs are a big problem", "2024") == \
        ("In 2024, about half of young people aged 11 to 18 in Luton (50%, 45% to 55%) say "
         "drugs are a big problem.")
    assert [words.share_words(x) for x in (0.32, 0.62, 0.74, 0.08, 0.97)] == [
        "about 1 in 3", "about 3 in 5", "about 3 in 4", "fewer than 1 in 10", "almost all"]
    assert words.category(None, "age_band", "65_plus") == "65 and over"  # type: ignore[arg-type]
    assert words.category(None, "area", "kempston_central") == "Kempston Central"  # type: ignore[arg-type]


def test_a_run_stored_before_the_codes_still_renders_in_words(
    bundled_data: ReportData,
) -> None:
    """Stores written before issue 13 have no reason/caveat/change codes, no subgroup
    table and no routed flag: the report still renders, in words, without codes."""
    tables = dict(bundled_data.tables)
    new = {"reason_codes", "caveat_codes", "common_age", "a_scale", "b_scale"}
    tables["comparisons"] = tables["comparisons"].drop(columns=list(new))
    tables["trends"] = tables["trends"].drop(
        columns=["reason_codes", "change_codes", "from_scale", "to_scale"])
    tables.pop("subgroup_differences")
    surveys = tuple(dataclasses.replace(s, items=tuple(dataclasses.replace(i, routed=False)
                                                       for i in s.items))
                    for s in bundled_data.surveys)
    old = dataclasses.replace(bundled_data, tables=tables, surveys=surveys)
    text = visible_text(render_html(old, charts=False))
    assert "do not meet the rules for a fair comparison" in text
    assert "Who and where" in text and text.count("▲ higher") == 1  # the key only
    assert not re.search(r"adults_18plus|safety5|@v\d|\['", text)


def test_no_internal_code_in_the_charts_or_their_alt_text(
    bundled_report, bundled_data: ReportData,  # type: ignore[no-untyped-def]
) -> None:
    charts = bundled_report / "charts"
    texts = [re.sub(r"<[^>]+>", " ", m) for p in sorted(charts.glob("*.svg"))
             for m in re.findall(r"<(?:text|title|desc)[^>]*>[^<]*</(?:text|title|desc)>",
                                 p.read_text(encoding="utf-8"))]
    alts = [line.split(": ", 1)[1] for line in
            (charts / "alt-text.txt").read_text(encoding="utf-8").splitlines()]
    text = " ".join(texts + alts)
    assert len(texts) > 200 and len(alts) > 10
    for kind, codes in _codes(bundled_data).items():
        found = sorted(c for c in codes if re.search(rf"(?<![\w/.-]){re.escape(c)}(?![\w@])",
                                                     text))
        assert not found, f"{kind} in the charts: {found}"
    assert not re.findall(r"(?<![\w/.-])[a-z]+_[a-z0-9_]+(?![\w.])", text)
    assert not re.search(r"\[\s*'|'\s*\]", text)


def test_two_surveys_of_one_partnership_people_and_year_are_still_told_apart(
    bundled_data: ReportData,
) -> None:
    luton = next(s for s in bundled_data.surveys if s.ref == "luton-residents-2024@v1")
    other = dataclasses.replace(luton, ref="luton-online-2024@v1", crosswalk="luton-online-2024",
                                instrument="Online panel survey")
    names = words.survey_names((luton, other), bundled_data.schema)
    assert names[luton.ref].short != names[other.ref].short
    assert names[other.ref].short == "Luton: Online panel survey, 2024"


@pytest.mark.parametrize(("diff", "low", "high", "expected"), [
    (-0.31, -0.36, -0.26, "B 31 points higher (26 to 36)"),
    (0.05, 0.01, 0.09, "A 5 points higher (1 to 9)"),
    (-0.02, -0.06, 0.02, "B 2 points higher (-2 to 6)"),
])
def test_a_difference_reads_in_one_direction(diff: float, low: float, high: float,
                                             expected: str) -> None:
    """The comparisons table said "31 points (-36 to -26)": a size and its interval with
    opposite signs."""
    from harmonise.report.findings import _difference_words

    assert _difference_words(diff, low, high, "A", "B") == expected


def test_who_and_where_includes_tick_all_that_apply_options(bundled_report: Path) -> None:
    """The strongest within-survey difference of the bundled run is an option of a
    tick-all question (harassment of women and girls, by sex): it must be in Who and
    where, marked, not only in estimates.csv."""
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    who = html[html.index('id="who"'):]
    row = who[who.index("Harassment of women and girls"):][:600]
    assert "▲ higher" in row and "▼ lower" in row


def test_who_and_where_cells_give_their_base(bundled_report: Path) -> None:
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    who = html[html.index('id="who"'):]
    assert re.search(r"\d+% \(\d+% to \d+%\), [\d,]+ answers", who)


@pytest.mark.parametrize(("share", "start"), [
    (0.48, "About half of residents"), (0.53, "More than half of residents"),
    (0.45, "Nearly half of residents"), (0.56, "Nearly 3 in 5 residents")])
def test_a_share_reads_as_a_sentence(share: float, start: str) -> None:
    assert finding(share, share - 0.03, share + 0.03, "residents", "Luton",
                   "% feeling safe").startswith(start)


def test_who_sentences_cover_every_survey_first_and_give_an_interval(
        bundled_report: Path) -> None:
    """The summary listed Bedford's and Central Bedfordshire's differences and hid Luton's
    larger ones; now each survey's largest comes first, with the group's interval."""
    html = (bundled_report / "index.html").read_text(encoding="utf-8")
    start = html.index("Who feels less safe")
    items = re.findall(r"<li[^>]*>([^<]*share of[^<]*)</li>", html[start:start + 20000])
    assert items
    surveys = [i.split(":")[0] for i in items]
    distinct = list(dict.fromkeys(surveys))
    assert surveys[:len(distinct)] == distinct  # every survey once before any repeats
    assert all(re.search(r"\(\d+%, \d+% to \d+%\)", i) for i in items)
