"""Sample size, margin of error and allocation for the joint survey (pure; no file I/O).

Three questions a partnership board asks, answered from the current surveys' design:

- **How many respondents per partnership** to detect a chosen difference between two
  partnerships, or between two waves of one partnership (two independent samples),
  e.g. 5 points around 50% with 80% power at 5% two-sided:
  :func:`n_two_proportions` (statsmodels' ``samplesize_proportions_2indep_onetail``,
  which is R's ``power.prop.test`` formula: pooled variance under the null, unpooled
  under the alternative, one tail), multiplied by the **design effect** measured on the
  current surveys (:func:`kish_deff` from their weights, :func:`clustering_deff` from the
  intra-class correlation of the school samples, :func:`icc_anova`) and divided by the
  expected **response rate** (:func:`plan_partnership`).
- **What margin of error** each sample size gives (:func:`margin_of_error`), and which
  difference it can detect (:func:`detectable_difference`).
- **How to spread a fixed total** across the partnerships (:func:`allocate`): equal,
  proportional, Neyman, power (Bankier) and Kish's compromise, each rounded to whole
  respondents that add up to the total exactly, with the margin of error per partnership
  and for the county (:class:`Allocation`).

statsmodels and scipy are imported inside the functions that use them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harmonise.errors import PlanningError

#: Census 2021 usual residents (all ages), ONS TS009 via the demographr R package (OGL v3);
#: see /work/shared/design/domain.md section 4. Default population sizes for allocation.
CENSUS_2021_RESIDENTS: dict[str, float] = {
    "bedford": 185_224.0,
    "central-beds": 294_252.0,
    "luton": 225_255.0,
}

#: Partnership names for the defaults above.
PARTNERSHIP_NAMES: dict[str, str] = {
    "bedford": "Bedford Borough",
    "central-beds": "Central Bedfordshire",
    "luton": "Luton",
}

#: How each allocation spreads a total (what the parameter means in brackets).
ALLOCATION_METHODS: dict[str, str] = {
    "equal": "the same number in every partnership",
    "proportional": "in proportion to population, n_h ∝ N_h",
    "neyman": "Neyman: best for the county, n_h ∝ N_h σ_h with σ_h = √(deff_h p_h(1−p_h))",
    "power": "power allocation (Bankier 1988), n_h ∝ σ_h N_h^a: a = 0 equal margins of "
             "error, a = 1 Neyman",
    "kish": "Kish's compromise, n_h ∝ √(1/H² + I·W_h²): I weighs the county against the "
            "partnerships (I = 0 equal, large I proportional)",
}

#: Default parameter of the parametrised allocations.
DEFAULT_POWER_A = 0.5
DEFAULT_KISH_I = 1.0


def _check_share(name: str, value: float, *, closed: bool = False) -> None:
    ok = 0 <= value <= 1 if closed else 0 < value < 1
    if not ok or math.isnan(value):
        bounds = "[0, 1]" if closed else "(0, 1)"
        raise PlanningError(f"{name} must be in {bounds}, got {value!r}; give it as a share, "
                            "e.g. 0.05 for 5 points")


def z_value(alpha: float) -> float:
    """The two-sided normal quantile ``z_{1−α/2}`` (1.959964 for α = 0.05)."""
    from scipy.stats import norm

    _check_share("alpha", alpha)
    return float(norm.ppf(1 - alpha / 2))


# --- design effects -------------------------------------------------------------------


def kish_deff(weights: Sequence[float] | np.ndarray) -> float:
    """Kish's design effect from weighting, ``n Σw² / (Σw)²`` (= 1 + CV², CV with divisor n)."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise PlanningError("weights must be a non-empty list of positive finite numbers")
    return float(w.size * np.dot(w, w) / w.sum() ** 2)


