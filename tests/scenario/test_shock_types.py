"""The policy shock types beyond plain tariffs: mirror/retaliation, ntb, embargo, agreement,
productivity, deficit; their composition and conflicts."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.scenario import parse_scenario
from kaifang.scenario.shocks import (
    EMBARGO_FACTOR,
    check_supported,
    compose_shocks,
    parse_shocks,
    scale_deficits,
)

REG = ["CAN", "CHN", "USA", "ROW"]
SEC = ["Agriculture", "Mining", "Food", "Textile", "Finance", "Health"]


def _sc(body: str, head: str = ""):
    return parse_scenario(
        f'name="t"\nmodel="caliendo_parro"\ndataset="demo"\n{head}\n{body}', source="t.toml"
    )


def _compose(sc):
    return compose_shocks(
        parse_shocks(sc), regions=REG, sectors=SEC, tariff_base=np.full((4, 4, 6), 0.05), scenario=sc
    )


def test_mirror_applies_the_same_change_both_ways():
    out = _compose(
        _sc('[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="CHN"\nvalue=25\nmirror=true\n')
    )
    t = out.tariff_new
    assert np.allclose(t[2, 1], 0.30) and np.allclose(t[1, 2], 0.30)
    assert np.allclose(t[0], 0.05) and np.allclose(t[3], 0.05)


def test_retaliation_by_label_with_override():
    sc = _sc(
        '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="CHN"\nvalue=25\nlabel="us"\n'
        '[[shocks]]\ntype="retaliation"\nagainst="us"\nvalue=10\nsector=["Agriculture"]\n'
    )
    t = _compose(sc).tariff_new
    assert np.allclose(t[2, 1], 0.30)
    assert t[1, 2, 0] == pytest.approx(0.15) and np.allclose(t[1, 2, 1:], 0.05)


def test_retaliation_must_answer_earlier_tariff():
    with pytest.raises(
        ScenarioError, match=r"shocks\[0\]\.against' has value 'nope', the label of no earlier"
    ):
        parse_shocks(_sc('[[shocks]]\ntype="retaliation"\nagainst="nope"\n'))
    with pytest.raises(ScenarioError, match=r"shocks\[1\]\.against' has value 3"):
        parse_shocks(_sc('[[shocks]]\ntype="iceberg"\nvalue=1\n[[shocks]]\ntype="retaliation"\nagainst=3\n'))
    with pytest.raises(ScenarioError, match="a retaliation answers a tariff shock"):
        parse_shocks(_sc('[[shocks]]\ntype="iceberg"\nvalue=1\n[[shocks]]\ntype="retaliation"\nagainst=0\n'))


def test_ntb_is_an_iceberg_factor_from_ave():
    sc = _sc(
        '[[shocks]]\ntype="ntb"\nimporter="CHN"\nsector=["Finance","Health"]\nvalue=-20\nfrom_ave=50\n'
        '[[shocks]]\ntype="ntb"\nimporter="USA"\nexporter="CAN"\nsector="Food"\nvalue=10\n'
    )
    d = _compose(sc).dhat
    assert d[1, 0, 4] == pytest.approx(1.30 / 1.50) and d[1, 1, 4] == 1.0  # international only
    assert d[1, 0, 0] == 1.0
    assert d[2, 0, 2] == pytest.approx(1.10)


def test_ntb_out_of_range():
    with pytest.raises(ScenarioError, match=r"shocks\[0\].*from_ave \+ value = -110 must stay above -100"):
        parse_shocks(_sc('[[shocks]]\ntype="ntb"\nvalue=-120\nfrom_ave=10\n'))


def test_embargo_flags_cells_and_uses_large_factor():
    out = _compose(_sc('[[shocks]]\ntype="embargo"\nimporter="USA"\nexporter="CHN"\nmirror=true\n'))
    assert out.embargo[2, 1].all() and out.embargo[1, 2].all() and out.embargo.sum() == 12
    assert np.allclose(out.dhat[2, 1], EMBARGO_FACTOR) and np.allclose(out.dhat[0], 1.0)


def test_embargo_twice_is_not_doubled():
    sc = _sc('[[shocks]]\ntype="embargo"\nimporter="USA"\nexporter="CHN"\n' * 2)
    with pytest.warns(
        KaifangWarning, match=r"shocks\[1\] changes nothing: every selected pair is already under"
    ):
        out = _compose(sc)
    assert np.allclose(out.dhat[2, 1], EMBARGO_FACTOR) and out.unchanged == (1,)


def test_agreement_with_embargo_conflicts():
    sc = _sc(
        '[[shocks]]\ntype="embargo"\nimporter="USA"\nexporter="CHN"\n'
        '[[shocks]]\ntype="agreement"\nmembers=["USA","CHN","CAN"]\nestimate=0.5\n'
    )
    with pytest.raises(
        ScenarioError, match=r"shocks\[0\] \(embargo\) and shocks\[1\] \(agreement\).*contradiction"
    ):
        _compose(sc)


def test_agreement_effect_members_both_directions():
    sc = _sc(
        '[[shocks]]\ntype="agreement"\nmembers=["USA","CHN"]\nestimate=0.4\nsource="Yotov et al. 2016"\n'
        '[[shocks]]\ntype="agreement"\nop="leave"\nimporter="CAN"\nexporter="USA"\ncoefficient="rta"\n'
    )
    out = _compose(sc)
    assert np.allclose(out.agreement[2, 1], 0.4) and np.allclose(out.agreement[1, 2], 0.4)
    assert np.allclose(out.agreement[2, 2], 0.0)
    assert len(out.agreements) == 2 and out.agreements[1][0].coefficient == "rta"
    assert out.agreements[1][1][0, 2].all()


def test_agreement_needs_size_and_pairs():
    with pytest.raises(ScenarioError, match="give exactly one of 'estimate'"):
        parse_shocks(_sc('[[shocks]]\ntype="agreement"\nmembers="NAFTA"\n'))
    with pytest.raises(ScenarioError, match="give 'members'"):
        parse_shocks(_sc('[[shocks]]\ntype="agreement"\nimporter="USA"\nestimate=0.3\n'))


def test_productivity_and_cost_factor():
    out = _compose(_sc('[[shocks]]\ntype="productivity"\nregion="CHN"\nsector="Textile"\nvalue=10\n'))
    assert out.productivity.shape == (4, 6) and out.productivity[1, 3] == pytest.approx(1.1)
    assert out.productivity.sum() == pytest.approx(23 + 1.1)
    cf = out.cost_factor()
    assert np.allclose(cf[:, 1, 3], 1 / 1.1) and cf[1, 1, 3] == pytest.approx(1 / 1.1)  # domestic too
    assert np.allclose(cf[:, 0], 1.0)


def test_deficit_scale_and_conflicts():
    out = _compose(
        _sc('[[shocks]]\ntype="deficit"\nregion="USA"\nvalue=0.5\n', '[baseline]\ndeficits="keep"')
    )
    assert out.deficit_scale.tolist() == [1, 1, 0.5, 1]
    with pytest.raises(ScenarioError, match=r"shocks\[0\] and shocks\[1\] both scale the deficit of USA"):
        _compose(
            _sc(
                '[[shocks]]\ntype="deficit"\nregion="USA"\nvalue=0.5\n[[shocks]]\ntype="deficit"\nregion="all"\nvalue=0\n',
                '[baseline]\ndeficits="keep"',
            )
        )
    with pytest.raises(ScenarioError, match="deficits = 'zero' removes them"):
        _compose(_sc('[[shocks]]\ntype="deficit"\nregion="USA"\nvalue=0.5\n', '[baseline]\ndeficits="zero"'))


def test_scale_deficits_keeps_world_sum():
    d = np.array([10.0, -4.0, -6.0])
    new = scale_deficits(d, np.array([0.5, 1.0, 1.0]), np.array([1.0, 1.0, 3.0]))
    assert new[0] == pytest.approx(5.0)
    assert new.sum() == pytest.approx(0.0)
    # the 5 units the scaled region no longer borrows are spread over the others by weight
    assert new[1] - d[1] == pytest.approx(5 * 1 / 4) and new[2] - d[2] == pytest.approx(5 * 3 / 4)
    assert np.allclose(scale_deficits(d, np.zeros(3), np.ones(3)), 0.0)


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        ('type="tariff"\nop="set"\nvalue=5000', r"at most 2000 percent; use type = 'embargo'"),
        ('type="tariff"\nop="add"\nvalue=-105', r"at or below -100%"),
        ('type="iceberg"\nvalue=-100', r"shocks\[0\]\.value' has value -100 .*-100 < value <= 10000"),
        ('type="productivity"\nvalue=-150', r"shocks\[0\]\.value' has value -150 .*-100 < value <= 1000"),
        ('type="deficit"\nvalue=nan', r"shocks\[0\]\.value' has value nan .*not a finite number"),
        ('type="tarif"\nop="set"\nvalue=1', r"unknown value 'tarif'.*'tariff'"),
        ('type="embargo"\nimporter=[]', r"shocks\[0\]\.importer' is an empty list"),
    ],
)
def test_out_of_range_and_bad_values(body, pattern):
    with pytest.raises(ScenarioError, match=pattern):
        _compose(_sc("[[shocks]]\n" + body + "\n"))


def test_check_supported_refuses_unknown_to_model():
    sc = _sc('[[shocks]]\ntype="agreement"\nmembers="NAFTA"\nestimate=0.5\n')
    with pytest.raises(ScenarioError, match=r"type 'agreement', which model 'caliendo_parro' does not apply"):
        check_supported(parse_shocks(sc), ["tariff", "iceberg"], sc, "caliendo_parro")


def test_sector_groups_in_shocks_use_dataset_table():
    sc = parse_scenario(
        'name="t"\nmodel="caliendo_parro"\ndataset="cp2015"\n[[shocks]]\ntype="tariff"\nop="add"\nsector="services"\nvalue=5\n'
    )
    from kaifang.scenario.groups import SECTOR_GROUPS

    sec = list(SECTOR_GROUPS["cp2015"]["goods"]) + list(SECTOR_GROUPS["cp2015"]["services"])
    out = compose_shocks(
        parse_shocks(sc), regions=REG, sectors=sec, tariff_base=np.zeros((4, 4, 40)), scenario=sc
    )
    assert np.allclose(out.tariff_new[0, 1, 20:], 0.05) and np.allclose(out.tariff_new[0, 1, :20], 0.0)
