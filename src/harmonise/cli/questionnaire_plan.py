"""harmonise questionnaire bridge | sample-size: the bridge from the old questions, and the
sample-size, allocation and transition plan of the joint survey."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from harmonise.cli.questionnaire import DEFAULT_SPEC as SPEC
from harmonise.cli.questionnaire import questionnaire
from harmonise.cli.root import project_root, root_option

if TYPE_CHECKING:
    from harmonise.models.schema import Schema
    from harmonise.questionnaire.bridge import Bridge, JointItem
    from harmonise.questionnaire.measure import SurveyDesignEffect

_FILE = click.Path(path_type=Path, dir_okay=False)
_DIR = click.Path(path_type=Path, file_okay=False)


def _share(name: str) -> click.FloatRange:
    return click.FloatRange(0, 1, min_open=True, max_open=name != "response rate")


def _bridge(root: Path, spec: Path | None) -> tuple[Bridge, Schema, bool]:
    """The bridge from every released crosswalk under ROOT/crosswalks (the joint survey's
    own, in crosswalks/joint/, are not old items) to the joint survey's questions: from
    the questionnaire spec (``--spec``, else ROOT/questionnaire/joint-v1.yaml when it
    exists), else every concept of the newest schema asked of its own population."""
    from harmonise.crosswalk.io import load_crosswalk, load_schema
    from harmonise.crosswalk.validate import crosswalk_files
    from harmonise.questionnaire.bridge import (
        build_bridge,
        default_joint_items,
        joint_items_from_spec,
    )

    path = spec if spec is not None else root / SPEC
    joint: tuple[JointItem, ...]
    if path.exists():
        from harmonise.questionnaire.spec import load_spec

        parsed, schema = load_spec(path)
        joint = joint_items_from_spec(parsed, schema)
        own = f"({parsed.ref})"
    elif spec is not None:
        raise click.BadParameter(f"{spec} does not exist", param_hint="--spec")
    else:
        schema = load_schema(latest_schema(root))
        joint, own = default_joint_items(schema), ""
    crosswalks = [load_crosswalk(p) for p in crosswalk_files([root / "crosswalks"])
                  if p.parent.name != "joint"]
    crosswalks = [c for c in crosswalks if not (own and c.instrument.endswith(own))]
    bridge = build_bridge(joint, schema, crosswalks)
    return bridge, schema, any(c.synthetic for c in crosswalks)


def latest_schema(root: Path) -> Path:
    """The newest ``crosswalks/schema/perception-vN.yaml`` (crosswalks of older versions
    name the same concepts: later versions only add)."""
    found = sorted((root / "crosswalks/schema").glob("perception-v*.yaml"),
                   key=lambda p: int(p.stem.rsplit("-v", 1)[1]) if
                   p.stem.rsplit("-v", 1)[1].isdigit() else -1)
    if not found:
        raise click.ClickException(f"no schema under {root / 'crosswalks/schema'}; run from "
                                   "a harmonise project or give --root")
    return found[-1]


def _json(value: Any) -> str:
    def plain(x: Any) -> Any:
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
        if isinstance(x, list | tuple):
            return [plain(v) for v in x]
        if isinstance(x, dict):
            return {str(k): plain(v) for k, v in x.items()}
        return x
    return json.dumps(plain(value), indent=2, ensure_ascii=False)


@questionnaire.command()
@click.option("--spec", type=_FILE, default=None,
              help=f"Questionnaire spec naming the joint survey's concepts [default: ROOT/{SPEC}"
                   " when it exists, else every schema concept].")
@click.option("--out", type=_DIR, default=None,
              help="Write bridge.xlsx, bridge.md and bridge.html into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the bridge rows as JSON.")
@root_option("Project root whose crosswalks/ are bridged")
def bridge(spec: Path | None, out: Path | None, as_json: bool, root: Path | None) -> None:
    """Bridge each partnership's old questions to the joint survey.

    For every partnership, one row per new question <- old item(s) of its latest released
    crosswalk: comparability grade, what changes (wording, scale points and midpoint, place
    and time, reference period, population, mode) and the expected direction of the effect
    on the series. Every old item appears, bridged or listed as dropped.

    Example:

    \b
        harmonise questionnaire bridge --out reports/questionnaire
    """
    from harmonise.questionnaire.plan import bridge_document
    from harmonise.questionnaire.plan_write import document_files, write_documents

    root = project_root(root)
    result, _, synthetic = _bridge(root, spec)
    if as_json:
        click.echo(_json(result))
    else:
        for csp, name in result.partnerships():
            rows = result.for_partnership(csp)
            counts = ", ".join(f"{sum(1 for r in rows if r.status == s)} {s}"
                               for s in ("bridged", "dropped", "not carried", "new"))
            click.echo(f"{name}: {counts}")
    if out is not None:
        paths = write_documents(document_files(bridge_document(result, synthetic=synthetic),
                                               "bridge"), out)
        click.echo(f"Wrote {', '.join(p.name for p in paths)} to {out}/", err=as_json)


def _populations(values: tuple[str, ...]) -> dict[str, float]:
    from harmonise.questionnaire.samplesize import CENSUS_2021_RESIDENTS

    out = dict(CENSUS_2021_RESIDENTS)
    for v in values:
        key, sep, number = v.partition("=")
        try:
            out[key.strip()] = float(number)
        except ValueError:
            raise click.BadParameter(f"{v!r}: write PARTNERSHIP=N, e.g. luton=225255",
                                     param_hint="--population") from None
        if not sep:
            raise click.BadParameter(f"{v!r}: write PARTNERSHIP=N", param_hint="--population")
    return out


@questionnaire.command("sample-size")
@click.option("--difference", type=_share("difference"), default=0.05, show_default=True,
              help="Difference to detect, as a share (0.05 = 5 points).")
@click.option("--p", "p", type=_share("p"), default=0.5, show_default=True,
              help="Expected proportion the difference is around.")
@click.option("--power", type=_share("power"), default=0.8, show_default=True,
              help="Power of the two-sided test.")
@click.option("--alpha", type=_share("alpha"), default=0.05, show_default=True,
              help="Significance level (two-sided); also sets the margin of error's level.")
@click.option("--response-rate", type=_share("response rate"), default=0.25, show_default=True,
              help="Expected share of invited people who respond.")
@click.option("--compare", "comparison", type=click.Choice(["partnerships", "waves"]),
              default="partnerships", show_default=True,
              help="The difference is between two partnerships, or two waves of one.")
@click.option("--total", type=click.IntRange(1), default=None,
              help="Respondents per form to allocate [default: what the partnerships need].")
@click.option("--allocation", "methods", multiple=True,
              type=click.Choice(["equal", "proportional", "neyman", "power", "kish"]),
              help="Allocation(s) to compare [default: all five]; repeat the option.")
@click.option("--power-a", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Exponent a of the power allocation n_h ∝ σ_h N_h^a.")
@click.option("--kish-i", type=click.FloatRange(0), default=1.0, show_default=True,
              help="Importance I of the county in Kish's compromise allocation.")
@click.option("--minimum", type=click.IntRange(0), default=0, show_default=True,
              help="Fewest respondents any partnership gets in an allocation.")
@click.option("--population", "populations", multiple=True, metavar="CSP=N",
              help="Population size of a partnership [default: Census 2021 residents].")
@click.option("--deff", type=click.FloatRange(1e-6), default=None,
              help="Use this design effect everywhere instead of measuring the surveys.")
@click.option("--pupils-per-school", type=click.FloatRange(1), default=30.0,
              show_default=True,
              help="Planned pupils per school for the young people's clustering effect: "
                   "one class per school, as docs/questionnaire.md recommends (the current "
                   "Luton school sample has about 200).")
@click.option("--precision", type=_share("precision"), default=0.05, show_default=True,
              help="Overlap wave: half-width of the interval of the break in series.")
@click.option("--legacy-share", type=_share("legacy share"), default=0.5, show_default=True,
              help="Overlap wave: share of respondents randomised to the old form.")
@click.option("--spec", type=_FILE, default=None,
              help=f"Questionnaire spec for the transition plan [default: ROOT/{SPEC}].")
@click.option("--manifest", type=_FILE, default=None,
              help="Surveys whose design effects are measured "
                   "[default: ROOT/surveys/manifest.yaml].")
@click.option("--out", type=_DIR, default=None,
              help="Write plan.md, plan.html and plan.xlsx into this folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@root_option("Project root of the surveys and crosswalks")
def sample_size(difference: float, p: float, power: float, alpha: float, response_rate: float,
                comparison: str, total: int | None, methods: tuple[str, ...], power_a: float,
                kish_i: float, minimum: int, populations: tuple[str, ...], deff: float | None,
                pupils_per_school: float | None, precision: float, legacy_share: float,
                spec: Path | None, manifest: Path | None, out: Path | None, as_json: bool,
                root: Path | None) -> None:
    """Respondents per partnership, allocations of a total and the overlap wave.

    How many respondents each partnership needs to detect --difference between two
    partnerships (or two waves) with --power, allowing for the design effect measured on
    the current surveys (Kish's weighting effect; clustering for school samples) and the
    response rate; the margin of error that gives; a fixed --total spread by the equal,
    proportional, Neyman, power and Kish allocations with the margin per partnership and
    for the county; and the split-sample overlap wave that measures the break in series.

    Example:

    \b
        harmonise questionnaire sample-size --difference 0.05 --power 0.8
        harmonise questionnaire sample-size --total 4500 --response-rate 0.2 \\
            --out reports/questionnaire
    """
    from harmonise.questionnaire.measure import (
        FORMS,
        PlanningDeff,
        measure_manifest,
        planning_deffs,
    )
    from harmonise.questionnaire.plan import build_plan, plan_document
    from harmonise.questionnaire.plan_write import document_files, write_documents
    from harmonise.questionnaire.samplesize import PARTNERSHIP_NAMES, PowerGoal
    from harmonise.questionnaire.transition import plan_transition

    root = project_root(root)
    goal = PowerGoal(difference=difference, p=p, alpha=alpha, power=power,
                     response_rate=response_rate)
    sizes = _populations(populations)
    names = {csp: PARTNERSHIP_NAMES.get(csp, csp) for csp in sizes}
    effects: tuple[SurveyDesignEffect, ...] = ()
    if deff is None:
        effects = measure_manifest((manifest or root / "surveys/manifest.yaml").resolve(),
                                   root=root.resolve())
        for e in effects:
            names.setdefault(e.csp, e.csp_name)
        deffs = planning_deffs(effects, names, pupils_per_school=pupils_per_school)
    else:
        deffs = tuple(PlanningDeff(csp, name, form, deff, deff, "given (--deff)")
                      for form in FORMS for csp, name in names.items())
    from harmonise.questionnaire.samplesize import CENSUS_2021_RESIDENTS

    known = set(CENSUS_2021_RESIDENTS) | {e.csp for e in effects}
    unknown = sorted({v.partition("=")[0].strip() for v in populations} - known)
    if unknown:  # a typo must not become a fourth partnership with a borrowed deff
        raise click.BadParameter(
            f"no partnership {', '.join(map(repr, unknown))}; the partnerships are "
            f"{', '.join(sorted(known))} (e.g. --population luton=225255)",
            param_hint="--population")
    missing = sorted({d.csp for d in deffs} - set(sizes))
    if missing:
        raise click.BadParameter(f"no population size for {missing}; give CSP=N",
                                 param_hint="--population")
    bridge_result, schema, synthetic = _bridge(root, spec)
    transition = plan_transition(bridge_result, {c.id: c.theme for c in schema.concepts},
                                 deffs, precision=precision, detect=difference, p=p,
                                 power=power, alpha=alpha, legacy_share=legacy_share)
    plan = build_plan(goal, deffs, sizes, effects=effects, total=total,
                      methods=methods or ("equal", "proportional", "neyman", "power", "kish"),
                      power_a=power_a, kish_i=kish_i, minimum=minimum, transition=transition,
                      comparison=comparison,
                      synthetic=synthetic or any(e.synthetic for e in effects))
    if as_json:
        click.echo(_json(plan))
    else:
        click.echo(f"n per group under simple random sampling: "
                   f"{plan.forms[0].plans[0].n_srs:,.1f} (R power.prop.test formula)")
        for fp in plan.forms:
            click.echo(f"\n{FORMS[fp.form]}")
            for pp in fp.plans:
                click.echo(f"  {pp.csp_name:<22} deff {pp.deff:5.2f}  respondents "
                           f"{pp.respondents:>6,}  invitations {pp.invited:>7,}  "
                           f"margin ±{100 * pp.margin:.1f} pts")
            click.echo(f"  allocations of {fp.total:,} (respondents; margin ± pts):")
            for a in fp.allocations:
                parts = "  ".join(f"{s.name} {n:,} (±{100 * m:.1f})"
                                  for s, n, m in zip(a.strata, a.n, a.margins, strict=True))
                click.echo(f"    {a.method:<12} {parts}  county ±{100 * a.county_margin:.1f}")
        click.echo(f"\nOverlap wave: {len(transition.items)} item(s) in both forms; per arm "
                   f"for the break to ±{100 * precision:g} pts:")
        for arm in transition.arms:
            click.echo(f"  {arm.csp_name:<22} {FORMS[arm.form]:<34} old "
                       f"{arm.legacy_arm_precision:,} / joint {arm.joint_arm_precision:,}")
    if plan.synthetic and not as_json:
        click.echo("Note: design effects measured on SYNTHETIC sample surveys.")
    if out is not None:
        paths = write_documents(document_files(plan_document(plan), "plan"), out)
        click.echo(f"Wrote {', '.join(x.name for x in paths)} to {out}/", err=as_json)


#: Registered on the ``questionnaire`` group above; nothing to add at the top level.
COMMANDS: list[click.Command] = []
