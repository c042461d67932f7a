"""Sample sizes against R's power.prop.test; margins, design effects and allocations against
hand-worked examples; allocation invariants as properties."""

from __future__ import annotations

import math
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harmonise.errors import PlanningError
from harmonise.questionnaire.samplesize import (
    ALLOCATION_METHODS,
    PowerGoal,
    Stratum,
    allocate,
    allocation_shares,
    clustering_deff,
    compare_allocations,
    detectable_difference,
    icc_anova,
    kish_deff,
    margin_of_error,
    n_for_margin,
    n_two_proportions,
    plan_partnership,
    round_to_total,
)
from rpower import CACHE, CASES, PowerCase, read, run_r

TOL = 1e-6
Z = 1.959963984540054


@cache
def cached() -> dict[str, float]:
    return read(CACHE)


def ours(case: PowerCase) -> float:
    if case.solve == "n":
        return n_two_proportions(case.p2 - case.p1, case.p1, alpha=case.alpha, power=case.power)
    return case.p1 + detectable_difference(case.n, case.p1, alpha=case.alpha, power=case.power)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_two_proportion_size_matches_cached_r(case: PowerCase) -> None:
    assert ours(case) == pytest.approx(cached()[case.id], rel=TOL)


@pytest.mark.needs_r
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript not found (make r-deps)")
def test_live_r_agrees_with_cache_and_with_us(tmp_path: Path) -> None:
    rscript = shutil.which("Rscript")
    assert rscript is not None
    live = run_r(tmp_path, rscript)
    for case in CASES:
        assert live[case.id] == pytest.approx(cached()[case.id], rel=1e-9), case.id
        assert ours(case) == pytest.approx(live[case.id], rel=TOL), case.id


