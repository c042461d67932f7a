"""The variance of linearised totals under a :class:`Design`: R's ``survey:::svyrecvar``.

``variance_matrix(design, x, active)`` is the covariance matrix of the column totals of
the scores ``x`` (``n × k``), vectorised with ``np.bincount``:

1. Rows outside ``active`` (the rows of R's ``subset()``) get score 0 — R drops them —
   unless the design is calibrated or PPS, whose domains keep every row (R sets their
   weight to 0), so every stratum counts.
2. Each calibration adjustment, in order (raking backfit, post-stratification means,
   GREG residuals; see :mod:`harmonise.weight.adjustments`).
3. Per stage ``s`` (stages after the first only with an fpc, as R): per stratum ``g`` of
   that stage, ``(1 − f_g) · n_g/(n_g − 1) · Σ_j (t_j − t̄_g)(t_j − t̄_g)ᵀ`` over its
   sampled units' totals ``t_j``, ``t̄_g = Σ t_j / n_g`` with ``n_g`` counted in the whole
   sample, times the product of the sampling fractions ``n/N`` of the enclosing units
   at the earlier stages (R's ``multistage``).
   Under Brewer's PPS (``Design.pps == "brewer"``) ``f`` is ``1 − π_j`` per unit
   (R's ``svydesign(pps = "brewer")``); a domain of a PPS design keeps every row, as a
   calibrated design's does (R's ``[.survey.design2``).
   A Hartley–Rao design (``pps == "HR"``) replaces steps 3–4 by
   :func:`harmonise.estimate.pps.hartley_rao_variance`.
4. Strata with a single unit follow ``Design.lonely_psu`` as R's ``onestrat``: ``fail``
   raises, ``remove``/``certainty`` add 0, ``adjust`` adds ``(1 − f) t tᵀ`` (centred at
   0), ``average`` scales stage 1 by ``strata / strata with ≥ 2 units``. A stratum
   sampled completely (``f = 0``) adds 0 and never fails.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from harmonise.errors import EstimationError
from harmonise.estimate.design import LONELY_PSU_OPTIONS, Design, Stage
from harmonise.estimate.pps import hartley_rao_variance

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]

#: R's onestrat treats a stratum with f below this as sampled completely.
CERTAINTY = 1e-7


def _column_sums(index: IntArray, x: FloatArray, size: int) -> FloatArray:
    return np.column_stack(
        [np.bincount(index, weights=x[:, j], minlength=size) for j in range(x.shape[1])]
    )


def _lonely_message(design: Design, stage: int, lonely: IntArray, labels: IntArray) -> str:
    names = ", ".join(str(int(labels[h])) for h in lonely[:10])
    if stage == 0:
        which = f"strata {names} have" if lonely.size > 1 else f"stratum {names} has"
        what = "only one PSU (cluster)"
    else:
        which = f"{lonely.size} stage-{stage} unit(s) (first: {names}) have"
        what = f"only one sampled stage-{stage + 1} unit and an fpc below 100%"
    return (
        f"{which} {what}, so the variance within it cannot be estimated; set "
        "Design(lonely_psu=...) / lonely_psu: in the design file to one of "
        f"{', '.join(o for o in LONELY_PSU_OPTIONS if o != 'fail')} "
        "(as R's options(survey.lonely.psu=...)), or collapse the stratum with a similar one"
    )


def _stage_variance(
    design: Design, s: int, st: Stage, x: FloatArray, present: BoolArray, mult: FloatArray
) -> FloatArray:
    size_g = st.n.size
    totals = _column_sums(st.unit, x, st.group.size)
    unit_here = np.bincount(st.unit[present], minlength=st.group.size) > 0
    here = np.bincount(st.group[unit_here], minlength=size_g) > 0
    f_unit = 1.0 - st.unit_fraction
    # R's onestrat: a stratum is certain when every unit the subset reaches has f ≈ 0
    certain = np.bincount(st.group[unit_here & (f_unit >= CERTAINTY)], minlength=size_g) == 0
    single = st.n == 1
    lonely = here & single & ~certain
    option = design.lonely_psu
    if lonely.any() and option == "fail":
        raise EstimationError(_lonely_message(design, s, np.flatnonzero(lonely), st.group_label))
    if lonely.any() and option == "average" and s > 0:
        raise EstimationError(
            f"lonely_psu='average' cannot average a stage-{s + 1} stratum with one unit "
            "(R returns NaN); use 'adjust' or 'remove' for this design"
        )
    centre = _column_sums(st.group, totals, size_g) / st.n[:, None]
    if option == "adjust":
        centre[single] = 0.0
    dev = totals - centre[st.group]
    ratio = np.where(single, 1.0, st.n / np.maximum(st.n - 1, 1))
    include = here & ~certain & (~single | (option == "adjust"))
    unit_scale = np.where(include[st.group], f_unit * (ratio * mult)[st.group], 0.0)
    v: FloatArray = (dev * unit_scale[:, None]).T @ dev
    if option == "average" and s == 0 and lonely.any():
        ok = int(np.sum(here & ~lonely))
        if ok == 0:
            raise EstimationError(
                "lonely_psu='average' needs at least one stratum with two or more PSUs, but "
                "every stratum has one; use 'adjust' or 'remove', or collapse strata"
            )
        v = v * (int(here.sum()) / ok)
    return v


def variance_matrix(design: Design, scores: np.ndarray, active: np.ndarray) -> FloatArray:
    """Covariance matrix of the totals of the columns of ``scores`` (see module doc).

    ``scores`` is ``n × k`` (or ``n``, giving a 1 × 1 matrix); ``active`` marks the rows
    of the subset the statistic is computed on (all True for the whole sample).
    """
    x = np.array(scores, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    act = np.asarray(active, dtype=bool)
    if x.shape[0] != design.n or act.shape != (design.n,):
        raise EstimationError(
            f"scores have {x.shape[0]} rows and the domain {act.size} for a design of "
            f"{design.n} respondents; give one per respondent, in the design's row order"
        )
    if design.keeps_rows:
        present = np.ones(design.n, dtype=bool)
    else:
        present = act
        x[~act] = 0.0
    for adjustment in design.adjustments:
        x = adjustment.apply(x)
    if design.pps == "HR":
        return hartley_rao_variance(design, x)
    stages = design.stages if design.fpc is not None else design.stages[:1]
    v = np.zeros((x.shape[1], x.shape[1]))
    mult = np.ones(stages[0].n.size)
    for s, st in enumerate(stages):
        v = v + _stage_variance(design, s, st, x, present, mult)
        mult = mult[st.group] * st.unit_fraction  # next stage's strata: this stage's units
    return v


def degrees_of_freedom(design: Design, domain: np.ndarray) -> int:
    """R's ``degf(subset(design, domain))``: PSUs minus strata among the domain's rows."""
    d = np.asarray(domain, dtype=bool)
    stratum = design.stratum_index[d]
    if design.psu_count == design.n:  # every respondent is its own PSU
        psus = stratum.size
    else:
        psus = int(np.count_nonzero(np.bincount(design.psu_index[d], minlength=1)))
    strata = int(np.count_nonzero(np.bincount(stratum, minlength=1)))
    return int(psus - strata)


__all__ = ["CERTAINTY", "degrees_of_freedom", "variance_matrix"]
