"""Composition of tariff and iceberg shocks into arrays."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import ScenarioError
from kaifang.scenario import parse_scenario
from kaifang.scenario.shocks import compose_shocks, parse_shocks

REG = ["CAN", "MEX", "USA", "ROW"]
SEC = ["Agriculture", "Mining"]


def _sc(shocks: str):
    return parse_scenario(f'name="t"\nmodel="caliendo_parro"\ndataset="demo"\n{shocks}', source="t.toml")


def _compose(sc, base=None, tables=None):
    base = np.full((4, 4, 2), 0.05) if base is None else base
    return compose_shocks(
        parse_shocks(sc), regions=REG, sectors=SEC, tariff_base=base, scenario=sc, tables=tables
    )


def test_set_add_scale_in_order_and_no_domestic_tariffs():
    sc = _sc(
        '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nexporter="all"\nvalue=10\n'
        '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="MEX"\nsector="Mining"\nvalue=5\n'
        '[[shocks]]\ntype="tariff"\nop="scale"\nimporter="ROW"\nvalue=0.5\n'
    )
    out = _compose(sc)
    t = out.tariff_new
    assert t[2, 2, 0] == pytest.approx(0.05)  # USA on itself untouched
    assert t[2, 0, 0] == pytest.approx(0.10)
    assert t[2, 1, 1] == pytest.approx(0.15)
    assert t[3, 0, 1] == pytest.approx(0.025)
    assert t[0, 1, 0] == pytest.approx(0.05)


def test_group_selector_and_table():
    sc = _sc('[[shocks]]\ntype="tariff"\nop="set"\nimporter="NAFTA"\nexporter="NAFTA"\nfrom_table="zero"\n')
    out = _compose(sc, tables={"zero": lambda: np.zeros((4, 4, 2))})
    t = out.tariff_new
    assert np.all(t[:3, :3][~np.eye(3, dtype=bool)] == 0)
    assert np.all(t[3] == 0.05) and np.all(t[:3, 3] == 0.05)


def test_conflicting_sets_are_an_error():
    sc = _sc(
        '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nvalue=10\n'
        '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nexporter="MEX"\nvalue=20\n'
    )
    with pytest.raises(ScenarioError, match=r"shocks\[0\] and shocks\[1\] both set the tariff of USA on"):
        _compose(sc)


def test_tariff_below_minus_100_is_an_error():
    sc = _sc('[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nvalue=-120\n')
    with pytest.raises(ScenarioError, match=r"shocks\[0\].*at or below -100%"):
        _compose(sc)


def test_unknown_region_suggests_closest():
    sc = _sc('[[shocks]]\ntype="tariff"\nop="set"\nimporter="UAS"\nvalue=1\n')
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.importer.*unknown region 'UAS'.*'USA'"):
        _compose(sc)


def test_unknown_sector_is_named():
    sc = _sc('[[shocks]]\ntype="tariff"\nop="set"\nsector="Minig"\nvalue=1\n')
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.sector.*unknown sector 'Minig'.*'Mining'"):
        _compose(sc)


def test_bad_op_names_field():
    sc = _sc('[[shocks]]\ntype="tariff"\nop="raise"\nvalue=1\n')
    with pytest.raises(ScenarioError, match=r"field 'shocks\[0\]\.op' has value 'raise'"):
        parse_shocks(sc)


def test_iceberg_international_only():
    sc = _sc('[[shocks]]\ntype="iceberg"\nimporter="USA"\nvalue=-10\n')
    out = _compose(sc)
    assert out.dhat[2, 2, 0] == 1.0
    assert out.dhat[2, 0, 1] == pytest.approx(0.9)
