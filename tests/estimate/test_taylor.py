"""Taylor-linearised proportions and means: hand-checkable cases and invariances."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from harmonise.errors import EstimationError
from harmonise.estimate import Design, degrees_of_freedom, mean, proportion
from harmonise.weight import Margin, rake


def stratclus(seed: int = 1) -> tuple[Design, np.ndarray, np.ndarray, np.ndarray]:
    """A stratified cluster sample: design, success, domain, y."""
    rng = np.random.default_rng(seed)
    strata, clusters = [], []
    for h, n_psu in enumerate([3, 4, 5]):
        for j in range(n_psu):
            size = int(rng.integers(3, 9))
            strata += [10 * h + 7] * size
            clusters += [j] * size  # cluster ids repeat across strata: nested
    n = len(strata)
    design = Design(
        weights=rng.uniform(5, 50, n),
        strata=np.array(strata),
        clusters=np.array(clusters),
    )
    return design, rng.random(n) < 0.4, rng.random(n) < 0.5, rng.normal(10, 3, n)


def hand_variance(
    w: np.ndarray, y: np.ndarray, dom: np.ndarray, strata: np.ndarray, clusters: np.ndarray
) -> float:
    """Textbook one-stage variance of a domain ratio mean, written out with loops."""
    wd = np.where(dom, w, 0.0)
    ybar = (wd * y).sum() / wd.sum()
    z = wd * (y - ybar) / wd.sum()
    total = 0.0
    for h in np.unique(strata):
        psus = np.unique(clusters[strata == h])
        t = np.array([z[(strata == h) & (clusters == c)].sum() for c in psus])
        total += len(t) / (len(t) - 1) * ((t - t.mean()) ** 2).sum()
    return float(total)


def test_equal_weights_srs_matches_the_textbook() -> None:
    n, k = 50, 18
    success = np.arange(n) < k
    est = proportion(Design(weights=np.full(n, 10.0)), success, np.ones(n, bool))
    p = k / n
    assert est.estimate == pytest.approx(p, rel=1e-14)
    assert est.se == pytest.approx(math.sqrt(p * (1 - p) / (n - 1)), rel=1e-12)
    assert est.df == n - 1 and est.n == n and est.n_success == k
    assert est.weighted_base == pytest.approx(10 * n)
    # R: vsrs = p(1-p)/(n-1) * (1 - n/Σw), so deff = 1 / (1 - 1/10)
    assert est.deff == pytest.approx(1 / 0.9, rel=1e-12)
    t = stats.t.ppf(0.975, n - 1)
    half = t * est.se / (p * (1 - p))
    logit = math.log(p / (1 - p))
    assert est.ci_low == pytest.approx(1 / (1 + math.exp(-(logit - half))), rel=1e-12)
    assert est.ci_high == pytest.approx(1 / (1 + math.exp(-(logit + half))), rel=1e-12)
    assert est.ci_method == "logit"
    wald = proportion(Design(weights=np.full(n, 10.0)), success, np.ones(n, bool), ci="wald")
    assert (wald.ci_low, wald.ci_high) == pytest.approx((p - t * est.se, p + t * est.se))
    # beta: n_eff = p(1-p)/var = n - 1 (the df ratio is 1 here)
    beta = proportion(Design(weights=np.full(n, 10.0)), success, np.ones(n, bool), ci="beta")
    ne = n - 1
    assert beta.ci_low == pytest.approx(stats.beta.ppf(0.025, ne * p, ne * (1 - p) + 1))
    assert beta.ci_high == pytest.approx(stats.beta.ppf(0.975, ne * p + 1, ne * (1 - p)))


def test_equal_weights_srs_mean_has_se_s_over_root_n() -> None:
    y = np.array([3.0, 5.0, 8.0, 1.0, 9.0, 4.0])
    est = mean(Design(weights=np.ones(6)), y, np.ones(6, bool))
    assert est.estimate == pytest.approx(y.mean())
    assert est.se == pytest.approx(y.std(ddof=1) / math.sqrt(6))
    assert est.deff == math.inf  # R: weights summing to n give vsrs = 0
    assert est.ci_method == "wald" and est.df == 5


def test_stratified_cluster_domain_matches_a_loop_implementation() -> None:
    design, success, domain, y = stratclus()
    strata, clusters = np.asarray(design.strata), np.asarray(design.clusters)
    est = proportion(design, success, domain)
    expected = hand_variance(design.weights, success.astype(float), domain, strata, clusters)
    assert est.se == pytest.approx(math.sqrt(expected), rel=1e-12)
    m = mean(design, y, domain)
    assert m.se == pytest.approx(
        math.sqrt(hand_variance(design.weights, y, domain, strata, clusters)), rel=1e-12
    )
    # df: PSUs minus strata among the domain's respondents
    psus = {(s, c) for s, c, d in zip(strata, clusters, domain, strict=True) if d}
    assert est.df == len(psus) - len(set(strata[domain])) == degrees_of_freedom(design, domain)


def _permuted(design: Design, order: np.ndarray) -> Design:
    return Design(
        weights=design.weights[order],
        strata=None if design.strata is None else np.asarray(design.strata)[order],
        clusters=None if design.clusters is None else np.asarray(design.clusters)[order],
        raking=tuple(np.asarray(r)[order] for r in design.raking),
        lonely_psu=design.lonely_psu,
    )


def raked_stratclus() -> tuple[Design, np.ndarray, np.ndarray, np.ndarray]:
    design, success, domain, y = stratclus(seed=3)
    rng = np.random.default_rng(4)
    n = design.n
    codes = [rng.integers(0, 3, n), rng.integers(0, 2, n)]
    margins = [
        Margin("a", codes[0], np.array([300.0, 500.0, 200.0]), ("x", "y", "z")),
        Margin("b", codes[1], np.array([450.0, 550.0]), ("u", "v")),
    ]
    w = rake(design.weights, margins).weights
    raked = Design(weights=w, strata=design.strata, clusters=design.clusters, raking=tuple(codes))
    return raked, success, domain, y


@pytest.mark.parametrize("build", [stratclus, raked_stratclus], ids=["stratclus", "raked"])
def test_estimates_are_invariant_to_row_order(build: Any) -> None:
    design, success, domain, y = build()
    order = np.random.default_rng(9).permutation(design.n)
    shuffled = _permuted(design, order)
    for ci in ("logit", "wald", "beta"):
        a = proportion(design, success, domain, ci=ci)
        b = proportion(shuffled, success[order], domain[order], ci=ci)
        for field in ("estimate", "se", "ci_low", "ci_high", "deff", "weighted_base"):
            assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-10), field
        assert (a.df, a.n, a.n_success) == (b.df, b.n, b.n_success)
    assert mean(shuffled, y[order], domain[order]).se == pytest.approx(
        mean(design, y, domain).se, rel=1e-10
    )


def test_rows_outside_the_domain_in_existing_psus_change_nothing() -> None:
    design, success, domain, _ = stratclus()
    strata, clusters = np.asarray(design.strata), np.asarray(design.clusters)
    # Add respondents outside the domain to existing PSUs (any weight, any answer):
    # R's subset() keeps them out of the domain but the PSUs and strata are unchanged.
    extra = np.arange(0, design.n, 3)
    bigger = Design(
        weights=np.concatenate([design.weights, np.full(extra.size, 123.0)]),
        strata=np.concatenate([strata, strata[extra]]),
        clusters=np.concatenate([clusters, clusters[extra]]),
    )
    a = proportion(design, success, domain)
    b = proportion(
        bigger,
        np.concatenate([success, np.ones(extra.size, bool)]),
        np.concatenate([domain, np.zeros(extra.size, bool)]),
    )
    for field in ("estimate", "se", "ci_low", "ci_high", "deff", "weighted_base"):
        assert getattr(b, field) == pytest.approx(getattr(a, field), rel=1e-13), field
    assert (a.df, a.n, a.n_success) == (b.df, b.n, b.n_success)


def test_raking_margin_share_has_no_sampling_error() -> None:
    # A raked margin's category shares are fixed by the targets: SE ~ 0, as in R.
    design, _, _, _ = raked_stratclus()
    in_x = np.asarray(design.raking[0]) == 0
    est = proportion(design, in_x, np.ones(design.n, bool))
    assert est.estimate == pytest.approx(0.3, rel=1e-9)
    assert est.se < 1e-9


@pytest.mark.parametrize("k", [0, 20], ids=["p=0", "p=1"])
def test_boundary_proportions_have_zero_se_and_a_beta_interval(k: int) -> None:
    n = 20
    success = np.arange(n) < k
    design = Design(weights=np.full(n, 5.0))
    logit = proportion(design, success, np.ones(n, bool))
    assert logit.se == 0 and logit.estimate == k / n
    assert logit.ci_method == "beta (logit fallback: p = 0 or 1)"
    assert logit.deff is None  # R: 0/0
    beta = proportion(design, success, np.ones(n, bool), ci="beta")
    assert (beta.ci_low, beta.ci_high) == (logit.ci_low, logit.ci_high)
    assert beta.ci_method == "beta"
    # Clopper–Pearson with the unweighted n: the exact one-sided 97.5% bound
    bound = 1 - 0.025 ** (1 / n)
    if k == 0:
        assert logit.ci_low == 0 and logit.ci_high == pytest.approx(bound, rel=1e-10)
    else:
        assert logit.ci_high == 1 and logit.ci_low == pytest.approx(1 - bound, rel=1e-10)
    wald = proportion(design, success, np.ones(n, bool), ci="wald")
    assert wald.ci_low == wald.ci_high == k / n


def test_single_respondent_domain_has_no_df_and_nan_interval() -> None:
    domain = np.zeros(10, bool)
    domain[4] = True
    est = proportion(Design(weights=np.full(10, 3.0)), np.ones(10, bool), domain, ci="wald")
    assert est.df == 0 and math.isnan(est.ci_low) and math.isnan(est.ci_high)


def lonely(option: str) -> Design:
    return Design(
        weights=np.ones(7) * 4,
        strata=np.array([1, 1, 1, 1, 7, 7, 2]),
        clusters=np.array([1, 1, 2, 2, 5, 5, 9]),
        lonely_psu=option,  # type: ignore[arg-type]
    )


def test_lonely_psu_fail_names_the_stratum_and_the_options() -> None:
    y = np.array([1, 0, 1, 1, 0, 1, 0], bool)
    with pytest.raises(EstimationError) as info:
        proportion(lonely("fail"), y, np.ones(7, bool))
    message = str(info.value)
    for fragment in (
        "strata 2, 7 have only one PSU",
        "remove, adjust, average, certainty",
        "lonely_psu",
        "collapse",
    ):
        assert fragment in message


def test_lonely_psu_options_by_hand() -> None:
    y = np.array([1, 0, 1, 1, 0, 1, 0], bool)
    everyone = np.ones(7, bool)
    p = 4 / 7
    z = (y - p) / 7  # equal weights
    ok = 2 * ((z[:2].sum() - z[:4].sum() / 2) ** 2 + (z[2:4].sum() - z[:4].sum() / 2) ** 2)
    assert proportion(lonely("remove"), y, everyone).se ** 2 == pytest.approx(ok)
    assert proportion(lonely("certainty"), y, everyone).se ** 2 == pytest.approx(ok)
    assert proportion(lonely("average"), y, everyone).se ** 2 == pytest.approx(ok * 3)
    adjust = ok + z[4:6].sum() ** 2 + z[6] ** 2
    assert proportion(lonely("adjust"), y, everyone).se ** 2 == pytest.approx(adjust)


def test_average_needs_one_stratum_with_two_psus() -> None:
    design = Design(weights=np.ones(3), strata=np.array([0, 1, 2]), lonely_psu="average")
    with pytest.raises(EstimationError, match="at least one stratum with two or more PSUs"):
        proportion(design, np.array([True, False, True]), np.ones(3, bool))


BAD_CALLS = [
    ("empty-domain", dict(domain=np.zeros(4, bool)), "no respondents"),
    ("success-length", dict(success=np.ones(3, bool)), "3 value(s) for a design of 4"),
    ("success-not-bool", dict(success=np.array([0.5, 1, 0, 1])), "must be boolean"),
    ("ci-method", dict(ci="wilson"), "use one of logit, wald, beta"),
    ("level", dict(level=95), "between 0 and 1"),
]


@pytest.mark.parametrize(
    ("kwargs", "fragment"), [(k, f) for _, k, f in BAD_CALLS], ids=[b[0] for b in BAD_CALLS]
)
def test_proportion_errors(kwargs: dict[str, Any], fragment: str) -> None:
    args: dict[str, Any] = dict(success=np.array([1, 0, 1, 1], bool), domain=np.ones(4, bool))
    args.update(kwargs)
    with pytest.raises(EstimationError) as info:
        proportion(Design(weights=np.ones(4)), **args)
    assert fragment in str(info.value)


def test_mean_allows_missing_outside_the_domain_only() -> None:
    y = np.array([1.0, np.nan, 3.0, 5.0])
    inside = np.array([True, False, True, True])
    assert mean(Design(weights=np.ones(4)), y, inside).estimate == pytest.approx(3.0)
    with pytest.raises(EstimationError, match=r"rows 2, 1-based"):
        mean(Design(weights=np.ones(4)), y, np.ones(4, bool))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (dict(weights=np.array([1.0, 0.0, 2.0])), "rows 2"),
        (dict(weights=np.ones(3), strata=np.array([0.5, 1, 1])), "integer codes"),
        (dict(weights=np.ones(3), clusters=np.array([1, 2])), "2 value(s) for 3"),
        (dict(weights=np.ones(3), lonely_psu="drop"), "fail, remove, adjust, average"),
        (dict(weights=np.ones(3), raking=(np.array([0, -1, 1]),)), "every respondent needs"),
    ],
    ids=["zero-weight", "float-strata", "cluster-length", "lonely-option", "raking-code"],
)
def test_design_validation(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(EstimationError) as info:
        Design(**kwargs)
    assert fragment in str(info.value)
