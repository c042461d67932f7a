"""Targets from Census 2021 tables (ONS / Nomis CSV layouts) and the category check.

The tables under ``tests/data/census/`` are BUILT (``make_fixtures.py``) in the published
layouts with invented counts; see that folder's README.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.crosswalk.io import load_crosswalk
from harmonise.errors import TargetsError
from harmonise.weight.census import census_targets, parse_census_table, read_census_table
from harmonise.weight.targets import check_categories, read_targets_table, select_targets

DATA = Path(__file__).resolve().parent.parent / "data" / "census"
ROOT = DATA.parent.parent.parent
BEDFORD_CW = ROOT / "crosswalks/bedford/residents-2024.v1.yaml"
AGE = "Age (101 categories)"
SEX = "Sex (2 categories)"
AGE_MAP = {"18..34": "18_34", "35..49": "35_49", "50..64": "50_64", "65..": "65_plus"}


def _long() -> pd.DataFrame:
    return pd.read_csv(DATA / "ons_custom_age101_sex_ltla.csv")


def test_three_layouts_are_read() -> None:
    ons = read_census_table(DATA / "ons_custom_age101_sex_ltla.csv")
    assert ons.layout == "ons" and ons.dimensions == (AGE, SEX)
    assert len(ons.rows) == 2 * 101 * 2
    bulk = read_census_table(DATA / "census2021-ts007a-ltla.csv")
    assert bulk.layout == "nomis-bulk" and bulk.dimensions == ("Age",)
    assert "Aged 85 years and over" in set(bulk.rows["Age"])
    api = read_census_table(DATA / "nomis_api_ts008_ltla.csv")
    assert api.layout == "nomis-api" and set(api.rows["C2021_SEX_3"]) == {
        "All persons", "Female", "Male"}
    assert len(api.rows) == 6  # the Percent rows are left out


def test_adults_by_sex_from_single_years_of_age() -> None:
    rows = census_targets(read_census_table(DATA / "ons_custom_age101_sex_ltla.csv"),
                          variable="sex", dimension=SEX, mapping={"Female": "female",
                                                                  "Male": "male"},
                          where={AGE: "18..100"}, population="adults_18plus",
                          area_codes=["E06000055"], table_id="TS009")
    raw = _long()
    adults = raw[(raw["Lower tier local authorities Code"] == "E06000055")
                 & (raw["Age (101 categories) Code"] >= 18)]
    expected = adults.groupby("Sex (2 categories)")["Observation"].sum()
    assert rows["category"].tolist() == ["female", "male"]
    assert rows["count"].tolist() == [expected["Female"], expected["Male"]]
    assert set(rows["area_name"]) == {"Bedford"} and set(rows["reference_date"]) == {
        "2021-03-21"}


def test_age_bands_by_ranges_and_a_drop() -> None:
    table = read_census_table(DATA / "ons_custom_age101_sex_ltla.csv")
    rows = census_targets(table, variable="age_band", dimension=AGE, mapping=AGE_MAP,
                          drop=["0..17"], where={SEX: "*"}, population="adults_18plus")
    assert sorted(set(rows["area_code"])) == ["E06000055", "E06000056"]
    raw = _long()
    bed = raw[raw["Lower tier local authorities Code"] == "E06000055"]
    age = bed["Age (101 categories) Code"]
    got = rows[rows["area_code"] == "E06000055"].set_index("category")["count"]
    assert got["18_34"] == bed.loc[(age >= 18) & (age <= 34), "Observation"].sum()
    assert got["65_plus"] == bed.loc[age >= 65, "Observation"].sum()
    assert list(got.index) == list(AGE_MAP.values())  # the order of --map


def test_wards_as_area_categories_add_up_to_the_authority() -> None:
    mapping = {"Castle": "castle", "Kingsbrook": "kingsbrook", "Brickhill": "brickhill",
               "Putnoe": "putnoe", "Kempston Central": "kempston_central",
               "E05999996": "wootton"}  # a code works as well as a name
    rows = census_targets(read_census_table(DATA / "ons_custom_age101_wards.csv"),
                          variable="area", dimension="geography", mapping=mapping,
                          where={AGE: "18.."}, population="adults_18plus",
                          area=("E06000055", "Bedford"))
    sex = census_targets(read_census_table(DATA / "ons_custom_age101_sex_ltla.csv"),
                         variable="sex", dimension=SEX, mapping={"Female": "f", "Male": "m"},
                         where={AGE: "18.."}, population="adults_18plus",
                         area_codes=["E06000055"])
    assert set(rows["area_code"]) == {"E06000055"}
    assert rows["count"].sum() == sex["count"].sum()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mapping": {"18..34": "18_34"}, "where": {SEX: "*"}},
         r"neither mapped nor dropped: 'Aged under 1 year'.*--drop '0\.\.17'"),
        ({"mapping": AGE_MAP, "drop": ["0..17"]},
         r"say which categories of 'Sex \(2 categories\)' to count"),
        ({"mapping": AGE_MAP | {"60..70": "x"}, "drop": ["0..17"], "where": {SEX: "*"}},
         "'Aged 60 years' is mapped to two categories"),
        ({"mapping": AGE_MAP, "drop": ["0..18"], "where": {SEX: "*"}},
         "'Aged 18 years' is both mapped and dropped"),
        ({"mapping": AGE_MAP | {"Aged 200 years": "x"}, "drop": ["0..17"], "where": {SEX: "*"}},
         "--map 'Aged 200 years' matches no category"),
        ({"mapping": AGE_MAP, "drop": ["0..17"], "where": {SEX: "Femail"}},
         "matches no category of 'Sex"),
    ],
    ids=["unmapped", "no-where", "mapped-twice", "mapped-and-dropped", "map-typo", "where-typo"],
)
def test_refusals_name_file_dimension_and_category(kwargs: dict[str, object],
                                                   message: str) -> None:
    table = read_census_table(DATA / "ons_custom_age101_sex_ltla.csv")
    with pytest.raises(TargetsError, match=message) as err:
        census_targets(table, variable="age_band", dimension=AGE, population="a",
                       **kwargs)  # type: ignore[arg-type]
    assert "ons_custom_age101_sex_ltla.csv" in str(err.value)


def test_a_subtotal_mapped_with_its_parts_is_refused() -> None:
    table = read_census_table(DATA / "census2021-ts007a-ltla.csv")
    bands = sorted(set(table.rows["Age"]) - {"Total"})
    mapping = {b: "all" for b in bands}
    rows = census_targets(table, variable="age_band", mapping=mapping, population="p")
    totals = table.rows[table.rows["Age"] == "Total"].set_index("area_code")["count"]
    assert rows.set_index("area_code")["count"].to_dict() == totals.to_dict()
    # the same bands plus a (doctored) subtotal column double count: refused
    raw = pd.read_csv(DATA / "census2021-ts007a-ltla.csv")
    raw["Age: Aged 15 to 24 years; measures: Value"] = (
        raw["Age: Aged 15 to 19 years; measures: Value"]
        + raw["Age: Aged 20 to 24 years; measures: Value"])
    doctored = parse_census_table(raw.to_csv(index=False).encode(), "doctored.csv")
    with pytest.raises(TargetsError, match=r"more than the table's total.*drop one of them"):
        census_targets(doctored, variable="age_band",
                       mapping=mapping | {"Aged 15 to 24 years": "all"}, population="p")


def test_not_a_census_table() -> None:
    with pytest.raises(TargetsError, match="not a census table in a layout"):
        parse_census_table(b"a,b\n1,2\n", "x.csv")
    with pytest.raises(TargetsError, match=r"row 3, column 'Observation'.*not a count"):
        parse_census_table(b"Area Code,Area,Sex Code,Sex,Observation\nE1,A,1,F,3\nE1,A,2,M,x\n",
                           "y.csv")


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def _build_bedford(out: Path) -> None:
    table = str(DATA / "ons_custom_age101_sex_ltla.csv")
    common = ["--population", "adults_18plus", "--out", str(out)]
    code, text = _cli("targets", "from-census", table, "--variable", "sex", "--dimension", SEX,
                      "--map", "Female=female", "--map", "Male=male",
                      "--where", f"{AGE}=18..100", "--area-code", "E06000055",
                      "--table-id", "TS009", *common)
    assert code == 0, text
    age_maps = [x for k, v in AGE_MAP.items() for x in ("--map", f"{k}={v}")]
    code, text = _cli("targets", "from-census", table, "--variable", "age_band",
                      "--dimension", AGE, *age_maps, "--drop", "0..17", "--where", f"{SEX}=*",
                      "--area-code", "E06000055", *common, "--append")
    assert code == 0, text
    wards = [x for k, v in (("Castle", "castle"), ("Kingsbrook", "kingsbrook"),
                            ("Brickhill", "brickhill"), ("Putnoe", "putnoe"),
                            ("Kempston Central", "kempston_central"), ("Wootton", "wootton"))
             for x in ("--map", f"{k}={v}")]
    code, text = _cli("targets", "from-census", str(DATA / "ons_custom_age101_wards.csv"),
                      "--variable", "area", "--dimension", "geography", *wards,
                      "--where", f"{AGE}=18..", "--area-code", "E06000055",
                      "--area-name", "Bedford", *common, "--append")
    assert code == 0, text
    assert "area in 6 categories for 1 area(s) (E06000055)" in text


def test_cli_builds_a_targets_file_the_weighting_accepts(tmp_path: Path) -> None:
    out = tmp_path / "bedford.csv"
    _build_bedford(out)
    code, text = _cli("targets", "check", str(out), "--crosswalk", str(BEDFORD_CW))
    assert code == 0, text
    assert text.startswith("OK:") and "sex (2), age_band (4), area (6)" in text
    table, sha = read_targets_table(out)
    assert set(table["status"]) == {"official"} and (table["year"] == "2021").all()
    cw = load_crosswalk(BEDFORD_CW)
    assert cw.weighting is not None
    targets = select_targets(table, file=str(out), sha256=sha, area_code="E06000055",
                             population="adults_18plus", variables=cw.weighting.margins)
    assert not any(m.scaled for m in targets.margins.values())  # all add to one total
    # appending the same variable again is refused and the file is unchanged
    before = out.read_bytes()
    code, text = _cli("targets", "from-census", str(DATA / "ons_custom_age101_sex_ltla.csv"),
                      "--variable", "sex", "--dimension", SEX, "--map", "Female=female",
                      "--map", "Male=male", "--where", f"{AGE}=18..", "--area-code",
                      "E06000055", "--population", "adults_18plus", "--out", str(out),
                      "--append")
    assert code != 0 and "already has 'sex' for area E06000055" in text
    assert out.read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))


def test_cli_error_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    code, text = _cli("targets", "from-census", str(DATA / "census2021-ts007a-ltla.csv"),
                      "--variable", "age_band", "--map", "Aged 4 years and under=x",
                      "--population", "p", "--out", str(out))
    assert code == 2 and "neither mapped nor dropped" in text and not out.exists()


def test_targets_categories_that_differ_from_the_crosswalk_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "bedford.csv"
    _build_bedford(out)
    text = out.read_text(encoding="utf-8").replace(",18_34,", ",16_34,")
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    code, message = _cli("targets", "check", str(bad), "--crosswalk", str(BEDFORD_CW))
    assert code == 2
    assert (f"{bad}: variable 'age_band' has no category '18_34', which crosswalk "
            f"{BEDFORD_CW} recodes '1' to") in message.replace("\n", " ")
    assert "Make them the same" in message
    # and a target category the crosswalk never produces
    cw = load_crosswalk(BEDFORD_CW)
    table, sha = read_targets_table(bad)
    extra = pd.concat([read_targets_table(out)[0], table[table["category"] == "16_34"]])
    assert cw.weighting is not None
    targets = select_targets(extra.assign(count=extra["count"].astype(float)), file="x.csv",
                             sha256=sha, area_code="E06000055", population="adults_18plus",
                             variables=cw.weighting.margins, tolerance=1.0)
    with pytest.raises(TargetsError, match=r"category '16_34' has a population target but "
                                           "crosswalk .* recodes no value to it"):
        check_categories(targets, cw, str(BEDFORD_CW))


def test_crosswalk_validate_reports_targets_that_do_not_fit(tmp_path: Path) -> None:
    """`crosswalk validate` checks the weighting block's targets file when it finds it."""
    from harmonise.crosswalk.validate import targets_issues

    cw = load_crosswalk(BEDFORD_CW)
    assert targets_issues(cw, BEDFORD_CW) == []
    item = next(i for i in cw.items if i.concept == "age_band")
    bad_item = item.model_copy(update={"recode": {**item.recode, 1: "16_34"}})
    bad = cw.model_copy(update={"items": tuple(bad_item if i is item else i
                                                for i in cw.items)})
    issues = targets_issues(bad, BEDFORD_CW)
    assert [i.code for i in issues] == ["targets-invalid"]
    assert "variable 'age_band' has no category '16_34'" in issues[0].message
    assert targets_issues(bad, tmp_path / "elsewhere.v1.yaml") == []  # not found: the run says


