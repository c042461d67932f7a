"""Design-based quantiles of a domain of a :class:`Design`: R's ``svyquantile`` (4.1.1).

Every number agrees with R's ``survey`` package (4.1.1)::

    svyquantile(~y, subset(d, domain), quantiles = probs, ci = TRUE, se = TRUE,
                qrule = rule, interval.type = interval, alpha = 1 - level, na.rm = TRUE)

``tests/estimate/test_quantiles_against_r.py`` checks this to 1e-6 relative. How R
computes it (``survey:::svyquantile.survey.design``):

* The estimate is ``qrule(y, w, p)`` over the domain's respondents (:data:`QRULES`).
* The interval (Woodruff, ``interval.type`` ``"mean"``, ``"beta"``, ``"xlogit"``,
  ``"asin"``): the proportion ``m`` of the domain with ``y ≤ q̂`` and its SE as
  ``svymean`` computes them (the full design's variance, calibration included), an
  interval for ``m`` on ``df = degf(domain)`` (Wald, Korn–Graubard beta, or Wald on the
  logit / arcsine-square-root scale), and each limit turned back into a value of ``y``
  by the same rule: ``qrule(y, w, limit)``. A limit below 0 or above 1 (possible for
  ``"mean"``) or undefined gives NaN, as in R.
* ``"score"`` (R's ``ffullerCI``): the values ``θ`` where the score test of
  ``P(y > θ) = 1 − p`` reaches ``± t``, found by R's ``uniroot`` (Brent, ported exactly),
  each mapped to ``qrule(y, w, mean(y ≤ θ))``. As R does, ``mean(y ≤ θ)`` is
  unweighted and, in a calibrated design, taken over every row (rows outside the domain
  count with their value, or 0 where the value is missing).
* ``se = (ci_high − ci_low) / (2 · t_{1−α/2, df})``: the width of the interval, not a
  variance; NaN whenever a limit is.

Weights are used as R stores them (``1/(1/w)``) and sums and cumulative sums are taken
in extended precision as R's ``sum``/``cumsum`` do, so ties at a cumulative weight of
exactly ``p·Σw`` resolve as in R.

Defined where R has no answer or an odd one: probabilities must lie strictly between 0
and 1 (R silently returns the second-smallest or the largest value); a domain with one
respondent has that value as every quantile under every rule, with a NaN interval (its
``df`` is 0); a domain with no respondents, a missing ``y`` inside the domain, an
unknown rule or interval, or a ``"score"`` search that cannot bracket its root raise
:class:`EstimationError`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.design import Design
from harmonise.estimate.results import (
    CIDf,
    as_mask,
    domain_values,
    group_of,
    interval_df,
    interval_t,
    t_quantile,
)
from harmonise.estimate.variance import degrees_of_freedom, variance_matrix

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

QRule = Literal[
    "math", "school", "shahvaish", "hf1", "hf2", "hf3", "hf4", "hf5", "hf6", "hf7", "hf8", "hf9"
]
IntervalType = Literal["mean", "beta", "xlogit", "asin", "score"]
INTERVAL_TYPES: tuple[str, ...] = ("mean", "beta", "xlogit", "asin", "score")
#: Every ``interval.type`` of R's svyquantile: Taylor designs have ``"score"``,
#: replicate designs ``"quantile"`` (:mod:`harmonise.estimate.rep_quantiles`).
QuantileInterval = Literal["mean", "beta", "xlogit", "asin", "score", "quantile"]

_LD = np.longdouble
_EPS = float(np.finfo(np.float64).eps)
_XMAX = float(np.finfo(np.float64).max)


@dataclass(frozen=True)
class QuantileEstimate:
    """One quantile of a domain: ``probability`` p, the estimate, its interval and SE.

    ``se`` is R's: the interval's width over ``2·t`` on ``df``. ``n`` is the unweighted
    domain size; ``weighted_base`` its sum of weights; ``rule`` and ``interval`` name R's
    ``qrule`` and ``interval.type``.
    """

    probability: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    df: int
    n: int
    weighted_base: float
    rule: str
    interval: str


@dataclass(frozen=True)
class Sample:
    """A domain's values and weights as R's ``qrule`` sees them: ``x`` sorted (stable,
    so tied values keep row order), ``w`` in that order; ``x_rows``, ``w_rows`` in row
    order."""

    x: FloatArray
    w: FloatArray
    x_rows: FloatArray
    w_rows: FloatArray

    @staticmethod
    def of(values: FloatArray, weights: FloatArray) -> Sample:
        keep = weights != 0
        x, w = values[keep], weights[keep]
        order = np.argsort(x, kind="stable")
        return Sample(x[order], w[order], x, w)


def _cumsum(a: FloatArray) -> FloatArray:
    """R's ``cumsum``: accumulated in long double, each partial sum stored as double."""
    out: FloatArray = np.cumsum(a.astype(_LD)).astype(np.float64)
    return out