def icc_anova(y: Sequence[float] | np.ndarray, clusters: Sequence[object] | np.ndarray) -> float:
    """The ANOVA estimator of the intra-class correlation of ``y`` within ``clusters``.

    ``ρ = (MSB − MSW) / (MSB + (m₀ − 1) MSW)`` with ``m₀ = (N − Σ m_i² / N) / (k − 1)``,
    the usual adjustment for unequal cluster sizes (Donner 1986). It can be negative
    (less alike within clusters than between); :func:`clustering_deff` treats that as 0.
    """
    values = np.asarray(y, dtype=float)
    groups = np.asarray(clusters)
    if values.shape != groups.shape or values.ndim != 1:
        raise PlanningError("y and clusters must be 1-D and of the same length")
    codes = np.unique(groups, return_inverse=True)[1].ravel()
    sizes = np.bincount(codes).astype(float)
    k, n = sizes.size, float(values.size)
    if k < 2 or n <= k:
        raise PlanningError(f"an ICC needs at least 2 clusters and more respondents than "
                            f"clusters; got {k} clusters and {int(n)} respondents")
    means = np.bincount(codes, weights=values) / sizes
    grand = values.mean()
    msb = float(np.sum(sizes * (means - grand) ** 2) / (k - 1))
    msw = float(np.sum((values - means[codes]) ** 2) / (n - k))
    m0 = (n - float(np.sum(sizes**2)) / n) / (k - 1)
    denominator = msb + (m0 - 1) * msw
    return 0.0 if denominator == 0 else (msb - msw) / denominator


def clustering_deff(mean_cluster_size: float, icc: float, cv_sizes: float = 0.0) -> float:
    """``1 + ((1 + cv²) m̄ − 1) ρ`` (Kish; Eldridge et al. 2006 for unequal clusters).

    With equal clusters (``cv_sizes = 0``) it is the textbook ``1 + (m − 1) ρ``. A negative
    ICC is taken as 0: a plan should not count on clustering helping.
    """
    if mean_cluster_size < 1:
        raise PlanningError(f"mean cluster size must be at least 1, got {mean_cluster_size}")
    return 1.0 + ((1.0 + cv_sizes**2) * mean_cluster_size - 1.0) * max(icc, 0.0)


# --- one sample, two samples ----------------------------------------------------------


def n_two_proportions(difference: float, p: float = 0.5, *, alpha: float = 0.05,
                      power: float = 0.8, ratio: float = 1.0) -> float:
    """Respondents in the first group (simple random sampling) to detect ``p`` vs
    ``p + difference`` with a two-sided test; the second group has ``ratio`` times as many.

    statsmodels' ``samplesize_proportions_2indep_onetail``: the same number as R's
    ``power.prop.test(p1 = p, p2 = p + difference, power = power, sig.level = alpha)$n``
    (checked in tests/questionnaire/test_samplesize.py).
    """
    from statsmodels.stats.proportion import samplesize_proportions_2indep_onetail

    _check_share("p", p)
    _check_share("alpha", alpha)
    _check_share("power", power)
    if not 0 < p + difference < 1 or difference == 0:
        raise PlanningError(f"p + difference must be in (0, 1) and the difference non-zero; "
                            f"got p = {p}, difference = {difference}")
    if ratio <= 0:
        raise PlanningError(f"ratio must be positive, got {ratio}")
    return float(samplesize_proportions_2indep_onetail(
        diff=difference, prop2=p, power=power, ratio=ratio, alpha=alpha))


def detectable_difference(n: float, p: float = 0.5, *, alpha: float = 0.05,
                          power: float = 0.8) -> float:
    """The smallest increase over ``p`` that ``n`` per group (simple random sampling)
    detects with ``power``: :func:`n_two_proportions` solved for the difference (R's
    ``power.prop.test(n = n, p1 = p, power = power)$p2 - p``)."""
    from scipy.optimize import brentq

    _check_share("p", p)
    if n <= 1:
        raise PlanningError(f"n must be more than 1, got {n}")
    high = 1 - p - 1e-9
    if n_two_proportions(high, p, alpha=alpha, power=power) > n:
        raise PlanningError(f"{n:g} per group cannot detect any increase over p = {p} with "
                            f"power {power}; add respondents")
    def gap(d: float) -> float:
        return n_two_proportions(d, p, alpha=alpha, power=power) - n
    return float(brentq(gap, 1e-9, high, xtol=1e-12))


