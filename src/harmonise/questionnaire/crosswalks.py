"""The joint survey's own crosswalks, identical by construction (pure: models and text).

One crosswalk per form and partnership (``crosswalks/joint/<csp>-<form>.vN.yaml``): a
crosswalk names one CSP and one weighting population, and the joint survey is fielded by
each partnership for adults and young people. Every item maps the export column of a
question (Kobo/ODK group path) whose choice names *are* the schema codes, so each recode
is the identity and each grade ``identical``. Don't know and prefer not to say map to
``dont_know`` and ``refused``; a blank cell is ``not_asked`` for a routed question and
``no_answer`` otherwise (questions are required, so online exports only have the first).

The build writes them as drafts; ``harmonise crosswalk release`` releases and locks them
like any other crosswalk, and a test checks the released files equal what the spec builds.
"""

from __future__ import annotations

from collections.abc import Sequence

from harmonise.crosswalk.dump import dump_crosswalk
from harmonise.models.crosswalk import BLANK, Crosswalk, Item
from harmonise.models.schema import Schema
from harmonise.questionnaire.layout import FormLayout, Question
from harmonise.questionnaire.spec import Partnership, band_code

#: Columns every Kobo CSV export adds (submission metadata): not answers, never mapped.
KOBO_METADATA = ("_id", "_uuid", "_submission_time", "_validation_status", "_notes",
                 "_status", "_submitted_by", "__version__", "_tags", "_index")


def crosswalk_id(spec_name: str, partnership: Partnership, layout: FormLayout) -> str:
    return f"{spec_name}-{partnership.csp}-{layout.form.id.replace('_', '-')}"


def crosswalk_path(partnership: Partnership, layout: FormLayout) -> str:
    """Path under ``crosswalks/`` (the lock key)."""
    return (f"{layout.spec.questionnaire}/{partnership.csp}-"
            f"{layout.form.id.replace('_', '-')}.v{layout.spec.version}.yaml")


def _missing(q: Question) -> dict[str | int | float, str]:
    out: dict[str | int | float, str] = dict(q.missing)
    out[BLANK] = "not_asked" if q.relevant else "no_answer"
    return out


def _note(q: Question, beyond: str | None, population: str) -> str:
    text = ("Built from the questionnaire spec: the schema's wording and scale, choice names "
            "equal to the schema codes.")
    if q.relevant:
        text += f" Routed: asked if {q.ask_when}; blank = not asked."
    if beyond:
        text += (f" Asked of {population}, outside the concept's standard population: "
                 f"{' '.join(beyond.split())}")
    return text


def build_crosswalk(layout: FormLayout, partnership: Partnership, schema: Schema) -> Crosswalk:
    spec = layout.spec
    rel = spec.release
    beyond = {i.concept: i.beyond_population for _, i in spec.items_in(layout.form.id)}
    items: list[Item] = []
    unmapped: dict[str, str] = {k: "Kobo/ODK submission metadata, not an answer"
                                for k in KOBO_METADATA}
    for q in layout.questions:
        if q.kind == "integer":
            unmapped[q.path] = ("age in years: the form derives the weighting age band from "
                                "it; the exact age is not carried forward")
            continue
        note = _note(q, beyond.get(q.concept), layout.form.population)
        codes = [c.name for c in q.choices if c.name not in dict(q.missing)]
        if q.kind == "select_multiple":
            unmapped[q.path] = "space-joined copy of the 0/1 option columns, mapped per option"
            for code in codes:
                items.append(Item(
                    id=f"{q.name}.{code}", concept=q.concept, option=code,
                    source=f"{q.path}/{code}", question=q.label,
                    recode={1: "selected", 0: "not_selected"},
                    missing={BLANK: "not_asked" if q.relevant else "no_answer"},
                    comparability="identical", note=note))
            continue
        items.append(Item(id=q.name, concept=q.concept, source=q.path, question=q.label,
                          recode={c: c for c in codes}, missing=_missing(q),
                          comparability="identical", note=note))
        if q.scale == "ethnic19":  # the five groups, from the same column
            items.append(Item(
                id=f"{q.name}_5", concept="ethnic_group5", source=q.path, question=q.label,
                recode={c: c.split("_")[0] for c in codes}, missing=_missing(q),
                comparability="identical",
                note="The GSS standard's five groups, derived from the 19 categories."))
    for d in layout.derived:
        if d.concept == "age_band":
            bands = [band_code(b) for b in layout.form.age_bands]
            items.append(Item(
                id="age_band", concept="age_band", source=d.path,
                question="What is your age? (banded in the form)",
                recode={b: b for b in bands}, missing={BLANK: "no_answer"},
                comparability="identical",
                note=("Age asked in years (GSS age standard's question) and banded in the "
                      "form to the weighting bands of the targets file.")))
    cw = Crosswalk.model_validate({
        "crosswalk": crosswalk_id(spec.questionnaire, partnership, layout),
        "version": spec.version,
        "status": "draft",
        "schema": spec.schema_ref,
        "synthetic": rel.synthetic,
        "csp": partnership.csp,
        "csp_name": partnership.name,
        "instrument": f"{spec.title}: {layout.form.title} ({spec.ref})",
        "wave": rel.wave,
        "fieldwork_start": rel.fieldwork_start,
        "fieldwork_end": rel.fieldwork_end,
        "population": layout.form.population,
        "mode": " ".join(layout.form.mode.split()),
        "sampling": " ".join(layout.form.sampling.split()),
        "respondent_id": "_id",
        "design": {"strata": None, "cluster": layout.form.cluster, "base_weight": None},
        "weighting": {"method": "rake", "targets": rel.targets,
                      "area_code": partnership.area_code,
                      "population": layout.form.population, "margins": list(rel.margins)},
        "unmapped": unmapped,
        "changelog": [f"v{spec.version}: built from questionnaire/{spec.ref}.yaml by "
                      "harmonise questionnaire build; identical by construction."],
        "items": items,
    })
    return cw


def crosswalk_text(cw: Crosswalk, spec_ref: str) -> str:
    head = (f"# {cw.crosswalk} v{cw.version}: the joint survey's own crosswalk, built from\n"
            f"# questionnaire/{spec_ref}.yaml by `harmonise questionnaire build`.\n"
            "# Do not edit: change the spec (or the schema) and build a new version.\n")
    return head + dump_crosswalk(cw)


def build_crosswalks(layouts: Sequence[FormLayout], schema: Schema) -> dict[str, str]:
    """Crosswalk path under ``crosswalks/`` -> draft YAML text, for every form × partnership."""
    out: dict[str, str] = {}
    for lay in layouts:
        for p in lay.spec.partnerships:
            out[crosswalk_path(p, lay)] = crosswalk_text(build_crosswalk(lay, p, schema),
                                                         lay.spec.ref)
    return out
