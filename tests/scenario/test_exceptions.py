"""Selections with exceptions: { select = ..., except = ... } for regions, sectors and groups."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.scenario import parse_scenario
from kaifang.scenario.select import EmptySelectionError, resolve
from kaifang.scenario.shocks import compose_shocks, parse_shocks

REG = ["AUT", "DEU", "FRA", "CHN", "USA", "ROW"]
SEC = ["Agriculture", "Food", "Auto", "Retail"]


def _r(sel, labels=REG, **kw):
    return [
        labels[i]
        for i in resolve(sel, labels, what=kw.pop("what", "region"), field="f", source="s.toml", **kw)
    ]


def test_everyone_except_china():
    assert _r({"except": "CHN"}) == ["AUT", "DEU", "FRA", "USA", "ROW"]
    assert _r({"select": "all", "except": ["CHN", "USA"]}) == ["AUT", "DEU", "FRA", "ROW"]


def test_group_except_a_member_and_a_group_as_exception():
    with pytest.warns(KaifangWarning, match=r"group 'EU@1995'.*part of 'ROW'"):
        assert _r({"select": "EU@1995", "except": "Germany"}) == ["AUT", "FRA"]
    # excepting a group whose other members are in ROW: ROW stays, and the warning says so
    with pytest.warns(KaifangWarning, match=r"group 'EU'.*which this exception does not leave out"):
        assert _r({"except": "EU"}) == ["CHN", "USA", "ROW"]


def test_exception_outside_the_selection_is_an_error():
    with pytest.raises(
        ScenarioError,
        match=r"field 'f\.except': 'CHN' is not part of the selection \['AUT', 'DEU'\], so leaving it out",
    ):
        _r({"select": ["AUT", "DEU"], "except": "CHN"})
    with pytest.raises(ScenarioError, match=r"unknown region 'CHNA'.*'CHN'"):
        _r({"except": "CHNA"})


def test_exceptions_that_remove_everything_select_nothing():
    with pytest.raises(EmptySelectionError, match=r"the exceptions \['AUT', 'DEU'\] remove every region"):
        _r({"select": ["AUT", "DEU"], "except": ["AUT", "DEU"]})


def test_sector_exceptions():
    assert _r({"select": ["Agriculture", "Food", "Auto"], "except": "Auto"}, SEC, what="sector") == [
        "Agriculture",
        "Food",
    ]


def test_user_groups_with_exceptions():
    groups = {"EU_NO_DEU": {"select": ["AUT", "DEU", "FRA"], "except": "DEU"}, "WEST": ["EU_NO_DEU", "USA"]}
    assert _r("WEST", groups=groups) == ["AUT", "FRA", "USA"]
    with pytest.raises(ScenarioError, match=r"field 'groups\.BAD\.except': 'CHN' is not a member"):
        _r("BAD", groups={"BAD": {"select": ["AUT"], "except": "CHN"}})


def _sc(body: str):
    return parse_scenario(f'name="t"\nmodel="caliendo_parro"\ndataset="demo"\n{body}', source="t.toml")


def _compose(sc, base=None):
    base = np.zeros((6, 6, 4)) if base is None else base
    return compose_shocks(parse_shocks(sc), regions=REG, sectors=SEC, tariff_base=base, scenario=sc)


GENERAL = '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nexporter={e}\nvalue=10\n'
CHINA = '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nexporter="CHN"\nvalue=34\n'


def test_a_general_rate_and_a_specific_rate_without_conflict():
    """10 % on everyone except China, 34 % on China: no arithmetic by hand, no conflict."""
    out = _compose(_sc(GENERAL.format(e='{ except = "CHN" }') + CHINA)).tariff_new
    usa = REG.index("USA")
    for k, r in enumerate(REG):
        expected = 0.0 if r == "USA" else (0.34 if r == "CHN" else 0.10)
        assert np.allclose(out[usa, k], expected), r
    assert np.all(np.delete(out, usa, axis=0) == 0)  # no one else's tariffs change


def test_without_the_exception_the_conflict_error_points_to_it():
    with pytest.raises(
        ScenarioError, match=r"shocks\[0\] and shocks\[1\] both set .*exporter = \{ except = \"CHN\" \}"
    ):
        _compose(_sc(GENERAL.format(e='"all"') + CHINA))


@pytest.mark.parametrize(
    ("sel", "pattern"),
    [
        ('{ exept = "CHN" }', r"unknown key 'exept' in a selection table\. Did you mean 'except'"),
        ('{ select = "EU" }', r"a selection table needs 'except'"),
        ("{ except = 5 }", r"its 'except' is 5 \(an integer\)"),
        ('["USA", 5]', r"item 1 is 5 \(an integer\)"),
    ],
)
def test_malformed_selections_get_one_clear_message(sel, pattern):
    with pytest.raises(ScenarioError, match=r"t\.toml: field 'shocks\[0\]\.exporter'.*" + pattern):
        parse_shocks(_sc(GENERAL.format(e=sel)))


def test_mirror_and_retaliation_keep_the_exceptions():
    sc = _sc(GENERAL.format(e='{ except = ["CHN", "ROW"] }').replace("value=10", "value=10\nmirror=true"))
    t = _compose(sc).tariff_new
    usa, chn, aut = REG.index("USA"), REG.index("CHN"), REG.index("AUT")
    assert np.allclose(t[aut, usa], 0.10) and np.all(t[chn, usa] == 0) and np.all(t[usa, chn] == 0)