def margin_of_error(n: float, p: float = 0.5, *, deff: float = 1.0, alpha: float = 0.05,
                    population: float | None = None) -> float:
    """Half-width of the ``1 − α`` interval of a proportion: ``z √(deff p(1−p)/n · (1 − n/N))``
    (the finite population correction only when ``population`` N is given)."""
    _check_share("p", p, closed=True)
    if n <= 0 or deff <= 0:
        raise PlanningError(f"n and deff must be positive, got n = {n}, deff = {deff}")
    fpc = 1.0 if population is None else max(0.0, 1.0 - n / population)
    return z_value(alpha) * math.sqrt(deff * p * (1 - p) / n * fpc)


def n_for_margin(margin: float, p: float = 0.5, *, deff: float = 1.0, alpha: float = 0.05,
                 population: float | None = None) -> float:
    """Respondents for a margin of error ``margin``: ``n₀ = z² p(1−p) deff / e²``, then
    ``n₀ / (1 + n₀ / N)`` with a population N (the inverse of :func:`margin_of_error`)."""
    _check_share("margin", margin)
    _check_share("p", p)
    n0 = z_value(alpha) ** 2 * p * (1 - p) * deff / margin**2
    return n0 if population is None else n0 / (1 + n0 / population)


# --- per-partnership plan -------------------------------------------------------------


@dataclass(frozen=True)
class PowerGoal:
    """What the survey must detect: ``p`` vs ``p + difference`` at ``alpha`` with ``power``."""

    difference: float = 0.05
    p: float = 0.5
    alpha: float = 0.05
    power: float = 0.8
    response_rate: float = 1.0

    def __post_init__(self) -> None:
        _check_share("p", self.p)
        _check_share("alpha", self.alpha)
        _check_share("power", self.power)
        if not 0 < self.response_rate <= 1:
            raise PlanningError(f"response rate must be in (0, 1], got {self.response_rate}")
        if not 0 < self.difference < 1 - self.p:
            raise PlanningError(f"difference must be in (0, 1 − p) = (0, {1 - self.p:g}), "
                                f"got {self.difference}")


@dataclass(frozen=True)
class PartnershipPlan:
    """Respondents one partnership needs for :class:`PowerGoal` with its design effect."""

    csp: str
    csp_name: str
    form: str
    deff: float
    deff_source: str
    n_srs: float
    respondents: int
    invited: int
    margin: float
    effective_n: float


def plan_partnership(goal: PowerGoal, *, csp: str, csp_name: str, form: str, deff: float,
                     deff_source: str = "") -> PartnershipPlan:
    """``n`` per group under simple random sampling × ``deff``, rounded up; invitations =
    respondents / response rate, rounded up; with the margin of error at ``goal.p``."""
    if deff < 1e-9:
        raise PlanningError(f"design effect must be positive, got {deff}")
    n_srs = n_two_proportions(goal.difference, goal.p, alpha=goal.alpha, power=goal.power)
    respondents = math.ceil(n_srs * deff - 1e-9)
    invited = math.ceil(respondents / goal.response_rate - 1e-9)
    return PartnershipPlan(
        csp=csp, csp_name=csp_name, form=form, deff=deff, deff_source=deff_source,
        n_srs=n_srs, respondents=respondents, invited=invited,
        margin=margin_of_error(respondents, goal.p, deff=deff, alpha=goal.alpha),
        effective_n=respondents / deff,
    )


# --- allocation -----------------------------------------------------------------------


