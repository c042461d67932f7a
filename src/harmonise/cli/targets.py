"""harmonise targets: build a targets file from a Census 2021 table; check one."""

from __future__ import annotations

from pathlib import Path

import click

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group()
def targets() -> None:
    """Population targets files for weighting (docs/targets.md).

    Example:

    \b
        harmonise targets check surveys/targets/bedford-adults-2024.csv \\
            --crosswalk crosswalks/bedford/residents-2024.v1.yaml
    """


def _pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        key, sep, target = value.rpartition("=")
        if not sep or not key.strip() or not target.strip():
            raise click.BadParameter(f"{value!r} is not LABEL=VALUE", param_hint=option)
        if key.strip() in out:
            raise click.BadParameter(f"{key.strip()!r} is given twice", param_hint=option)
        out[key.strip()] = target.strip()
    return out


@targets.command("from-census")
@click.argument("table", type=_FILE)
@click.option("--variable", required=True,
              help="The weighting margin the rows are for (a crosswalk concept: sex, "
                   "age_band, area).")
@click.option("--map", "maps", multiple=True, required=True, metavar="LABEL=CODE",
              help="A census category (label or code) and the crosswalk category it counts "
                   "towards; repeat for each category (several labels may share a code).")
@click.option("--drop", multiple=True, metavar="LABEL",
              help="A census category left out on purpose (e.g. 'Aged 15 years and under' "
                   "for adults); every category must be mapped or dropped.")
@click.option("--dimension", default=None,
              help="The table's variable holding the categories, when it has several (e.g. "
                   "'Sex (2 categories)'); 'geography' makes its areas the categories.")
@click.option("--where", "wheres", multiple=True, metavar="DIMENSION=SELECTION",
              help="Which categories of another dimension to count: labels or codes "
                   "separated by commas, a range of single years '18..100' ('18..' open), "
                   "or '*' for all.")
@click.option("--population", required=True,
              help="The schema population the targets are for (e.g. adults_18plus).")
@click.option("--area-code", "area_codes", multiple=True,
              help="Area code(s) to keep (default: every area in the table); with "
                   "--dimension geography, the code of the whole area.")
@click.option("--area-name", default=None,
              help="With --dimension geography: the name of the whole area.")
@click.option("--table-id", default="", help="The census table id, e.g. TS009.")
@click.option("--source", default="ONS Census 2021", show_default=True,
              help="Where the figures come from.")
@click.option("--licence", default="Open Government Licence v3.0", show_default=True,
              help="The figures' licence.")
@click.option("--status", type=click.Choice(["official", "illustrative"]), default="official",
              show_default=True, help="official, or illustrative for invented figures.")
@click.option("--out", type=_FILE, required=True,
              help="The targets CSV to write (use --append to add to an existing one).")
@click.option("--append", is_flag=True,
              help="Add the rows to --out (refused if it already has this variable for the "
                   "same area and population).")
