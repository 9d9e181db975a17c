"""Sanity checks on every result, and "no trade" said rather than NaN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaifang.cli import main
from kaifang.models import RUNNERS, run_scenario
from kaifang.results import ResultCheckError, RunResult, check_result, flag_no_trade
from kaifang.scenario import parse_scenario

OK_DIAG = {"converged": True, "iterations": 3, "residual": 1e-12}


def _result(regions: dict, tables=None, diagnostics=None) -> RunResult:
    return RunResult(
        model="m",
        scenario="s",
        regions=pd.DataFrame({"region": ["AAA", "BBB"], **regions}),
        tables=tables or {},
        diagnostics={**OK_DIAG, **(diagnostics or {})},
    )


def test_a_sound_result_passes():
    check_result(_result({"welfare_pct": [-99.0, 5.0], "real_income_pct": [1.0, 2.0]}))


@pytest.mark.parametrize(
    ("regions", "diagnostics", "check", "pattern"),
    [
        ({"welfare_pct": [-150.0, 1.0]}, {}, "welfare_bounded", r"welfare_pct is -150 % for region AAA"),
        (
            {"real_income_pct": [1.0, -100.0]},
            {},
            "welfare_bounded",
            r"real_income_pct is -100 % for region BBB",
        ),
        ({"welfare_pct_lo": [-101.0, 1.0]}, {}, "welfare_bounded", r"welfare_pct_lo"),
        (
            {"wage_pct": [np.nan, 1.0]},
            {},
            "finite",
            r"table 'regions', column 'wage_pct' is nan for region AAA",
        ),
        ({"wage_pct": [np.inf, 1.0]}, {}, "finite", r"table 'regions', column 'wage_pct' is inf"),
        ({"wage_pct": [1.0, 1.0]}, {"converged": False}, "converged", r"diagnostics\.converged is False"),
        ({"wage_pct": [1.0, 1.0]}, {"residual": None}, "residuals", r"diagnostics has no numeric 'residual'"),
        ({"wage_pct": [1.0, 1.0]}, {"residual": float("nan")}, "residuals", r"diagnostics.residual is nan"),
    ],
)
def test_a_failing_result_names_the_check(regions, diagnostics, check, pattern):
    with pytest.raises(ResultCheckError, match=rf"fails the sanity check '{check}': {pattern}") as info:
        check_result(_result(regions, diagnostics=diagnostics))
    assert info.value.check == check


def test_no_trade_cells_may_be_empty_but_not_infinite():
    t = pd.DataFrame({"region": ["AAA", "BBB"], "exports_pct": [np.inf, 3.0]})
    flagged = flag_no_trade(t, [True, False], ("exports_pct",))
    assert flagged["no_trade"].tolist() == [True, False] and np.isnan(flagged["exports_pct"][0])
    check_result(_result({"welfare_pct": [0.0, 0.0]}, tables={"t": flagged}))
    bad = flagged.assign(exports_pct=[np.inf, 3.0])
    with pytest.raises(ResultCheckError, match=r"a no-trade cell must be empty \(NaN\), not infinite"):
        check_result(_result({"welfare_pct": [0.0, 0.0]}, tables={"t": bad}))
    # a column the run declares not applicable may be empty
    na = _result(
        {"terms_of_trade_pct": [np.nan, np.nan]},
        diagnostics={"not_applicable": {"regions": ["terms_of_trade_pct"]}},
    )
    check_result(na)


def _absurd_runner(scenario, progress):
    return _result({"welfare_pct": [-250.0, 3.0]})


def test_every_run_is_checked_and_a_failure_prints_no_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(RUNNERS, "absurd", f"{__name__}:_absurd_runner")
    sc = parse_scenario('name="a"\nmodel="absurd"\ndataset="demo"\n')
    with pytest.raises(ResultCheckError, match="welfare_bounded"):
        run_scenario(sc)
    f = tmp_path / "a.toml"
    f.write_text('name="a"\nmodel="absurd"\ndataset="demo"\n')
    assert main(["run", str(f), "--no-save", "--no-store"]) == 1
    cap = capsys.readouterr()
    assert "fails the sanity check 'welfare_bounded'" in cap.err and "Traceback" not in cap.err
    assert "AAA" not in cap.out  # no table


def test_no_trade_cells_of_the_demo_world_are_flagged_in_tables_and_json(tmp_path, capsys):
    """The flag is computed independently here from the baseline flows of the data set."""
    from kaifang.models.caliendo_parro.runner import load_baseline

    b, _ = load_baseline("demo")
    intl = b.flows.copy()
    intl[np.arange(b.n_regions), np.arange(b.n_regions)] = 0.0
    dom = b.flows[np.arange(b.n_regions), np.arange(b.n_regions)]  # (region, sector) domestic sales
    none = (intl.sum(axis=0) == 0) | (intl.sum(axis=1) == 0) | (dom == 0)
    expected = {(b.regions[r], b.sectors[s]) for r, s in zip(*np.nonzero(none), strict=True)}
    assert expected  # the demo's services sector is not traded

    sc = parse_scenario(
        'name="d"\nmodel="caliendo_parro"\ndataset="demo"\n'
        '[[shocks]]\ntype="tariff"\nop="add"\nimporter="XAA"\nvalue=10\n'
    )
    res = run_scenario(sc)
    sec = res.tables["sectors"]
    got = {(r, s) for r, s, f in zip(sec["region"], sec["sector"], sec["no_trade"], strict=True) if f}
    assert got == expected
    assert sec.loc[sec["no_trade"], "exports_pct"].isna().all()
    assert np.isfinite(sec.loc[~sec["no_trade"], "exports_pct"]).all()
    doc = res.to_document()
    assert {(x["region"], x["sector"]) for x in doc["no_trade"]["sectors"]} == expected
    assert "diversion" not in doc["no_trade"] or all("partner" in x for x in doc["no_trade"]["diversion"])
