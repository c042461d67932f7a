"""Means, totals and proportions of a domain with replicate-weight variances.

Every number agrees with R's ``survey`` (4.1.1) on a replicate design ``rd``::

    sub <- subset(rd, domain)                  # R drops the other rows
    svymean(~y, sub, deff = TRUE); confint(., df = degf(sub))       # rep_mean
    svytotal(~y, sub, deff = TRUE); confint(., df = degf(sub))      # rep_total
    svyciprop(~I(y == c), sub, method = "logit" | "mean" | "beta")  # rep_proportion

The estimate is computed with the full-sample weights and again with each replicate's
weights; the variance is R's ``svrVar`` (:meth:`ReplicateDesign.variance`). The logit
interval is R's: ``svyglm(y ~ 1, family = quasibinomial)`` refitted in every replicate,
so its variance is of the replicates' *logits* (not the delta method); the fits follow
R's ``glm.fit`` iterations (start, steps and stopping rule) so the numbers match.
``df`` is ``degf(sub)``: the rank of the domain rows' replicate weights minus 1.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from scipy import special

from harmonise.errors import EstimationError
from harmonise.estimate.replicates import ReplicateDesign
from harmonise.estimate.statistics import TotalEstimate, total_result
from harmonise.estimate.taylor import (
    CI_METHODS,
    CIDf,
    CIMethod,
    Deff,
    MeanEstimate,
    ProportionEstimate,
    _beta_ci,
    _check_level,
    _mask,
    _t,
    domain_values,
    group_of,
    interval_df,
)

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: R's glm.control(): epsilon and maxit.
GLM_EPSILON = 1e-8
GLM_MAXIT = 25
_DBL_EPS = float(np.finfo(float).eps)


def _domain(design: ReplicateDesign, domain: np.ndarray) -> tuple[BoolArray, int]:
    d = _mask("domain", domain, design.n)
    n = int(d.sum())
    if n == 0:
        raise EstimationError(
            "the domain has no respondents, so nothing can be estimated for it; check the "
            "subgroup definition or leave the cell out of the table"
        )
    return d, n


def _deff(variance: float, w: FloatArray, y: FloatArray, mean: float, n: int,
          kind: Deff = True) -> float | None:
    """R's svymean deff on a replicate design: ``v / (s² / n · (N̂ − n)/N̂)`` with the
    weighted ``s²`` (divisor ``n − 1``) over the domain's ``n`` rows (``N̂ = Σw``);
    ``kind="replace"`` leaves out ``(N̂ − n)/N̂``."""
    if not kind or n < 2:
        return None
    base = float(w.sum())
    s2 = n / (n - 1) * float(np.dot(w, (y - mean) ** 2)) / base
    vsrs = s2 / n if kind == "replace" else s2 / n * (base - n) / base
    return None if vsrs == 0 else variance / vsrs


def _weighted_means(
    design: ReplicateDesign, y: FloatArray, d: BoolArray
) -> tuple[FloatArray, FloatArray, float, FloatArray]:
    """Domain rows' full-sample weights and values, the mean and the replicate means."""
    w = design.weights[d]
    yd = y[d]
    rep = design.replicates[d]
    with np.errstate(invalid="ignore", divide="ignore"):
        thetas = (rep.T @ yd) / rep.sum(axis=0)
    return w, yd, float(np.dot(w, yd) / w.sum()), thetas


