"""A small *not asked* count of a routed item cannot be worked out from published figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonise.disclosure.counts import audit_families, suppress_counts
from harmonise.disclosure.linked import apply_release_disclosure
from harmonise.models.harmonised import EstimateTable
from harmonise.models.run import RunResult
from helpers import indicator_tables

Key = tuple[str, str]


def _people(cells: dict[str, tuple[int, int, int, int]]) -> pd.DataFrame:
    """Respondents per sex: (successes, other answers, refused, not asked)."""
    recs = []
    for sex, (yes, no, refused, not_asked) in cells.items():
        recs += [(sex, "yes")] * yes + [(sex, "no")] * no
        recs += [(sex, "refused")] * refused + [(sex, "not_asked")] * not_asked
    return pd.DataFrame(recs, columns=["sex", "answer"])


def _release(people: pd.DataFrame) -> tuple[list[EstimateTable], dict[str, dict[Key, np.ndarray]]]:
    groups: dict[Key, np.ndarray] = {("all", "all"): np.ones(len(people), dtype=bool)}
    for s in dict.fromkeys(people["sex"]):
        groups[("sex", str(s))] = (people["sex"] == s).to_numpy()
    recs = []
    for (gv, g), m in groups.items():
        a = people["answer"][m]
        recs.append({"group_var": gv, "group": g, "n": int(a.isin(["yes", "no"]).sum()),
                     "n_success": int((a == "yes").sum()),
                     "n_out_of_base": int((a == "refused").sum())})
    body = pd.DataFrame(recs)
    share = body["n_out_of_base"] / (body["n"] + body["n_out_of_base"])
    return indicator_tables(body, out_of_base_share=share), {"cw@v1": groups}


def _not_asked_from(row: pd.Series, size: int) -> float:
    """What an intruder gets for the not-asked count: NaN when a figure is withheld."""
    return float(size - row["n"] - row["n_out_of_base"])


def _row(t: EstimateTable, gv: str, g: str) -> pd.Series:
    r = t.rows
    hit: pd.Series = r[(r["group_var"] == gv) & (r["group"] == g)].iloc[0]
    return hit


def test_reviewers_example_is_no_longer_recoverable() -> None:
    people = _people({"f": (25, 30, 6, 1), "m": (25, 30, 6, 2)})  # not asked 3, refused 12
    tables, masks = _release(people)
    before = _row(tables[0], "all", "all")
    assert _not_asked_from(before, len(people)) == 3  # sample size - n - n_out_of_base
    for t in apply_release_disclosure(tables, masks):
        row = _row(t, "all", "all")
        assert not row["suppressed"] and row["n"] == 110 and row["estimate"] == 50 / 110
        assert np.isnan(row["n_out_of_base"]) and np.isnan(row["out_of_base_share"])
        assert np.isnan(_not_asked_from(row, len(people)))
        # no group's not-asked count either, nor the difference of two groups'
        for s in ("f", "m"):
            assert np.isnan(_row(t, "sex", s)["n_out_of_base"])


def test_routed_subgroup_with_little_else_out_of_the_base_is_suppressed() -> None:
    # women: 4 not asked, nobody refused, so size - n = 4 would give the routing away
    people = _people({"f": (40, 40, 0, 4), "m": (40, 40, 15, 60)})
    tables, masks = _release(people)
    out = apply_release_disclosure(tables, masks)
    for t in out:
        f, m, total = _row(t, "sex", "f"), _row(t, "sex", "m"), _row(t, "all", "all")
        assert f["suppressed"] and f["suppression_kind"] == "primary"
        assert "not asked" in f["suppression_reason"] and np.isnan(f["n"])
        # its complement goes too, or all minus men would give women's n back
        assert m["suppressed"]
        assert not total["suppressed"] and np.isnan(total["n_out_of_base"])


def test_no_small_not_asked_count_changes_nothing() -> None:
    people = _people({"f": (40, 40, 12, 30), "m": (40, 40, 15, 0)})
    tables, masks = _release(people)
    out = apply_release_disclosure(tables, masks)
    for t in out:
        assert not t.rows["suppressed"].any()
        assert t.rows["n_out_of_base"].notna().all()
        assert t.rows["n"].tolist() == tables[0].rows["n"].tolist()


@pytest.fixture(scope="module")
def bundled(bundled_run: RunResult) -> RunResult:
    return bundled_run


def test_audit_blank_not_asked_takes_a_missing_type_count_with_it(bundled: RunResult) -> None:
    ref = next(ws.survey.crosswalk.ref for ws in bundled.surveys
               if ws.survey.crosswalk.ref.startswith("bedford"))
    counts = {"not_asked": 3, "refused": 40, "not_selected": 62, "selected": 20}
    audit = pd.DataFrame({
        "crosswalk": ref, "item": "q3_1", "concept": "unsafe_reasons", "option": "drugs",
        "target": list(counts), "count": list(counts.values()),
        "target_kind": ["missing", "missing", "category", "category"]})
    est = pd.DataFrame([{"crosswalk": ref, "indicator": "unsafe_reasons_selected",
                         "option": "drugs", "group_var": "all", "group": "all",
                         "n": 82, "n_success": 20, "n_out_of_base": np.nan,
                         "suppressed": False}])
    families = audit_families(audit, est, bundled.schema, bundled.surveys)
    size, n = sum(counts.values()), 82

    def recoverable(fams: list) -> bool:  # type: ignore[type-arg]
        out = suppress_counts(audit, "count", fams, 10).set_index("target")["count"]
        shown = out.drop("not_asked")
        return bool(np.isnan(out["not_asked"]) and shown[["refused"]].notna().all()
                    and size - n - shown["refused"] == 3)

    old = [f for f in families if not f.label.startswith("sample size minus base")]
    assert len(old) < len(families)
    assert recoverable(old)  # before: the blank came back as size - n - refused
    assert not recoverable(families)
