"""Country groups: built-in classifications, EU by year, user groups, mapping onto data sets."""

from __future__ import annotations

import pandas as pd
import pytest

from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.scenario import BUILTIN_GROUPS, parse_scenario, resolve
from kaifang.scenario.groups import GROUPS, group_members, sector_groups
from kaifang.scenario.select import selection_report


def _coco_column(col: str) -> set[str]:
    from importlib import resources

    with resources.as_file(resources.files("country_converter") / "country_data.tsv") as p:
        df = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    return set(df.loc[df[col].notna(), "ISO3"])


# The EU's enlargements (European Union, "From 6 to 27 members"): sizes by year.
@pytest.mark.parametrize(
    ("name", "size"),
    [
        ("EU@1958", 6),
        ("EU@1972", 6),
        ("EU@1973", 9),
        ("EU@1981", 10),
        ("EU@1986", 12),
        ("EU@1995", 15),
        ("EU@2004", 25),
        ("EU@2007", 27),
        ("EU@2013", 28),
        ("EU@2019", 28),
        ("EU@2020", 27),
        ("EU", 27),
        ("EU15", 15),
        ("EU28", 28),
    ],
)
def test_eu_size_by_year(name, size):
    assert len(group_members(name)) == size


def test_eu_by_year_membership():
    assert "GBR" in group_members("EU@2019") and "GBR" not in group_members("EU@2020")
    assert "HRV" not in group_members("EU@2012") and "HRV" in group_members("EU@2013")
    assert set(group_members("EU@2004")) - set(group_members("EU@2003")) == {
        "CYP",
        "CZE",
        "EST",
        "HUN",
        "LVA",
        "LTU",
        "MLT",
        "POL",
        "SVK",
        "SVN",
    }


@pytest.mark.parametrize(
    ("ours", "coco"), [("EU", "EU"), ("EU15", "EU15"), ("EU28", "EU28"), ("EU27_2007", "EU27_2007")]
)
def test_own_eu_table_agrees_with_country_converter(ours, coco):
    """Our dated EU table and country_converter's (independent) EU columns agree."""
    assert set(group_members(ours)) == _coco_column(coco)


def test_other_groups():
    assert group_members("NAFTA") == group_members("usmca") == ("CAN", "MEX", "USA")
    assert set(group_members("G7")) == {"CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"}
    assert len(group_members("ASEAN@1995")) == 7 and "VNM" in group_members("ASEAN@1995")
    assert len(group_members("ASEAN@1999")) == 10
    assert set(group_members("CPTPP@2018")) == {"AUS", "CAN", "JPN", "MEX", "NZL", "SGP"}
    assert "GBR" in group_members("CPTPP") and "CHN" not in group_members("CPTPP")
    assert len(group_members("RCEP")) == 15 and "CHN" in group_members("RCEP")
    assert set(group_members("BRICS@2011")) == {"BRA", "CHN", "IND", "RUS", "ZAF"}
    assert len(group_members("LLDC")) == 32
    assert set(group_members("CENTRAL_ASIA")) == {"KAZ", "KGZ", "TJK", "TKM", "UZB"}
    assert {"BRA", "MEX", "ARG", "JAM"} <= set(group_members("LAC"))
    assert "EGY" not in group_members("SSA") and {"NGA", "ZAF", "KEN"} <= set(group_members("SSA"))
    assert {"EGY", "SAU", "MAR"} <= set(group_members("MENA"))
    assert "MEX" in group_members("OECD") and "MEX" not in group_members("OECD@1993")
    # the 20 founding signatories (OECD Convention, 1960); by ratification date (the OECD's
    # list of member countries) Italy counts from 1962, the other 19 from 1961
    assert len(group_members("OECD@1961")) == 19 and "ITA" not in group_members("OECD@1961")
    assert len(group_members("OECD@1962")) == 20
    assert BUILTIN_GROUPS["NAFTA"] == ("CAN", "MEX", "USA")
    assert "EU" in GROUPS


def test_unknown_group_suggests():
    with pytest.raises(ScenarioError, match=r"unknown group 'ASAEN@2000'.*'ASEAN'"):
        group_members("ASAEN@2000")


def test_year_for_group_without_history():
    with pytest.raises(ScenarioError, match=r"group 'G7' has no membership history.*drop '@2000'"):
        group_members("G7@2000")


def test_group_before_it_existed():
    with pytest.raises(ScenarioError, match="had no members in 1950"):
        group_members("EU@1950")


