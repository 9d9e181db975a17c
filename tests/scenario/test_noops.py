"""No silent no-ops: a shock that changes nothing is a KaifangWarning, listed in JSON `warnings`;
--strict makes it an error."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.cli import main
from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.models import run_scenario, validate_scenario
from kaifang.scenario import parse_scenario
from kaifang.scenario.shocks import compose_shocks, parse_shocks

REG = ["CAN", "MEX", "USA", "ROW"]
SEC = ["Agriculture", "Mining"]


def _sc(body: str, baseline: str = ""):
    return parse_scenario(
        f'name="t"\nmodel="caliendo_parro"\ndataset="demo"\n{baseline}{body}', source="t.toml"
    )


def _compose(sc, base):
    return compose_shocks(parse_shocks(sc), regions=REG, sectors=SEC, tariff_base=base, scenario=sc)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            'type="tariff"\nop="scale"\nimporter="USA"\nvalue=0.5',
            r"every selected tariff is zero in the baseline",
        ),
        ('type="tariff"\nop="add"\nimporter="USA"\nvalue=0', r"it adds 0 points"),
        (
            'type="tariff"\nop="set"\nimporter="USA"\nvalue=0',
            r"sets every selected tariff to the value it already has",
        ),
        ('type="iceberg"\nimporter="USA"\nvalue=0', r"its value is 0"),
        ('type="productivity"\nregion="USA"\nvalue=0', r"its value is 0"),
        (
            'type="tariff"\nop="add"\nimporter="USA"\nexporter="USA"\nvalue=5',
            r"selects no international pair",
        ),
        ('type="tariff"\nop="add"\nimporter="USA"\nexporter="MENA"\nvalue=5', r"group 'MENA' has no member"),
        (
            'type="tariff"\nop="add"\nimporter="USA"\nexporter={ select = "NAFTA", except = "NAFTA" }\nvalue=5',
            r"the exceptions 'NAFTA' remove every region",
        ),
    ],
)
def test_shocks_that_change_nothing_warn(body, reason):
    sc = _sc(f'[[shocks]]\nlabel="x"\n{body}\n')
    base = np.zeros((4, 4, 2))
    with pytest.warns(KaifangWarning, match=r"t\.toml: shocks\[0\] \('x'\) changes nothing: .*" + reason):
        out = _compose(sc, base)
    assert out.unchanged == (0,)
    assert np.array_equal(out.tariff_new, base) and np.all(out.dhat == 1) and np.all(out.productivity == 1)


def test_a_deficit_factor_of_one_warns():
    sc = _sc('[[shocks]]\ntype="deficit"\nregion="USA"\nvalue=1\n', baseline='[baseline]\ndeficits="keep"\n')
    with pytest.warns(KaifangWarning, match=r"value = 1 leaves deficits as they are"):
        assert _compose(sc, np.zeros((4, 4, 2))).unchanged == (0,)


def test_a_shock_that_changes_something_does_not_warn():
    sc = _sc('[[shocks]]\ntype="tariff"\nop="scale"\nimporter="USA"\nvalue=0.5\n')
    out = _compose(sc, np.full((4, 4, 2), 0.1))  # KaifangWarnings are errors under pytest
    assert out.unchanged == () and np.isclose(out.tariff_new[2, 0, 0], 0.05)


def test_no_shocks_at_all_warns():
    with pytest.raises(ScenarioError, match=r"no \[\[shocks\]\], so the counterfactual is the baseline"):
        validate_scenario(_sc(""), strict=True)
    assert "no [[shocks]]" in validate_scenario(_sc("")).warnings[0]


CHINA_HALVES = (
    'name = "china-halves"\nmodel = "ims2025"\ndataset = "liberation2025"\n'
    '[[shocks]]\ntype = "tariff"\nop = "scale"\nimporter = "CHN"\nvalue = 0.5\nlabel = "China halves its tariffs"\n'
)


def test_china_halves_zero_tariffs_on_liberation2025_warns_in_table_and_json(tmp_path, capsys):
    """liberation2025's baseline has no Chinese tariffs: halving them changes nothing."""
    require_dataset("liberation2025")
    f = tmp_path / "halves.toml"
    f.write_text(CHINA_HALVES)
    assert main(["run", str(f), "--no-save", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "warning:" in out and "shocks[0] ('China halves its tariffs') changes nothing" in out.replace(
        "\n", " "
    )
    assert main(["run", str(f), "--no-save", "--no-store", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert len(doc["warnings"]) == 1 and "every selected tariff is zero in the baseline" in doc["warnings"][0]
    assert main(["run", str(f), "--no-save", "--no-store", "--strict"]) == 2
    assert "strict mode (--strict) turns warnings into errors" in capsys.readouterr().err


def test_run_scenario_keeps_and_emits_the_warnings():
    sc = _sc('[[shocks]]\ntype="iceberg"\nimporter="XAA"\nexporter="XBB"\nvalue=0\n')
    with pytest.warns(KaifangWarning, match="changes nothing"):
        result = run_scenario(sc)
    assert len(result.warnings) == 1 and result.to_document()["warnings"] == list(result.warnings)
    with pytest.raises(ScenarioError, match="strict mode"):
        run_scenario(sc, strict=True)


def test_ims_policy_that_changes_nothing_warns():
    require_dataset("liberation2025")
    sc = parse_scenario(
        'name="r"\nmodel="ims2025"\ndataset="liberation2025"\n'
        '[[shocks]]\ntype="tariff"\nop="set"\nimporter="CHN"\nexporter="DEU"\nvalue=5\n'
        '[[policy.retaliation]]\nkind="reciprocal"\nagainst="USA"\nby="EU"\n',
        source="r.toml",
    )
    report = validate_scenario(sc)
    assert any(
        "field 'policy.retaliation[0]' changes nothing: USA levies no tariffs on the retaliating regions" in w
        for w in report.warnings
    ), report.warnings