def exact_sum(a: FloatArray) -> float:
    """R's ``sum`` of doubles (long double accumulator)."""
    return float(np.cumsum(a.astype(_LD))[-1]) if a.size else 0.0


def _mean(a: FloatArray) -> float:
    """R's ``mean``: a long double sum over n, then one correction pass."""
    ld = a.astype(_LD)
    s = np.cumsum(ld)[-1] / _LD(a.size)
    if math.isfinite(float(s)):
        s = s + np.cumsum(ld - s)[-1] / _LD(a.size)
    return float(s)


def _qs(x: FloatArray, w: FloatArray, total: float, p: float) -> tuple[int, int, float, float]:
    """R's ``survey:::qs`` on sorted ``x``: 0-based (low, up) positions and the weight
    fractions ``wlow``, ``wup``. With no cumulative weight ≤ p·Σw, R's ``last`` is 1."""
    cumw = _cumsum(w)
    below = np.flatnonzero(cumw <= p * total)
    pos = int(below[-1]) if below.size else 0
    nxt = pos if pos == x.size - 1 else pos + 1
    return pos, nxt, p - cumw[pos] / total, cumw[nxt] / total - p


def _approx(pk: FloatArray, x: FloatArray, v: float, *, linear: bool) -> float:
    """R's ``approx(pk, x, v, rule = 2)`` (``method = "constant", f = 0`` when not
    ``linear``): ``pk`` sorted first and tied ``pk`` collapsed to the mean of their ``x``
    (R's ``regularize.values``; shahvaish's ``pk`` need not increase)."""
    if np.any(np.diff(pk) <= 0):
        order = np.argsort(pk, kind="stable")
        pk, x = pk[order], x[order]
        unique, start = np.unique(pk, return_index=True)
        if unique.size < pk.size:
            bounds = [*start.tolist(), pk.size]
            x = np.array([_mean(x[a:b]) for a, b in itertools.pairwise(bounds)])
            pk = unique
    if v < pk[0]:
        return float(x[0])
    if v > pk[-1]:
        return float(x[-1])
    i = int(np.searchsorted(pk, v, side="right")) - 1
    if i >= pk.size - 1 or v == pk[i]:
        return float(x[min(i, pk.size - 1)])
    if not linear:
        return float(x[i])
    return float(x[i] + (x[i + 1] - x[i]) * ((v - pk[i]) / (pk[i + 1] - pk[i])))


def _math(s: Sample, p: float) -> float:
    lo, up, wlow, _ = _qs(s.x, s.w, exact_sum(s.w_rows), p)
    return float(s.x[lo] if wlow == 0 else s.x[up])


def _school(s: Sample, p: float) -> float:
    lo, up, wlow, _ = _qs(s.x, s.w, exact_sum(s.w_rows), p)
    return float((s.x[lo] + s.x[up]) / 2 if wlow == 0 else s.x[up])