def rep_mean(
    design: ReplicateDesign,
    y: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> MeanEstimate:
    """Weighted mean of ``y`` in ``domain`` with its replicate SE and a Wald interval on
    ``degf(subset(design, group))`` (``y`` may be NaN outside the domain; ``group`` as in
    :func:`harmonise.estimate.taylor.mean`)."""
    _check_level(level)
    d, n = _domain(design, domain)
    yv = domain_values("y", y, d, design.n)
    w, yd, estimate, thetas = _weighted_means(design, yv, d)
    variance = float(design.variance(thetas, np.array([estimate]))[0])
    se = math.sqrt(variance)
    df = design.domain_df(group_of(design, d, group))
    tq = _t(1 - (1 - level) / 2, interval_df(df, ci_df))
    return MeanEstimate(
        estimate=estimate,
        se=se,
        ci_low=estimate - tq * se,
        ci_high=estimate + tq * se,
        ci_method="wald",
        df=df,
        deff=_deff(variance, w, yd, estimate, n, deff),
        n=n,
        weighted_base=float(w.sum()),
    )


def rep_total(
    design: ReplicateDesign,
    y: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> TotalEstimate:
    """Weighted total of ``y`` over ``domain`` (R ``svytotal`` on the domain subset).

    Rows of census strata (``design.census``, R's ``selfrep``) count at their full-sample
    weight in every replicate total. R leaves them out of the replicate totals, which
    gives the same variance whenever their replicate weights equal across replicates;
    where they do not (the ``lonely_psu: adjust`` replicate rescales every other stratum,
    calibration moves every row) it gives R's variance too, since a constant added to
    every replicate does not change it. With ``mse`` R's way would add the census total's
    square to the variance; counting them at full weight keeps it out.
    """
    _check_level(level)
    d, _ = _domain(design, domain)
    yv = domain_values("y", y, d, design.n)
    w, yd = design.weights[d], yv[d]
    estimate = float(np.dot(w, yd))
    if design.census is None:
        thetas = design.replicates[d].T @ yd
    else:
        fixed = d & design.census
        varying = d & ~design.census
        thetas = design.replicates[varying].T @ yv[varying] + float(
            np.dot(design.weights[fixed], yv[fixed])
        )
    variance = float(design.variance(thetas, np.array([estimate]))[0])
    df = design.domain_df(group_of(design, d, group))
    return total_result(estimate, variance, df, w, yd, level=level, deff=deff, ci_df=ci_df)


def _linkinv(eta: np.ndarray) -> FloatArray:
    """R's C logit_linkinv (clamped at ±30)."""
    e = np.asarray(eta, dtype=np.float64)
    with np.errstate(over="ignore"):
        tmp = np.where(e < -30, _DBL_EPS, np.where(e > 30, 1 / _DBL_EPS, np.exp(e)))
    out: FloatArray = tmp / (1 + tmp)
    return out


def _mu_eta(eta: np.ndarray) -> FloatArray:
    """R's C logit_mu_eta."""
    e = np.asarray(eta, dtype=np.float64)
    with np.errstate(over="ignore"):
        opexp = 1 + np.exp(e)
        out: FloatArray = np.where(np.abs(e) > 30, _DBL_EPS, np.exp(e) / (opexp * opexp))
    return out


def _deviance(s1: np.ndarray, s0: np.ndarray, mu: np.ndarray) -> FloatArray:
    """Binomial deviance of a constant ``mu`` with weighted successes ``s1`` and
    failures ``s0`` (``y log y`` terms are 0 for 0/1 data)."""
    out: FloatArray = -2 * (s1 * np.log(mu) + s0 * np.log(1 - mu))
    return out


def _irls(
    beta: FloatArray, s1: FloatArray, s0: FloatArray, devold: FloatArray, iterations: int
) -> FloatArray:
    """R's glm.fit iterations for an intercept-only logistic model once every row shares
    one linear predictor: per fit, weighted successes ``s1`` and failures ``s0``."""
    beta = beta.copy()
    devold = devold.copy()
    active = np.ones(beta.size, dtype=bool)
    total = s1 + s0
    for _ in range(iterations):
        if not active.any():
            break
        b = beta[active]
        mu = _linkinv(b)
        new = b + (s1[active] / total[active] - mu) / _mu_eta(b)
        dev = _deviance(s1[active], s0[active], _linkinv(new))
        beta[active] = new
        converged = np.abs(dev - devold[active]) / (np.abs(dev) + 0.1) < GLM_EPSILON
        devold[active] = dev
        idx = np.flatnonzero(active)
        active[idx[converged]] = False
    return beta


def _logit_fits(y: FloatArray, w: FloatArray, rep: FloatArray) -> tuple[float, FloatArray]:
    """Full-sample and replicate intercepts of R's svyglm(y ~ 1, quasibinomial)."""
    pw = w / w.mean()
    mustart = (pw * y + 0.5) / (pw + 1)
    eta = np.log(mustart / (1 - mustart))
    mu = _linkinv(eta)
    with np.errstate(divide="ignore", invalid="ignore"):
        dres = 2 * pw * (y * np.log(np.where(y > 0, y / mu, 1.0)) +
                         (1 - y) * np.log(np.where(y < 1, (1 - y) / (1 - mu), 1.0)))  # fmt: skip
    devold = float(dres.sum())
    me = _mu_eta(eta)
    z = eta + (y - mu) / me
    w2 = pw * me**2 / (mu * (1 - mu))
    beta0 = float(np.dot(w2, z) / w2.sum())  # first iteration: per-row starting values
    s1, s0 = float(np.dot(pw, y)), float(np.dot(pw, 1 - y))
    dev = float(_deviance(np.array(s1), np.array(s0), _linkinv(np.array(beta0))))
    if abs(dev - devold) / (abs(dev) + 0.1) >= GLM_EPSILON:
        one = (np.array([beta0]), np.array([s1]), np.array([s0]), np.array([dev]))
        beta0 = float(_irls(*one, GLM_MAXIT - 1)[0])
    # Replicates start from beta0 with weights w_r / Σ w_r.
    totals = rep.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r1 = (rep.T @ y) / totals
    r0 = 1 - r1
    start = np.full(rep.shape[1], beta0)
    devstart = _deviance(r1, r0, _linkinv(start))
    betas = np.full(rep.shape[1], np.nan)
    ok = totals > 0
    betas[ok] = _irls(start[ok], r1[ok], r0[ok], devstart[ok], GLM_MAXIT)
    return beta0, betas


def rep_proportion(
    design: ReplicateDesign,
    success: np.ndarray,
    domain: np.ndarray,
    *,
    level: float = 0.95,
    ci: CIMethod = "logit",
    deff: Deff = True,
    group: np.ndarray | None = None,
    ci_df: CIDf = "design",
) -> ProportionEstimate:
    """Weighted proportion of ``success`` in ``domain`` with its replicate SE.

    ``ci``: ``"logit"`` (R's svyciprop default, replicate logistic fits), ``"wald"``
    (R's ``method = "mean"``) or ``"beta"`` (Korn–Graubard, effective n from the
    replicate variance). At ``p = 0`` or ``1`` the logit interval falls back to
    ``beta`` as in :func:`harmonise.estimate.taylor.proportion`.
    """
    if ci not in CI_METHODS:
        raise EstimationError(f"ci={ci!r} is not a method; use one of {', '.join(CI_METHODS)}")
    _check_level(level)
    s = _mask("success", success, design.n)
    d, n = _domain(design, domain)
    y = s.astype(np.float64)
    w, yd, p, thetas = _weighted_means(design, y, d)
    n_success = int(np.count_nonzero(s & d))
    variance = float(design.variance(thetas, np.array([p]))[0])
    se = math.sqrt(variance)
    g = group_of(design, d, group)
    df = design.domain_df(g)
    tq = _t(1 - (1 - level) / 2, interval_df(df, ci_df))
    method: str = ci
    if ci == "logit" and 0 < n_success < n:
        beta0, betas = _logit_fits(yd, w, design.replicates[d])
        v_logit = float(design.variance(betas, np.array([beta0]))[0])
        half = tq * math.sqrt(v_logit)
        low, high = (float(special.expit(beta0 + h)) for h in (-half, half))
    elif ci == "wald":
        low, high = p - tq * se, p + tq * se
    else:
        if ci == "logit":
            method = "beta (logit fallback: p = 0 or 1)"
        low, high = _beta_ci(p, variance, n, int(g.sum()), df, level)  # R: degf always
    return ProportionEstimate(
        estimate=p,
        se=se,
        ci_low=low,
        ci_high=high,
        ci_method=method,
        df=df,
        deff=_deff(variance, w, yd, p, n, deff),
        n=n,
        n_success=n_success,
        weighted_base=float(w.sum()),
    )


__all__ = ["rep_mean", "rep_proportion", "rep_total"]
