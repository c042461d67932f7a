"""The transition plan: an overlap wave that measures the break in each series (pure).

In the overlap wave each partnership fields its **old form and the joint form side by
side**, with respondents (pupils: within each school) **randomised between the forms**
(split sample). The difference between the arms on an item is the break in series: it is
published with its confidence interval and used to join the old series to the new one.

:func:`plan_transition` picks the items worth fielding in both forms (a few headline
items whose question changes, ranked by theme and by how many changes move the headline
share) from the :class:`~harmonise.questionnaire.bridge.Bridge`, and sizes the arms:

- **precision**: the break estimated to ``± h`` (half-width of its 1 − α interval):
  ``T = z² deff p(1 − p) (1/r + 1/(1 − r)) / h²`` respondents in all, ``r T`` on the old
  form (``r = 0.5``: ``2 z² deff p(1 − p) / h²`` per arm);
- **power**: a break of ``δ`` detected with the chosen power: statsmodels' two-proportion
  sample size (R's ``power.prop.test``) with ``ratio = (1 − r)/r``, times the design effect.

The design effect of a difference between randomised arms of one sample is the weighting
effect only when the randomisation is within schools (clustering cancels out of the
difference); see :class:`~harmonise.questionnaire.measure.PlanningDeff`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from harmonise.errors import PlanningError
from harmonise.questionnaire.bridge import Bridge, BridgeRow, population_family
from harmonise.questionnaire.measure import PlanningDeff
from harmonise.questionnaire.samplesize import n_two_proportions, z_value

#: Themes in the order the overlap wave should cover them (headline series first).
THEME_ORDER = ("safety", "problems", "police", "worry", "victimisation", "wellbeing",
               "online", "weapons", "priorities", "what_helps")


@dataclass(frozen=True)
class Practice:
    """A published precedent the plan follows, and how."""

    name: str
    what: str
    source: str
    followed: str


#: Precedents (facts from /work/shared/design/anchors.md A1, with the sources it cites).
PRACTICE: tuple[Practice, ...] = (
    Practice(
        name="Crime Survey for England and Wales (ONS), face-to-face and telephone",
        what="After the telephone survey that replaced interviews in 2020, face-to-face "
             "interviewing restarted in October 2021 and the two modes ran in parallel for "
             "six months, to March 2022, before headline crime was judged 'broadly "
             "comparable', and then only on three conditions (adults 18+ only, no "
             "overlapping periods, a screener question removed from both years).",
        source="ONS, 'Comparability between the Telephone-operated Crime Survey for England "
               "and Wales and the face-to-face CSEW' (July 2021) and 'Update to "
               "comparability…' (27 October 2022)",
        followed="Old and new forms run side by side through one whole fieldwork period "
                 "(the overlap wave), and each series is joined only after its break has "
                 "been measured and the conditions for comparing (population, item, period) "
                 "written down.",
    ),
    Practice(
        name="Understanding Society (UK Household Longitudinal Study), wave 8 push-to-web",
        what="Households were randomised between web-first and face-to-face-first in the "
             "first year of wave 8, and a 20% ring-fenced face-to-face benchmark sample was "
             "kept while the web-first share was stepped up in later waves.",
        source="Understanding Society, 'Analysis advice for mixed mode data' and the mode "
               "effects topic page (understandingsociety.ac.uk)",
        followed="Respondents are randomised between the forms, so the difference between "
                 "the arms estimates the break free of who chose to answer; an unequal split "
                 "keeping a smaller benchmark arm on the old form is allowed (legacy share "
                 "r) at the cost of precision, 1/r + 1/(1 − r) instead of 4.",
    ),
)


@dataclass(frozen=True)
class OverlapItem:
    """An item to field in both forms in the overlap wave, and why."""

    csp: str
    csp_name: str
    form: str
    concept: str
    indicator: str
    indicator_label: str
    new_question: str
    legacy_items: str
    legacy_crosswalk: str
    grade: str
    changes: str
    direction: str


@dataclass(frozen=True)
class ArmSize:
    """Respondents per arm for one partnership's form in the overlap wave."""

    csp: str
    csp_name: str
    form: str
    deff: float
    legacy_arm_precision: int  #: old-form arm for the break to ± precision
    joint_arm_precision: int
    legacy_arm_power: int  #: old-form arm to detect a break of the chosen size
    joint_arm_power: int
    items: int


@dataclass(frozen=True)
class TransitionPlan:
    items: tuple[OverlapItem, ...]
    arms: tuple[ArmSize, ...]
    p: float
    precision: float
    detect: float
    power: float
    alpha: float
    legacy_share: float
    practice: tuple[Practice, ...] = PRACTICE