def _hf3(s: Sample, p: float) -> float:
    ux, inverse = np.unique(s.x_rows, return_inverse=True)  # R's rowsum(w, x)
    wg = np.bincount(inverse.reshape(-1), weights=s.w_rows, minlength=ux.size).astype(np.float64)
    lo, up, wlow, _ = _qs(ux, wg, exact_sum(wg), p)
    return float(ux[lo] if wlow == 0 and (lo + 1) % 2 == 0 else ux[up])


def _hf4(s: Sample, p: float) -> float:
    lo, up, wlow, wup = _qs(s.x, s.w, exact_sum(s.w_rows), p)
    with np.errstate(invalid="ignore"):  # p = 1: 0/0, NaN as in R
        gamma = wlow / (wup + wlow)
    return float(s.x[lo] * (1 - gamma) + s.x[up] * gamma)


def _previous(cumw: FloatArray) -> FloatArray:
    return np.concatenate([[0.0], cumw[:-1]])


def _hf5(s: Sample, p: float) -> float:
    cumw = _cumsum(s.w)
    return _approx((cumw - s.w / 2) / cumw[-1], s.x, p, linear=True)


def _hf6(s: Sample, p: float) -> float:
    cumw = _cumsum(s.w)
    return _approx(cumw / (cumw[-1] + s.w[-1]), s.x, p, linear=True)


def _hf7(s: Sample, p: float) -> float:
    cumw = _cumsum(s.w)
    return _approx(_previous(cumw) / cumw[-2], s.x, p, linear=True)


def _hf8(s: Sample, p: float) -> float:
    cumw = _cumsum(s.w)
    pk = (_previous(cumw) * 1 / 3 + cumw * 2 / 3) / (cumw[-1] + s.w[-1] / 3)
    return _approx(pk, s.x, p, linear=True)


def _hf9(s: Sample, p: float) -> float:
    cumw = _cumsum(s.w)
    pk = (_previous(cumw) * 3 / 8 + cumw * 5 / 8) / (cumw[-1] + s.w[-1] / 4)
    return _approx(pk, s.x, p, linear=True)


def _shahvaish(s: Sample, p: float) -> float:
    big_s = _cumsum(s.w / _mean(s.w))
    pk = (big_s + 0.5 - s.w / 2) / (s.x.size + 1)  # R uses w here, not w/mean(w)
    return _approx(pk, s.x, p, linear=False)


#: R's ``qrule`` functions by name: ``math``/``hf1`` (inverse of the weighted CDF),
#: ``school``/``hf2`` (average at a jump), ``hf3`` … ``hf9`` (Hyndman & Fan types with
#: weights) and ``shahvaish``. With equal weights and ``p ≥ 1/n``, ``hfK`` is R's
#: ``quantile(type = K)`` except ``hf3`` (survey's hf3 pools tied values' weights and
#: picks the upper value at an odd position: of 0..7, p = 0.3 gives the 3rd value).
QRULES: dict[str, Callable[[Sample, float], float]] = {
    "math": _math,
    "school": _school,
    "shahvaish": _shahvaish,
    "hf1": _math,
    "hf2": _school,
    "hf3": _hf3,
    "hf4": _hf4,
    "hf5": _hf5,
    "hf6": _hf6,
    "hf7": _hf7,
    "hf8": _hf8,
    "hf9": _hf9,
}


def apply_rule(rule: str, s: Sample, p: float) -> float:
    if s.x.size == 1:
        return float(s.x[0])  # R's hf7 fails here; every quantile of one value is it
    return QRULES[rule](s, p)


