"""Design effects measured on the current surveys, for planning the joint survey.

:func:`survey_design_effect` is pure: from one :class:`~harmonise.models.harmonised.
WeightedSurvey` and the schema it gives Kish's weighting effect of the final weights, for a
clustered sample (schools) the number and mean size of clusters and the median ANOVA
intra-class correlation of its single-answer indicators, and the median full design
effect of those indicators as the estimate stage measures it (``svymean(deff = TRUE)``:
weighting, calibration and clustering together).

:func:`measure_manifest` composes the bundled pipeline's stages (ingest → recode → weight
→ estimate) over a manifest, as :mod:`harmonise.pipeline` does, reading files only through
the stage loaders.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harmonise.models.harmonised import WeightedSurvey
from harmonise.models.schema import MISSING_TYPES, Schema
from harmonise.questionnaire.samplesize import clustering_deff, icc_anova, kish_deff


@dataclass(frozen=True)
class SurveyDesignEffect:
    """How much less a current survey's sample is worth than a simple random sample."""

    survey: str  #: crosswalk id@version
    csp: str
    csp_name: str
    wave: str
    population: str
    mode: str
    n: int
    kish: float  #: n Σw² / (Σw)² of the final weights
    clusters: int | None = None  #: schools (PSUs), None when not clustered
    mean_cluster_size: float | None = None
    cv_cluster_size: float | None = None
    icc: float | None = None  #: median ANOVA ICC over the single-answer indicators
    measured: float | None = None  #: median full design effect of the indicators
    synthetic: bool = False  #: measured on a synthetic sample survey

    @property
    def clustering(self) -> float:
        """``1 + ((1 + cv²) m̄ − 1) ρ`` for a clustered sample, 1 otherwise."""
        if self.icc is None or self.mean_cluster_size is None:
            return 1.0
        return clustering_deff(self.mean_cluster_size, self.icc, self.cv_cluster_size or 0.0)

    @property
    def planning(self) -> float:
        """The design effect to plan with: Kish × clustering, or the measured full design
        effect when that is larger (the safer of the two)."""
        return max(self.kish * self.clustering, self.measured or 0.0)


#: The joint survey's forms, by population family (see bridge.population_family).
FORMS: dict[str, str] = {
    "adults": "Adults 16+ (residents)",
    "young_people": "Young people 11-18 (school-based)",
}


@dataclass(frozen=True)
class PlanningDeff:
    """The design effect one partnership's form is planned with, and where it came from.

    ``deff`` is for estimates from the whole sample; ``break_deff`` for the difference
    between two randomised arms of the same sample (randomising within schools takes the
    clustering out of the difference, so only the weighting effect is left).
    """

    csp: str
    csp_name: str
    form: str
    deff: float
    break_deff: float
    source: str
    icc: float | None = None  #: ICC the clustering effect was planned with (school forms)
    cluster_size: float | None = None  #: pupils per school it was planned with

    def with_cluster_size(self, size: float) -> float:
        """The design effect with ``size`` pupils per school instead (same ICC and weighting
        effect); the planned one when the form is not clustered."""
        if self.icc is None:
            return self.deff
        return self.break_deff * clustering_deff(size, self.icc)


def planning_deffs(effects: Sequence[SurveyDesignEffect], partnerships: Mapping[str, str], *,
                   pupils_per_school: float | None = None) -> tuple[PlanningDeff, ...]:
    """Design effects per partnership × form from the measured ones (pure).

    Each partnership's latest survey of the form's population family gives Kish's weighting
    effect (and, for adults, the measured full design effect when larger). The young
    people's form is planned school-based: its clustering ``1 + (m − 1) ρ`` uses the
    median ICC of the clustered surveys and ``pupils_per_school`` (default: their mean
    cluster size). A partnership with no survey of a form borrows the largest design effect
    of the others, and says so.
    """
    from harmonise.questionnaire.bridge import population_family

    latest: dict[tuple[str, str], SurveyDesignEffect] = {}
    for e in sorted(effects, key=lambda e: (e.wave, e.survey)):
        latest[(e.csp, population_family(e.population))] = e
    clustered = [e for e in effects if e.icc is not None and e.mean_cluster_size]
    icc = statistics.median(e.icc for e in clustered if e.icc is not None) if clustered else None
    m = pupils_per_school or (statistics.mean(e.mean_cluster_size or 1.0 for e in clustered)
                              if clustered else None)
    out: list[PlanningDeff] = []
    for form in FORMS:
        own: dict[str, tuple[float, float, str]] = {}
        clustered_form = form == "young_people" and icc is not None and m is not None
        for csp in partnerships:
            found = latest.get((csp, form))
            if found is None:
                continue
            e = found
            if clustered_form and icc is not None and m is not None:
                cl = clustering_deff(m, icc)
                icc_from = sorted({c.survey for c in clustered if c.survey != e.survey})
                whose = (f" borrowed from {', '.join(icc_from)}"
                         if icc_from and e not in clustered else "")
                own[csp] = (e.kish * cl, e.kish,
                            f"Kish {e.kish:.2f} ({e.survey}) × clustering 1 + ({m:.0f} − 1) × "
                            f"ICC {icc:.4f}{whose} = {cl:.2f}")
            else:
                deff = e.planning
                what = (f"measured full design effect {deff:.2f}" if e.measured and
                        e.measured >= e.kish * e.clustering else f"Kish {deff:.2f}")
                own[csp] = (deff, e.kish, f"{what} ({e.survey})")
        if not own:
            continue
        worst = max(own, key=lambda c: own[c][0])
        for csp, name in partnerships.items():
            if csp in own:
                deff, brk, source = own[csp]
            else:
                deff, brk, _ = own[worst]
                source = (f"borrowed: no {form.replace('_', ' ')} survey in this partnership; "
                          f"the largest of the others ({partnerships.get(worst, worst)})")
            out.append(PlanningDeff(csp, name, form, deff, brk, source,
                                    icc=icc if clustered_form else None,
                                    cluster_size=m if clustered_form else None))
    return tuple(out)