REG = ["AUT", "DEU", "FRA", "CHN", "USA", "ROW"]


def test_absent_members_warn_and_are_reported():
    report: dict = {}
    with pytest.warns(
        KaifangWarning, match=r"group 'EU@1995'.*12 of its 15 members.*BEL \(Belgium\).*part of 'ROW'"
    ):
        got = resolve("EU@1995", REG, what="region", field="f", source="s.toml", report=report)
    assert [REG[i] for i in got] == ["AUT", "DEU", "FRA"]  # ROW is not added
    assert report["EU@1995"]["absent_in"] == "ROW"
    assert "BEL" in report["EU@1995"]["absent"] and report["EU@1995"]["present"] == ["AUT", "DEU", "FRA"]


def test_group_without_any_member_in_data_set():
    with pytest.raises(ScenarioError, match=r"group 'ASEAN' has no member that is a region"):
        resolve("ASEAN", REG, what="region", field="f", source="s.toml")


def test_country_not_separate_region_points_to_row():
    with pytest.raises(ScenarioError, match=r"country 'Vietnam' \(VNM, .*\) is not a separate region.*'ROW'"):
        resolve("Vietnam", REG, what="region", field="shocks[0].exporter", source="s.toml")


def test_country_names_resolve():
    assert resolve(["China", "United States"], REG, what="region", field="f", source="s") == [3, 4]
    # country_converter's name patterns: common short names
    assert resolve(["UK", "Korea"], ["GBR", "KOR", "ROW"], what="region", field="f", source="s") == [0, 1]


def test_unknown_region_suggests_closest():
    with pytest.raises(ScenarioError, match=r"unknown region 'CHNA'.*'CHN'"):
        resolve("CHNA", REG, what="region", field="f", source="s.toml")


def test_empty_selection():
    with pytest.raises(ScenarioError, match="is an empty list"):
        resolve([], REG, what="region", field="shocks[0].importer", source="s.toml")


def test_user_groups_nested_and_cycles():
    groups = {"CORE": ["DEU", "FRA"], "BIG": ["CORE", "USA", "China"]}
    assert resolve("BIG", REG, what="region", field="f", source="s", groups=groups) == [1, 2, 3, 4]
    with pytest.raises(ScenarioError, match="contains itself"):
        resolve("A", REG, what="region", field="f", source="s", groups={"A": ["B"], "B": ["A"]})
    with pytest.raises(ScenarioError, match=r"groups.E' is an empty list"):
        resolve("E", REG, what="region", field="f", source="s", groups={"E": []})
    with pytest.raises(ScenarioError, match=r"unknown member 'Narnia'"):
        resolve("X", REG, what="region", field="f", source="s", groups={"X": ["DEU", "Narnia"]})


def test_user_group_with_builtin_members_warns_for_absent():
    with pytest.warns(KaifangWarning, match="group 'MINE'"):
        got = resolve("MINE", REG, what="region", field="f", source="s", groups={"MINE": ["G7"]})
    assert [REG[i] for i in got] == ["DEU", "FRA", "USA"]


def test_sector_groups_cp2015():
    from kaifang.scenario.groups import SECTOR_GROUPS

    labels = list(SECTOR_GROUPS["cp2015"]["goods"]) + list(SECTOR_GROUPS["cp2015"]["services"])
    assert len(labels) == 40
    goods = resolve("goods", labels, what="sector", field="f", source="s", dataset="cp2015")
    services = resolve("Services", labels, what="sector", field="f", source="s", dataset="cp2015")
    manu = resolve("manufacturing", labels, what="sector", field="f", source="s", dataset="cp2015")
    assert goods == list(range(20)) and services == list(range(20, 40)) and manu == list(range(2, 20))
    with pytest.raises(ScenarioError, match=r"unknown sector 'servics'.*'services'"):
        resolve("servics", labels, what="sector", field="f", source="s", dataset="cp2015")


def test_sector_groups_demo_by_name():
    demo = ["Farming", "Metals", "Machinery", "Services"]
    assert sector_groups("demo", demo)["services"] == ("Services",)


def test_selection_report_lists_absent_members():
    sc = parse_scenario(
        'name="t"\nmodel="caliendo_parro"\ndataset="demo"\n'
        '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="EU"\nvalue=10\n'
    )
    rep = selection_report(sc, REG)
    assert rep["EU"]["absent_in"] == "ROW" and len(rep["EU"]["absent"]) == 24