@dataclass(frozen=True)
class _Context:
    """What every interval of one domain needs: R's weights, the domain, its df."""

    design: Design
    domain: BoolArray
    w: FloatArray  # R's weights (1/(1/w)), 0 outside the domain
    total: float
    df: int
    rows: int  # nrow() of R's subset design
    t_df: float  # degrees of freedom of the intervals: df, or inf (normal)

    def svymean(self, indicator: FloatArray) -> tuple[float, float]:
        """R's ``svymean`` of ``indicator`` on the domain: (mean, variance)."""
        terms = indicator * self.w / self.total
        average = exact_sum(terms)
        scores = (indicator - average) * self.w / self.total
        scores[~self.domain] = 0.0
        v = float(variance_matrix(self.design, scores, self.domain)[0, 0])
        return average, v


def _woodruff(
    ctx: _Context, s: Sample, y: FloatArray, qhat: float, rule: str, interval: str, level: float
) -> tuple[float, float]:
    m, v = ctx.svymean(np.where(ctx.domain & (y <= qhat), 1.0, 0.0))
    low, high = woodruff_limits(m, v, interval, level, ctx.t_df, ctx.rows)
    return limits_to_values(rule, s, low, high)


def woodruff_limits(
    m: float, v: float, interval: str, level: float, df: float, rows: int
) -> tuple[float, float]:
    """R's ``woodruffCI`` before the last step: the interval for the proportion ``m``
    (variance ``v``) of the domain at or below the estimate, on ``df``. ``"mean"``:
    Wald; ``"xlogit"`` / ``"asin"``: Wald on the logit / arcsine-square-root scale (R's
    ``svycontrast``, delta method); ``"beta"``: Korn–Graubard with ``rows`` (R's
    ``nrow(design)``) in the effective sample size. The same for Taylor and replicate
    designs: only ``v`` differs."""
    alpha = 1 - level
    se = math.sqrt(v)
    t_lo, t_hi = t_quantile(alpha / 2, df), t_quantile(1 - alpha / 2, df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if interval == "mean":
            return m + se * t_lo, m + se * t_hi
        if interval == "xlogit":
            eta = math.log(m / (1 - m)) if m < 1 else math.inf
            grad = (1 / (1 - m) + m / (1 - m) ** 2) / (m / (1 - m)) if m < 1 else math.nan
            low, high = (_expit(eta + se * grad * t) for t in (t_lo, t_hi))
            return low, high
        if interval == "asin":
            eta = math.asin(math.sqrt(m))
            denom = math.sqrt(1 - math.sqrt(m) ** 2)
            grad = 0.5 * m**-0.5 / denom if denom > 0 else math.nan
            low, high = (math.sin(eta + se * grad * t) ** 2 for t in (t_lo, t_hi))
            return low, high
        return _beta_limits(m, v, rows, df, alpha)


def limits_to_values(rule: str, s: Sample, low: float, high: float) -> tuple[float, float]:
    """Each end of the proportion's interval turned back into a value of ``y`` by the
    rule; an end below 0, above 1 or undefined is NaN, as in R's ``woodruffCI``."""
    lower = math.nan if math.isnan(low) or low < 0 else apply_rule(rule, s, low)
    upper = math.nan if math.isnan(high) or high > 1 else apply_rule(rule, s, high)
    return lower, upper


def _expit(eta: float) -> float:
    if math.isnan(eta):
        return math.nan
    if eta > 709:  # exp overflows: R's Inf / Inf
        return math.nan
    e = math.exp(eta)
    return e / (1 + e)


def _qbeta(q: float, a: float, b: float) -> float:
    if math.isnan(a) or math.isnan(b) or a < 0 or b < 0:
        return math.nan
    if a == 0 and b == 0:
        return math.nan
    if a == 0 or b == math.inf:
        return 0.0
    if b == 0 or a == math.inf:
        return 1.0
    return float(special.betaincinv(a, b, q))


def _beta_limits(m: float, v: float, rows: int, df: float, alpha: float) -> tuple[float, float]:
    """R's woodruffCI(method = "beta"): Korn–Graubard with an effective sample size."""
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = float(np.float64(m * (1 - m)) / np.float64(v))
    ratio = t_quantile(alpha / 2, rows - 1) / t_quantile(alpha / 2, df)
    n_eff = n_eff * ratio**2
    return (
        _qbeta(alpha / 2, n_eff * m, n_eff * (1 - m) + 1),
        _qbeta(1 - alpha / 2, n_eff * m + 1, n_eff * (1 - m)),
    )


def _r_quantile7(x: FloatArray, p: float) -> float:
    """R's ``quantile(x, p)`` (type 7), in R's arithmetic."""
    xs = np.sort(x)
    index = 1 + max(xs.size - 1, 0) * p
    lo, hi = math.floor(index), math.ceil(index)
    q = float(xs[lo - 1])
    if index > lo and xs[hi - 1] != q:
        h = index - lo
        q = (1 - h) * q + h * float(xs[hi - 1])
    return q


def _zeroin(
    f: Callable[[float], float], ax: float, bx: float, fa: float, fb: float, tol: float
) -> float:
    """R's ``R_zeroin2`` (Brent's root finder behind ``uniroot``), statement for statement."""
    a, b, c, fc = ax, bx, ax, fa
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    for _ in range(1001):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * _EPS * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    return b


def _finite(value: float) -> float:
    """R's uniroot wrapper: ±Inf → ±DBL_MAX, NaN → DBL_MAX."""
    if math.isnan(value):
        return _XMAX
    return max(min(value, _XMAX), -_XMAX)


def _score(
    ctx: _Context, s: Sample, x: FloatArray, p: float, rule: str, level: float
) -> tuple[float, float]:
    """R's ``ffullerCI``; ``x`` is R's ``x``: the domain's values, or every row's in a
    calibrated design."""
    alpha = 1 - level
    rows_x = x if ctx.design.keeps_rows else x[ctx.domain]

    def scoretest(theta: float, qlimit: float) -> float:
        u = np.where(ctx.domain, (x > theta) - (1 - p), 0.0)
        m, v = ctx.svymean(u)
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.float64(m) / np.sqrt(np.float64(v))) - qlimit

    iqr = _r_quantile7(rows_x, 0.75) - _r_quantile7(rows_x, 0.25)
    lower_t = float(rows_x.min()) + iqr / 100
    upper_t = float(rows_x.max()) - iqr / 100
    tol = 1 / (100 * math.sqrt(ctx.rows))
    roots = []
    for qlimit in (-t_quantile(alpha / 2, ctx.t_df), t_quantile(alpha / 2, ctx.t_df)):
        if not lower_t < upper_t:
            raise EstimationError(
                f"score interval for p={p:g}: the values span no range to search "
                f"({lower_t:g} to {upper_t:g}); use interval='mean'"
            )
        f_lo, f_hi = scoretest(lower_t, qlimit), scoretest(upper_t, qlimit)
        if math.isnan(f_lo) or math.isnan(f_hi) or np.sign(f_lo) * np.sign(f_hi) > 0:
            raise EstimationError(
                f"score interval for p={p:g}: the score test does not change sign between "
                f"{lower_t:g} and {upper_t:g} (R's uniroot fails the same way: 'f() values "
                "at end points not of opposite sign'); use interval='mean' or 'beta'"
            )

        def f(theta: float, qlimit: float = qlimit) -> float:
            return _finite(scoretest(theta, qlimit))

        root = _zeroin(f, lower_t, upper_t, _finite(f_lo), _finite(f_hi), tol)
        roots.append(apply_rule(rule, s, _mean((rows_x <= root).astype(np.float64))))
    return roots[0], roots[1]


