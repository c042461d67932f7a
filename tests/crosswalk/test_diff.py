"""``harmonise crosswalk diff``: what changed between two versions, in words."""

from __future__ import annotations

import json

from harmonise.crosswalk.diff import diff_crosswalks
from helpers import crosswalk, safe_item


def test_identical_versions_have_no_changes() -> None:
    cw = crosswalk([safe_item()])
    assert diff_crosswalks(cw, cw).to_text() == "test-survey@v1 -> test-survey@v1: no changes\n"


def test_every_kind_of_change_is_said_in_words() -> None:
    a = crosswalk([safe_item(), safe_item(id="q2", source="Q2", concept="safe_area_day")])
    b = crosswalk(
        [safe_item(recode={1: "very_safe", 2: "fairly_safe", 3: "fairly_safe",
                           4: "fairly_unsafe", 6: "very_unsafe"},
                   missing={98.0: "refused", "(blank)": "no_answer"},
                   comparability="proxy", note="now a proxy"),
         safe_item(id="q3", source="Q3", concept="safe_towncentre_dark")],
        version=2, changelog=("v2: q1 regraded",),
    )
    d = diff_crosswalks(a, b)
    assert [c.text for c in d.changes] == [
        "version changed from 1 to 2",
        "changelog entry added: v2: q1 regraded",
        "item q2 removed (was safe_area_day from 'Q2', grade close)",
        "item q1: grade lowered from close to proxy",
        "item q1: note changed from '5-point with midpoint' to 'now a proxy'",
        "item q1: recode 3 now goes to fairly_safe (was neither)",
        "item q1: recode 5 -> very_unsafe removed",
        "item q1: recode 6 -> very_unsafe added",
        "item q1: missing 98 now goes to refused (was dont_know)",
        "item q3 added: safe_towncentre_dark from 'Q3', 5 recode + 2 missing entries, "
        "grade close",
    ]
    assert d.counts["recode-changed"] == 1
    payload = json.loads(d.to_json())
    assert payload["a"] == "test-survey@v1" and payload["b"] == "test-survey@v2"
    grade = next(c for c in payload["changes"] if c["kind"] == "grade-changed")
    assert grade == {"kind": "grade-changed", "item": "q1", "field": "comparability",
                     "key": "", "before": "close", "after": "proxy",
                     "text": "item q1: grade lowered from close to proxy"}