@dataclass(frozen=True)
class Stratum:
    """One partnership in an allocation: population size, design effect, expected share."""

    id: str
    name: str
    population: float
    deff: float = 1.0
    p: float = 0.5

    def __post_init__(self) -> None:
        if not self.population > 0 or not self.deff > 0:
            raise PlanningError(f"partnership {self.id!r}: population and design effect must "
                                f"be positive (got {self.population}, {self.deff})")
        _check_share(f"expected proportion for {self.id!r}", self.p)

    @property
    def sigma(self) -> float:
        """Unit standard deviation with the design effect, ``√(deff p(1−p))``."""
        return math.sqrt(self.deff * self.p * (1 - self.p))


@dataclass(frozen=True)
class Allocation:
    """A total spread over partnerships, with what each partnership and the county get."""

    method: str
    parameter: float | None
    total: int
    strata: tuple[Stratum, ...]
    ideal: tuple[float, ...]
    n: tuple[int, ...]
    margins: tuple[float, ...]
    county_margin: float
    alpha: float

    @property
    def county_deff(self) -> float:
        """Design effect of the county estimate against a proportional sample of the same
        total with the same design effects: the cost of not allocating proportionally."""
        big_n = sum(s.population for s in self.strata)
        var = sum((s.population / big_n) ** 2 * s.sigma**2 / n
                  for s, n in zip(self.strata, self.n, strict=True))
        prop = sum((s.population / big_n) * s.sigma**2 for s in self.strata) / self.total
        return var / prop


def allocation_shares(method: str, strata: Sequence[Stratum], *,
                      parameter: float | None = None) -> tuple[float, ...]:
    """Each partnership's share of the total under ``method`` (shares add up to 1)."""
    if method not in ALLOCATION_METHODS:
        raise PlanningError(f"unknown allocation {method!r}; choose one of "
                            f"{', '.join(ALLOCATION_METHODS)}")
    if not strata:
        raise PlanningError("an allocation needs at least one partnership")
    big_n = sum(s.population for s in strata)
    h = len(strata)
    raw: list[float]
    if method == "equal":
        raw = [1.0] * h
    elif method == "proportional":
        raw = [s.population for s in strata]
    elif method == "neyman":
        raw = [s.population * s.sigma for s in strata]
    elif method == "power":
        a = DEFAULT_POWER_A if parameter is None else parameter
        if not 0 <= a <= 1:
            raise PlanningError(f"the power allocation's exponent a must be in [0, 1], got {a}")
        raw = [s.sigma * s.population**a for s in strata]
    else:
        importance = DEFAULT_KISH_I if parameter is None else parameter
        if importance < 0:
            raise PlanningError(f"Kish's importance I must be 0 or more, got {importance}")
        raw = [math.sqrt(1 / h**2 + importance * (s.population / big_n) ** 2) for s in strata]
    total = sum(raw)
    return tuple(r / total for r in raw)


def round_to_total(ideal: Sequence[float], total: int, *, minimum: int = 0,
                   caps: Sequence[float] | None = None,
                   tie_break: Sequence[float] | None = None) -> tuple[int, ...]:
    """Whole numbers adding up to ``total`` exactly, each at least ``minimum`` and at most
    its cap: strata held at a bound are fixed and the rest re-spread in proportion to
    ``ideal``; then floors, and the remainder one by one to the largest fractional parts
    (Hamilton's largest remainder), ties to the larger ``tie_break`` value, then to the
    earlier stratum."""
    k = len(ideal)
    cap = [math.floor(c) for c in caps] if caps is not None else [total] * k
    if total < 0 or minimum * k > total or sum(cap) < total:
        raise PlanningError(f"cannot allocate {total} over {k} partnership(s) with at least "
                            f"{minimum} and at most {cap} each; change the total or minimum")
    if any(minimum > c for c in cap):
        raise PlanningError(f"a partnership's population is below the minimum of {minimum}")
    if any(not math.isfinite(x) or x < 0 for x in ideal) or sum(ideal) <= 0:
        raise PlanningError("allocation weights must be non-negative and not all zero")
    fixed: dict[int, float] = {}
    while True:
        free = [i for i in range(k) if i not in fixed]
        left = total - sum(fixed.values())
        weight = sum(ideal[i] for i in free)
        target = {i: (left * ideal[i] / weight if weight > 0 else left / len(free))
                  for i in free}
        low = [i for i in free if target[i] < minimum]
        high = [i for i in free if target[i] > cap[i]]
        if not low and not high:
            break
        for i in low:
            fixed[i] = float(minimum)
        for i in high:
            fixed[i] = float(cap[i])
    exact = [fixed.get(i, target.get(i, 0.0)) for i in range(k)]
    n = [math.floor(round(x, 9)) for x in exact]
    order = sorted(
        (i for i in range(k) if n[i] < cap[i]),
        key=lambda i: (-(exact[i] - n[i]), -(tie_break[i] if tie_break else 0.0), i),
    )
    remainder = total - sum(n)
    if not 0 <= remainder <= len(order):  # pragma: no cover - guarded by the checks above
        raise PlanningError(f"rounding {list(exact)} to {total} failed; please report this")
    for i in order[:remainder]:
        n[i] += 1
    return tuple(n)