def check_quantile_arguments(
    rule: str, interval: str, intervals: Sequence[str], level: float, probs: Sequence[float]
) -> list[float]:
    """The probabilities as floats, after checking the rule, the interval (one of
    ``intervals``), the level and that every probability is strictly inside (0, 1)."""
    if rule not in QRULES:
        raise EstimationError(
            f"quantile rule {rule!r} is not one of R's qrules; use one of {', '.join(QRULES)}"
        )
    if interval not in intervals:
        raise EstimationError(
            f"quantile interval {interval!r} is not supported; use one of "
            f"{', '.join(intervals)} (R's interval.type)"
        )
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1 (e.g. 0.95), got {level}")
    ps = [float(p) for p in probs]
    if not ps:
        raise EstimationError("quantile: give at least one probability, e.g. 0.5")
    for p in ps:
        if not 0 < p < 1:
            raise EstimationError(
                f"quantile probability {p:g} is outside (0, 1); give probabilities strictly "
                "between 0 and 1 (0.5 is the median); for the range use the data's min/max"
            )
    return ps


def linearised_quantile(
    design: Design,
    y: np.ndarray,
    domain: np.ndarray,
    probs: Sequence[float] = (0.25, 0.5, 0.75),
    *,
    level: float = 0.95,
    interval: QuantileInterval = "mean",
    rule: QRule = "math",
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> tuple[QuantileEstimate, ...]:
    """Quantiles of ``y`` among respondents in ``domain``, one result per probability.

    R's ``svyquantile(~y, subset(design, domain), probs, ci = TRUE, se = TRUE,
    qrule = rule, interval.type = interval, alpha = 1 − level)``; see the module doc.
    ``y`` may be NaN outside the domain (leave missing answers out of the domain, as
    R's ``na.rm = TRUE``), not inside it; ``group`` as in
    :func:`harmonise.estimate.statistics.mean`.
    """
    if interval == "quantile":
        raise EstimationError(
            "quantile interval 'quantile' (the quantile re-estimated in every replicate) "
            "needs replicate weights; R's svyquantile has it for replicate designs only. "
            "Add a 'replicates:' block to the design file (or pass a replicate design), or use "
            f"one of {', '.join(INTERVAL_TYPES)}"
        )
    ps = check_quantile_arguments(rule, interval, INTERVAL_TYPES, level, probs)
    d = as_mask("domain", domain, design.n)
    n = int(d.sum())
    if n == 0:
        raise EstimationError(
            "the domain has no respondents, so it has no quantiles; check the subgroup "
            "definition or leave the cell out of the table"
        )
    yd = domain_values("y", y, d, design.n)
    w = np.where(d, 1 / (1 / design.weights), 0.0)
    sample = Sample.of(yd[d], w[d])
    g = group_of(design.n, d, group)
    df = degrees_of_freedom(design, g)
    ctx = _Context(
        design=design,
        domain=d,
        w=w,
        total=exact_sum(w),
        df=df,
        rows=design.n if design.keeps_rows else int(g.sum()),
        t_df=interval_df(df, ci_df),
    )
    x_all = np.where(d, yd, np.nan_to_num(np.asarray(y, dtype=np.float64), nan=0.0))
    t_half = interval_t(level, ctx.t_df)
    out = []
    for p in ps:
        qhat = apply_rule(rule, sample, p)
        if interval == "score":
            low, high = _score(ctx, sample, x_all, p, rule, level)
        else:
            low, high = _woodruff(ctx, sample, yd, qhat, rule, interval, level)
        out.append(
            QuantileEstimate(
                probability=p,
                estimate=qhat,
                se=(high - low) / (2 * t_half),
                ci_low=low,
                ci_high=high,
                df=ctx.df,
                n=n,
                weighted_base=float(design.weights[d].sum()),
                rule=rule,
                interval=interval,
            )
        )
    return tuple(out)


__all__ = [
    "INTERVAL_TYPES",
    "QRULES",
    "IntervalType",
    "QRule",
    "QuantileEstimate",
    "QuantileInterval",
    "Sample",
    "apply_rule",
    "check_quantile_arguments",
    "exact_sum",
    "limits_to_values",
    "linearised_quantile",
    "woodruff_limits",
]
