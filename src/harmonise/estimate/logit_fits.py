"""R's ``svyglm(y ~ 1, family = quasibinomial)`` intercept, in the full sample and in
every replicate, for the logit interval of a proportion on a replicate design.

R's ``svyciprop(method = "logit")`` on a replicate design fits the intercept-only logistic
model with ``svyglm``: ``glm.fit`` iterations from per-row starting values in the full
sample, then from the full-sample intercept in each replicate, each to R's ``glm.control()``
tolerance. Every row of an intercept-only model shares one linear predictor, so each fit
reduces to the weighted successes and failures; the functions below are R's C link and
deviance functions on those.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: R's glm.control(): epsilon and maxit.
GLM_EPSILON = 1e-8
GLM_MAXIT = 25
_DBL_EPS = float(np.finfo(float).eps)


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


def logit_fits(y: FloatArray, w: FloatArray, rep: FloatArray) -> tuple[float, FloatArray]:
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


__all__ = ["GLM_EPSILON", "GLM_MAXIT", "logit_fits"]