def from_census(table: Path, variable: str, maps: tuple[str, ...], drop: tuple[str, ...],
                dimension: str | None, wheres: tuple[str, ...], population: str,
                area_codes: tuple[str, ...], area_name: str | None, table_id: str,
                source: str, licence: str, status: str, out: Path, append: bool) -> None:
    """Build targets rows from a Census 2021 table in ONS or Nomis CSV layout.

    TABLE is an ONS "Create a custom dataset" CSV, a Nomis bulk CSV (census2021-ts…) or a
    Nomis API CSV. Every category of the chosen dimension must be mapped (--map) or
    dropped (--drop); every other dimension needs --where; mapped counts may not exceed
    the table's total. The file is written whole or not at all.

    Example:

    \b
        harmonise targets from-census ons_custom_age101_sex_ltla.csv \\
            --variable sex --dimension "Sex (2 categories)" \\
            --map Female=female --map Male=male \\
            --where "Age (101 categories)=18..100" \\
            --population adults_18plus --area-code E06000055 \\
            --table-id TS009 --out surveys/targets/bedford-adults.csv
    """
    import pandas as pd

    from harmonise.errors import TargetsError
    from harmonise.weight.census import census_targets, read_census_table
    from harmonise.weight.targets import REQUIRED

    mapping = _pairs(maps, "--map")
    where = _pairs(wheres, "--where")
    geography = dimension is not None and dimension.strip().casefold() == "geography"
    area: tuple[str, str] | None = None
    if geography:
        if len(area_codes) != 1 or not area_name:
            raise click.UsageError("--dimension geography needs one --area-code and --area-name "
                                   "(the whole area the categories add up to)")
        area = (area_codes[0], area_name)
    rows = census_targets(read_census_table(table), variable=variable, mapping=mapping,
                          population=population, dimension=dimension, drop=drop, where=where,
                          area_codes=() if geography else area_codes, area=area,
                          source=source, table_id=table_id, licence=licence, status=status)
    if append and out.exists():
        old = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        missing = [c for c in REQUIRED if c not in old.columns]
        if missing:
            raise TargetsError(f"{out}: not a targets file (no column(s) {missing}); "
                               "write to a new file instead")
        key = ["area_code", "population", "variable"]
        clash = old.merge(rows[key].astype(str).drop_duplicates(), on=key)
        if not clash.empty:
            first = clash.iloc[0]
            raise TargetsError(
                f"{out}: already has {first['variable']!r} for area {first['area_code']} "
                f"({first['population']}); remove those rows first, or write a new file")
        rows = pd.concat([old, rows.astype({"count": object})], ignore_index=True)
    elif out.exists() and not append:
        raise click.UsageError(f"{out} exists; pass --append to add to it, or choose "
                               "another --out")
    if not out.parent.is_dir():
        raise click.UsageError(f"folder {out.parent} does not exist; create it first")
    rows["count"] = [_count_text(v) for v in rows["count"]]
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        rows.to_csv(tmp, index=False, lineterminator="\n")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    new = rows[rows["variable"] == variable]
    areas = sorted(set(new["area_code"]))
    click.echo(f"Wrote {out}: {variable} in {len(set(new['category']))} categories for "
               f"{len(areas)} area(s) ({', '.join(areas[:5])}{'…' if len(areas) > 5 else ''}).")


def _count_text(value: object) -> str:
    """Counts as written: whole numbers without a decimal point."""
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    return str(int(number)) if number.is_integer() else repr(number)


@targets.command()
@click.argument("targets_file", metavar="TARGETS", type=_FILE)
@click.option("--crosswalk", "crosswalk_path", type=_FILE, required=True,
              help="The crosswalk whose weighting block uses the targets.")
def check(targets_file: Path, crosswalk_path: Path) -> None:
    """Check a targets file against a crosswalk's weighting block: rows for its area and
    population, every margin present and adding to one total, and the same categories as
    the crosswalk recodes to.

    Example:

    \b
        harmonise targets check surveys/targets/bedford-adults-2024.csv \\
            --crosswalk crosswalks/bedford/residents-2024.v1.yaml
    """
    from harmonise.crosswalk.io import load_crosswalk
    from harmonise.weight.targets import check_categories, read_targets_table, select_targets

    cw = load_crosswalk(crosswalk_path)
    spec = cw.weighting
    if spec is None:
        raise click.UsageError(f"{crosswalk_path} has no weighting block to check against")
    table, sha = read_targets_table(targets_file)
    selected = select_targets(table, file=str(targets_file), sha256=sha,
                              area_code=spec.area_code, population=spec.population,
                              variables=spec.margins)
    check_categories(selected, cw, str(crosswalk_path))
    scaled = [m.variable for m in selected.margins.values() if m.scaled]
    click.echo(f"OK: {targets_file} fits {cw.ref}: {selected.area_name} ({selected.area_code}), "
               f"{selected.population}, total {selected.total:,.0f}; margins "
               + ", ".join(f"{v} ({len(m.categories)})" for v, m in selected.margins.items())
               + (f"; rescaled to the first margin's total: {', '.join(scaled)}" if scaled
                  else "") + ".")


COMMANDS = [targets]