def _rank(row: BridgeRow, theme: str) -> tuple[int, int, int, str]:
    moving = sum(1 for c in row.changes if c.effect)
    order = THEME_ORDER.index(theme) if theme in THEME_ORDER else len(THEME_ORDER)
    return (order, -moving, -len(row.changes), row.concept)


def overlap_items(bridge: Bridge, themes: dict[str, str], *,
                  max_items: int = 5) -> tuple[OverlapItem, ...]:
    """Per partnership and form, up to ``max_items`` bridged headline items whose question
    changes, where the old survey covers the same population as the joint form asking it
    (the arms are randomised within one population); demographics and select-multiple
    reasons are left out (they ride along)."""
    chosen: list[OverlapItem] = []
    groups: dict[tuple[str, str], list[BridgeRow]] = {}
    for row in bridge.rows:
        theme = themes.get(row.concept, "")
        form = population_family(row.joint_population)
        if (row.status != "bridged" or not row.changes or not row.indicator
                or theme in ("demographics", "") or row.joint_scale == "multi"
                or population_family(row.legacy_population) != form):
            continue
        groups.setdefault((row.csp, form), []).append(row)
    for (csp, form), rows in sorted(groups.items()):
        for row in sorted(rows, key=lambda r: _rank(r, themes.get(r.concept, "")))[:max_items]:
            chosen.append(OverlapItem(
                csp=csp, csp_name=row.csp_name, form=form, concept=row.concept,
                indicator=row.indicator, indicator_label=row.indicator_label,
                new_question=row.new_question, legacy_items=row.legacy_items,
                legacy_crosswalk=row.legacy_crosswalk, grade=row.grade,
                changes=row.changes_text, direction=row.direction))
    return tuple(chosen)


def total_for_precision(precision: float, *, p: float = 0.5, deff: float = 1.0,
                        alpha: float = 0.05, legacy_share: float = 0.5) -> float:
    """Respondents in both arms together for the break to ``± precision``."""
    if not 0 < precision < 1 or not 0 < legacy_share < 1 or deff <= 0:
        raise PlanningError(f"precision and legacy share must be in (0, 1) and deff positive; "
                            f"got {precision}, {legacy_share}, {deff}")
    r = legacy_share
    return z_value(alpha) ** 2 * deff * p * (1 - p) * (1 / r + 1 / (1 - r)) / precision**2


def plan_transition(bridge: Bridge, themes: dict[str, str], deffs: Sequence[PlanningDeff], *,
                    precision: float = 0.05, detect: float = 0.05, p: float = 0.5,
                    power: float = 0.8, alpha: float = 0.05, legacy_share: float = 0.5,
                    max_items: int = 5) -> TransitionPlan:
    """The overlap items and the arm sizes per partnership × form (module docstring).

    ``themes`` maps concept ids to schema themes; ``deffs`` give each partnership's
    ``break_deff`` per form (a form with overlap items but no design effect is an error).
    """
    items = overlap_items(bridge, themes, max_items=max_items)
    by_key = {(d.csp, d.form): d for d in deffs}
    r = legacy_share
    arms: list[ArmSize] = []
    for key in sorted({(i.csp, i.form) for i in items}):
        d = by_key.get(key)
        if d is None:
            raise PlanningError(f"no design effect for {key[0]}'s {key[1]} form; measure the "
                                "surveys or give --deff")
        total = total_for_precision(precision, p=p, deff=d.break_deff, alpha=alpha,
                                    legacy_share=r)
        legacy_power = n_two_proportions(detect, p, alpha=alpha, power=power,
                                         ratio=(1 - r) / r) * d.break_deff
        arms.append(ArmSize(
            csp=d.csp, csp_name=d.csp_name, form=key[1], deff=d.break_deff,
            legacy_arm_precision=math.ceil(r * total - 1e-9),
            joint_arm_precision=math.ceil((1 - r) * total - 1e-9),
            legacy_arm_power=math.ceil(legacy_power - 1e-9),
            joint_arm_power=math.ceil(legacy_power * (1 - r) / r - 1e-9),
            items=sum(1 for i in items if (i.csp, i.form) == key)))
    return TransitionPlan(items=items, arms=tuple(arms), p=p, precision=precision,
                          detect=detect, power=power, alpha=alpha, legacy_share=r)


__all__ = [
    "PRACTICE",
    "ArmSize",
    "OverlapItem",
    "Practice",
    "TransitionPlan",
    "overlap_items",
    "plan_transition",
    "total_for_precision",
]