def test_difference_sign_and_ratio() -> None:
    up = n_two_proportions(0.05, 0.5)
    assert n_two_proportions(-0.05, 0.55) == pytest.approx(up)
    # unequal groups: the first group of a 1:4 split needs fewer than a 1:1 pair's group
    assert n_two_proportions(0.05, 0.5, ratio=4) < up < n_two_proportions(0.05, 0.5, ratio=0.25)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"difference": 0.0, "p": 0.5}, "non-zero"),
    ({"difference": 0.6, "p": 0.5}, "(0, 1)"),
    ({"difference": 0.05, "p": 1.5}, "p must be"),
    ({"difference": 0.05, "p": 0.5, "power": 1.0}, "power must be"),
])
def test_bad_inputs_say_what_to_do(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(PlanningError, match=re_escape(message)):
        n_two_proportions(**kwargs)  # type: ignore[arg-type]


def re_escape(text: str) -> str:
    import re

    return re.escape(text)


def test_margin_of_error_hand_worked() -> None:
    # z sqrt(p q / n) = 1.959964 * sqrt(0.25 / 1067) = 0.030001
    assert margin_of_error(1067) == pytest.approx(Z * math.sqrt(0.25 / 1067), rel=1e-12)
    assert margin_of_error(1067) == pytest.approx(0.030001, abs=1e-6)
    # design effect 1.5 and fpc with N = 10,000 at n = 1,000: sqrt(1.5 * 0.9) more
    assert margin_of_error(1000, deff=1.5, population=10_000) == pytest.approx(
        Z * math.sqrt(0.25 / 1000 * 1.5 * 0.9), rel=1e-12)
    # n for ±3 points: z² / (4 × 0.0009) = 1067.07; with N = 5,000: n0 / (1 + n0 / N)
    assert n_for_margin(0.03) == pytest.approx(Z**2 * 0.25 / 0.0009, rel=1e-12)
    n0 = Z**2 * 0.25 / 0.0009
    assert n_for_margin(0.03, population=5000) == pytest.approx(n0 / (1 + n0 / 5000))
    assert margin_of_error(n_for_margin(0.04, 0.3, deff=1.4), 0.3, deff=1.4) == pytest.approx(
        0.04)


def test_kish_deff_hand_worked() -> None:
    # 50/30/20 split of weights 1/2/4: 10 × 49 / 19² = 1.35734
    w = [1.0] * 5 + [2.0] * 3 + [4.0] * 2
    assert kish_deff(w) == pytest.approx(490 / 361, rel=1e-12)
    assert kish_deff([3.0] * 7) == pytest.approx(1.0)
    with pytest.raises(PlanningError):
        kish_deff([1.0, 0.0])


def test_icc_anova_hand_worked() -> None:
    # clusters {1,1,0,0} and {1,1,1,1}: MSB = 0.5, MSW = 1/6, m0 = 4 -> (1/3) / 1 = 1/3
    y = [1, 1, 0, 0, 1, 1, 1, 1]
    g = ["a"] * 4 + ["b"] * 4
    assert icc_anova(y, g) == pytest.approx(1 / 3, rel=1e-12)
    # identical cluster means: MSB = 0, so rho = -MSW / ((m0 - 1) MSW) = -1 / (m0 - 1)
    assert icc_anova([1, 0, 1, 0], [1, 1, 2, 2]) == pytest.approx(-1.0)
    with pytest.raises(PlanningError, match="2 clusters"):
        icc_anova([1, 0, 1], [1, 1, 1])


def test_clustering_deff() -> None:
    assert clustering_deff(30, 0.01) == pytest.approx(1.29)
    assert clustering_deff(30, -0.2) == 1.0  # a negative ICC is not counted on
    assert clustering_deff(20, 0.05, cv_sizes=0.5) == pytest.approx(1 + (1.25 * 20 - 1) * 0.05)


def test_partnership_plan_rounds_up() -> None:
    goal = PowerGoal(difference=0.05, p=0.5, response_rate=0.25)
    plan = plan_partnership(goal, csp="x", csp_name="X", form="adults", deff=1.5)
    assert plan.n_srs == pytest.approx(1564.672, abs=1e-3)
    assert plan.respondents == 2348  # ceil(2347.008)
    assert plan.invited == 9392
    assert plan.margin == pytest.approx(Z * math.sqrt(1.5 * 0.25 / 2348))
    with pytest.raises(PlanningError, match="response rate"):
        PowerGoal(response_rate=0.0)


# --- allocations: hand-worked examples -------------------------------------------------

BEDS = [Stratum("bedford", "Bedford", 185_224), Stratum("central-beds", "Central Beds", 294_252),
        Stratum("luton", "Luton", 225_255)]


def test_proportional_census_hand_worked() -> None:
    # 3000 N_h / 704,731 = 788.488, 1252.614, 958.898; floors add to 2998; the two largest
    # remainders (.898 Luton, .614 Central Beds) get one more each
    a = allocate(3000, BEDS, "proportional")
    assert a.ideal == pytest.approx((788.4881, 1252.6141, 958.8978), abs=1e-4)
    assert a.n == (788, 1253, 959)
    assert a.county_deff == pytest.approx(1.0, abs=1e-3)


def test_neyman_hand_worked() -> None:
    # sigma = 0.5, 0.4, 0.3 (p = 0.5, 0.2, 0.1): N sigma = 500, 800, 2100 of 3400 -> 50/80/210
    strata = [Stratum("a", "A", 1000, p=0.5), Stratum("b", "B", 2000, p=0.2),
              Stratum("c", "C", 7000, p=0.1)]
    assert allocate(340, strata, "neyman").n == (50, 80, 210)
    # a design effect counts as a larger sigma: deff 4 doubles it
    strata[0] = Stratum("a", "A", 1000, p=0.5, deff=4.0)
    assert allocation_shares("neyman", strata) == pytest.approx((1000 / 3900, 800 / 3900,
                                                                2100 / 3900))


def test_power_allocation_hand_worked() -> None:
    strata = [Stratum("a", "A", 100), Stratum("b", "B", 400), Stratum("c", "C", 900)]
    # sqrt(N) = 10, 20, 30 of 60
    assert allocate(60, strata, "power", parameter=0.5).n == (10, 20, 30)
    assert allocate(60, strata, "power", parameter=0.0).n == (20, 20, 20)
    assert allocate(70, strata, "power", parameter=1.0).n == allocate(70, strata, "neyman").n


def test_kish_compromise_hand_worked() -> None:
    # W = 0.1, 0.3, 0.6; I = 1: sqrt(1/9 + W²) = 0.348010, 0.448454, 0.686375 (sum 1.482839)
    # of 1000: 234.69, 302.43, 462.88 -> floors 998 -> +1 to .88 and .69 -> 235, 302, 463
    strata = [Stratum("a", "A", 1000), Stratum("b", "B", 3000), Stratum("c", "C", 6000)]
    a = allocate(1000, strata, "kish", parameter=1.0)
    assert a.ideal == pytest.approx((234.69, 302.43, 462.88), abs=0.01)
    assert a.n == (235, 302, 463)
    assert allocate(999, strata, "kish", parameter=0.0).n == (333, 333, 333)


def test_equal_ties_go_to_the_larger_population() -> None:
    assert allocate(10, BEDS, "equal").n == (3, 4, 3)
    assert round_to_total([1, 1, 1], 10) == (4, 3, 3)  # no tie-break: the first


def test_minimum_and_population_caps() -> None:
    strata = [Stratum("a", "A", 100), Stratum("b", "B", 1000), Stratum("c", "C", 10000)]
    # ideal 2.7, 27.0, 270.3; the first two are held at 50 and the rest go to the third
    assert allocate(300, strata, "proportional", minimum=50).n == (50, 50, 200)
    small = [Stratum("a", "A", 10), Stratum("b", "B", 1000)]
    assert allocate(100, small, "equal").n == (10, 90)  # never more than the population
    with pytest.raises(PlanningError, match="at least 200"):
        allocate(300, strata, "equal", minimum=200)
    with pytest.raises(PlanningError, match="unknown allocation"):
        allocate(300, strata, "random")


def test_margins_per_partnership_and_county_hand_worked() -> None:
    strata = [Stratum("a", "A", 1000), Stratum("b", "B", 3000)]
    a = allocate(400, strata, "proportional")
    assert a.n == (100, 300)
    # county: sum W² .25 / n (1 - f) = .0625*.25/100*.9 + .5625*.25/300*.9 = 0.0005625
    assert a.county_margin == pytest.approx(Z * math.sqrt(0.0005625), rel=1e-12)
    assert a.margins[0] == pytest.approx(Z * math.sqrt(0.25 / 100 * 0.9), rel=1e-12)
    # equal (200 each): sum W² σ² / n = (.0625 + .5625) .25 / 200 against .25 / 400
    assert allocate(400, strata, "equal").county_deff == pytest.approx(1.25)


def test_compare_allocations_lists_every_method() -> None:
    got = compare_allocations(3000, BEDS)
    assert [a.method for a in got] == list(ALLOCATION_METHODS)
    assert all(sum(a.n) == 3000 for a in got)
    by = {a.method: a for a in got}
    # proportional is best for the county, equal gives the most even margins
    assert by["proportional"].county_margin <= min(a.county_margin for a in got) + 1e-12
    spread = {m: max(a.margins) - min(a.margins) for m, a in by.items()}
    assert spread["equal"] == min(spread.values())


# --- properties ------------------------------------------------------------------------

populations = st.lists(st.floats(min_value=500, max_value=1e6), min_size=1, max_size=6)


@given(populations, st.integers(min_value=0, max_value=5000),
       st.sampled_from(sorted(ALLOCATION_METHODS)), st.floats(min_value=0, max_value=1))
def test_allocations_add_up_exactly_within_bounds(sizes: list[float], extra: int,
                                                  method: str, a: float) -> None:
    strata = [Stratum(f"s{i}", f"S{i}", n, p=0.1 + 0.8 * (i % 3) / 2) for i, n in
              enumerate(sizes)]
    minimum = 5
    total = min(minimum * len(strata) + extra, sum(math.floor(n) for n in sizes))
    parameter = a if method in ("power", "kish") else None
    shares = allocation_shares(method, strata, parameter=parameter)
    n = round_to_total([total * s for s in shares], total, minimum=minimum,
                       caps=[s.population for s in strata])
    assert sum(n) == total
    assert all(minimum <= x <= s.population for x, s in zip(n, strata, strict=True))
    # rounding moves no stratum by a whole respondent unless a bound held it
    if all(minimum <= total * s <= st_.population for s, st_ in zip(shares, strata,
                                                                  strict=True)):
        assert np.all(np.abs(np.array(n) - total * np.array(shares)) < 1)


def test_an_unknown_partnership_in_population_is_refused(tmp_path: Path) -> None:
    """A typo (lutn for luton) used to become a fourth partnership with a borrowed deff."""
    from click.testing import CliRunner

    from harmonise.cli import main

    result = CliRunner().invoke(main, ["questionnaire", "sample-size", "--deff", "1.5",
                                       "--population", "lutn=1000", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "no partnership 'lutn'" in result.output and "luton" in result.output
    assert not list(tmp_path.iterdir())