def allocate(total: int, strata: Sequence[Stratum], method: str, *,
             parameter: float | None = None, minimum: int = 0,
             alpha: float = 0.05) -> Allocation:
    """Spread ``total`` respondents over ``strata`` by ``method`` (see
    :data:`ALLOCATION_METHODS`), in whole respondents adding up to ``total``, never more
    than a partnership's population; with margins of error (fpc included) per partnership
    at its ``p`` and design effect, and for the county (``Σ W_h² σ_h² (1 − f_h) / n_h``)."""
    shares = allocation_shares(method, strata, parameter=parameter)
    ideal = tuple(total * s for s in shares)
    n = round_to_total(ideal, total, minimum=minimum,
                       caps=[s.population for s in strata],
                       tie_break=[s.population for s in strata])
    if any(x == 0 for x in n):
        raise PlanningError(f"the {method} allocation of {total} leaves a partnership with "
                            "no respondents; raise the total or set a minimum")
    margins = tuple(margin_of_error(x, s.p, deff=s.deff, alpha=alpha, population=s.population)
                    for x, s in zip(n, strata, strict=True))
    big_n = sum(s.population for s in strata)
    var = sum((s.population / big_n) ** 2 * s.sigma**2 / x * (1 - x / s.population)
              for x, s in zip(n, strata, strict=True))
    used = parameter
    if used is None and method in ("power", "kish"):
        used = DEFAULT_POWER_A if method == "power" else DEFAULT_KISH_I
    return Allocation(method=method, parameter=used, total=total, strata=tuple(strata),
                      ideal=ideal, n=n, margins=margins,
                      county_margin=z_value(alpha) * math.sqrt(var), alpha=alpha)


def compare_allocations(total: int, strata: Sequence[Stratum], *,
                        power_a: float = DEFAULT_POWER_A, kish_i: float = DEFAULT_KISH_I,
                        minimum: int = 0, alpha: float = 0.05,
                        methods: Sequence[str] = tuple(ALLOCATION_METHODS),
                        ) -> tuple[Allocation, ...]:
    """Every allocation in ``methods`` of the same total, for a side-by-side table."""
    params: dict[str, float | None] = {"power": power_a, "kish": kish_i}
    return tuple(allocate(total, strata, m, parameter=params.get(m), minimum=minimum,
                          alpha=alpha) for m in methods)


__all__ = [
    "ALLOCATION_METHODS",
    "CENSUS_2021_RESIDENTS",
    "Allocation",
    "PartnershipPlan",
    "PlanningError",
    "PowerGoal",
    "Stratum",
    "allocate",
    "allocation_shares",
    "clustering_deff",
    "compare_allocations",
    "detectable_difference",
    "icc_anova",
    "kish_deff",
    "margin_of_error",
    "n_for_margin",
    "n_two_proportions",
    "plan_partnership",
    "round_to_total",
    "z_value",
]
