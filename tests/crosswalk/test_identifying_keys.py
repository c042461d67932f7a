"""A crosswalk is published: validation refuses keys that carry personal data."""

from __future__ import annotations

from harmonise.crosswalk.dump import dump_crosswalk
from harmonise.crosswalk.validate import check_crosswalk
from helpers import crosswalk, safe_item


def test_an_email_key_is_an_error_that_does_not_repeat_the_value(schema) -> None:  # type: ignore[no-untyped-def]
    cw = crosswalk([safe_item(missing={98: "dont_know", "(blank)": "no_answer",
                                       "jane.doe@example.com": "no_answer"})])
    report = check_crosswalk(dump_crosswalk(cw), "t.v1.yaml", schema=schema)
    rows = [i for i in report.issues if i.code == "identifying-value"]
    assert len(rows) == 1 and rows[0].item == "q1"
    assert "jane.doe" not in rows[0].message and "jane.doe" not in rows[0].value
    assert not report.valid


def test_ordinary_keys_pass(schema) -> None:  # type: ignore[no-untyped-def]
    report = check_crosswalk(dump_crosswalk(crosswalk([safe_item()])), "t.v1.yaml",
                             schema=schema)
    assert not [i for i in report.issues if i.code == "identifying-value"]