def test_a_two_variable_nomis_bulk_table_gives_what_the_long_table_gives() -> None:
    """Nomis bulk headers with two variables ('Sex: Female; Age: Aged 18 years; measures:
    Value'), rebuilt here from the long fixture, give the same targets."""
    raw = _long()
    wide: dict[str, list[object]] = {"date": [], "geography": [], "geography code": []}
    for (code, name), area in raw.groupby(["Lower tier local authorities Code",
                                           "Lower tier local authorities"]):
        wide["date"].append(2021)
        wide["geography"].append(name)
        wide["geography code"].append(code)
        for row in area.itertuples(index=False):
            header = f"Sex: {row[5]}; Age: {row[3]}; measures: Value"
            wide.setdefault(header, []).append(row[6])
    text = pd.DataFrame(wide).to_csv(index=False).encode()
    bulk = parse_census_table(text, "census2021-ts009-ltla.csv")
    assert bulk.layout == "nomis-bulk" and bulk.dimensions == ("Sex", "Age")
    got = census_targets(bulk, variable="sex", dimension="Sex",
                         mapping={"Female": "female", "Male": "male"}, where={"Age": "18.."},
                         population="adults_18plus", area_codes=["E06000055"])
    want = census_targets(read_census_table(DATA / "ons_custom_age101_sex_ltla.csv"),
                          variable="sex", dimension=SEX,
                          mapping={"Female": "female", "Male": "male"}, where={AGE: "18.."},
                          population="adults_18plus", area_codes=["E06000055"])
    assert got["count"].tolist() == want["count"].tolist()