def _indicator_columns(ws: WeightedSurvey, schema: Schema) -> list[tuple[np.ndarray, np.ndarray]]:
    """(success, valid) per single-answer indicator the survey answers."""
    out: list[tuple[np.ndarray, np.ndarray]] = []
    data = ws.data
    concepts = {i.concept for i in ws.survey.crosswalk.items if i.concept and not i.option}
    for ind in schema.indicators:
        if ind.concept not in concepts or ind.concept not in data.columns:
            continue
        scale = ws.survey.scales.get(ind.concept)
        if scale is None or scale not in ind.success:
            continue
        values = data[ind.concept].astype("object")
        out.append((values.isin(ind.success[scale]).to_numpy(),
                    (~values.isin(MISSING_TYPES)).to_numpy()))
    return out


def survey_design_effect(ws: WeightedSurvey, schema: Schema, *,
                         full_deffs: Sequence[float] = ()) -> SurveyDesignEffect:
    """Design effects of one weighted survey. ``full_deffs`` are the whole-sample design
    effects of its indicators from the estimate stage (their median is reported)."""
    cw = ws.survey.crosswalk
    weights = ws.data["_weight"].to_numpy(dtype=float)
    clusters = icc = mean_size = cv_size = None
    if cw.design.cluster:
        codes = ws.data["_cluster"].to_numpy()
        sizes = np.unique(codes, return_counts=True)[1].astype(float)
        clusters = int(sizes.size)
        mean_size = float(sizes.mean())
        cv_size = float(sizes.std() / sizes.mean())
        iccs = [icc_anova(success[valid].astype(float), codes[valid])
                for success, valid in _indicator_columns(ws, schema)
                if len(np.unique(codes[valid])) >= 2 and valid.sum() > clusters]
        icc = float(statistics.median(iccs)) if iccs else None
    finite = [d for d in full_deffs if d is not None and np.isfinite(d)]
    return SurveyDesignEffect(
        survey=cw.ref, csp=cw.csp, csp_name=cw.csp_name, wave=cw.wave,
        population=cw.population, mode=cw.mode, n=len(weights), kish=kish_deff(weights),
        clusters=clusters, mean_cluster_size=mean_size, cv_cluster_size=cv_size, icc=icc,
        measured=float(statistics.median(finite)) if finite else None,
        synthetic=cw.synthetic,
    )


def measure_manifest(manifest_path: Path, *, root: Path) -> tuple[SurveyDesignEffect, ...]:
    """Run ingest → recode → weight → estimate on every survey of a manifest and measure
    each one's design effects (no report is written)."""
    from harmonise.crosswalk.io import load_crosswalk_hashed, load_schema_hashed
    from harmonise.errors import HarmoniseError
    from harmonise.estimate.indicators import estimate_indicators
    from harmonise.ingest import read_survey
    from harmonise.models.harmonised import CrosswalkRef
    from harmonise.pipeline import _targets_for, load_manifest
    from harmonise.recode import apply_crosswalk
    from harmonise.weight.stage import weight_survey

    manifest = load_manifest(manifest_path)
    schema, _ = load_schema_hashed(root / manifest.schema_path)
    out: list[SurveyDesignEffect] = []
    for entry in manifest.surveys:
        cw, sha = load_crosswalk_hashed(root / entry.crosswalk)
        survey = read_survey(root / entry.file, encoding=entry.encoding, sheet=entry.sheet,
                             keep=cw.privacy.keep or None,
                             postcode_district=cw.privacy.postcode_district or None)
        hs = apply_crosswalk(survey, cw, schema,
                             CrosswalkRef(cw.crosswalk, cw.version, sha, entry.crosswalk))
        try:
            ws = weight_survey(hs, _targets_for(root, cw.weighting))
        except HarmoniseError as exc:
            raise type(exc)(f"{entry.file} ({cw.ref}): {exc}") from exc
        rows = estimate_indicators(ws, schema, by=[]).rows
        whole = rows[(rows["group_var"] == "all") & (rows["option"] == "")]
        out.append(survey_design_effect(
            ws, schema, full_deffs=[float(d) for d in whole["deff"].dropna()]))
    return tuple(out)


__all__ = [
    "FORMS",
    "PlanningDeff",
    "SurveyDesignEffect",
    "measure_manifest",
    "planning_deffs",
    "survey_design_effect",
]
