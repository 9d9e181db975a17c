"""The welfare decomposition on the scenario library and on very large shocks (cp2015 data).

Every library scenario of the model (``scenarios/cp2015-*.toml``, ``scenarios/demo-*.toml``)
must, with the default ``[solver] welfare_steps``, have a decomposition whose parts add up to
the exact welfare change within 0.01 % of income in every region. Very large shocks must give a
finite welfare change of at least -100 % (real income cannot fall below zero).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.errors import KaifangWarning
from kaifang.models.caliendo_parro.runner import run
from kaifang.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parents[3]
LIBRARY = sorted(ROOT.glob("scenarios/cp2015-*.toml")) + sorted(ROOT.glob("scenarios/demo-*.toml"))
PARTS = [
    "terms_of_trade_pct",
    "volume_of_trade_pct",
    "technical_efficiency_pct",
    "productivity_pct",
    "deficit_pct",
]


def test_the_library_is_there():
    assert len(LIBRARY) >= 10


@pytest.mark.data
@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: p.stem)
def test_library_scenario_decomposition_adds_up(path):
    sc = load_scenario(path)
    if sc.dataset == "cp2015":
        require_dataset("cp2015")
    res = _run_library(sc)
    reg = res.regions
    residual = reg["welfare_pct"] - reg[PARTS].sum(axis=1)
    np.testing.assert_allclose(residual, reg["welfare_residual_pct"], atol=1e-9)
    assert reg["welfare_residual_pct"].abs().max() < 0.01
    assert res.diagnostics["welfare_residual_max_pct"] < 0.01
    assert res.diagnostics["welfare_decomposition"]["steps"] == [2, 4]


def _run_library(sc):
    """Run a library scenario; its groups may name economies that the 1993 data keep inside
    ROW (CPTPP's Brunei, Malaysia...), which the selection reports as a warning, not a fault."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*not separate regions of this data set", category=KaifangWarning
        )
        return run(sc)


def _cp(body: str):
    require_dataset("cp2015")
    return run(parse_scenario(f'name = "t"\nmodel = "caliendo_parro"\ndataset = "cp2015"\n{body}'))


@pytest.mark.data
def test_cptpp_accession_decomposition_and_first_order_gap():
    """China joining CPTPP: the first-order measure says +9.40 % for China, the exact change is
    +0.41 %; the integrated parts add up to the exact one within 0.01 % of income."""
    res = _run_library(load_scenario(ROOT / "scenarios" / "cp2015-china-joins-cptpp.toml"))
    chn = res.regions.set_index("region").loc["CHN"]
    assert chn["welfare_pct"] == pytest.approx(0.41, abs=0.01)
    assert chn["welfare_first_order_pct"] > 9
    assert abs(chn["welfare_residual_pct"]) < 0.01


@pytest.mark.data
def test_embargo_has_a_full_decomposition():
    res = _run_library(load_scenario(ROOT / "scenarios" / "cp2015-us-china-decoupling.toml"))
    reg = res.regions.set_index("region")
    assert reg[PARTS].notna().all().all()
    for code in ("USA", "CHN"):
        assert reg.loc[code, "technical_efficiency_pct"] < 0  # the embargo is a cost increase
        assert abs(reg.loc[code, "welfare_residual_pct"]) < 0.01
    bil = res.tables["bilateral"].set_index(["region", "partner"])
    assert bil.loc[("USA", "CHN"), "technical_efficiency_pct"] == pytest.approx(
        reg.loc["USA", "technical_efficiency_pct"], abs=1e-9
    )


@pytest.mark.data
def test_a_productivity_collapse_leaves_welfare_above_minus_100():
    """-99.99 % productivity of every Mexican producer: the first-order measure said about
    -1.6 million percent; the exact change is finite and at least -100 %."""
    with pytest.warns(KaifangWarning, match="miss the exact welfare change"):
        res = _cp('[[shocks]]\ntype = "productivity"\nregion = "MEX"\nvalue = -99.99\n')
    w = res.regions.set_index("region")["welfare_pct"]
    assert np.isfinite(w).all() and (w >= -100).all()
    assert w["MEX"] < -99
    assert np.isfinite(res.regions[PARTS].to_numpy()).all()


@pytest.mark.data
def test_china_iceberg_times_10000_leaves_welfare_above_minus_100():
    """Every delivery of Chinese producers abroad costs 10,000 times more (through the Python API:
    a scenario's iceberg value stops at +10,000 %, a factor 101)."""
    require_dataset("cp2015")
    from kaifang.models.caliendo_parro import solve
    from kaifang.models.caliendo_parro.runner import load_baseline
    from kaifang.models.caliendo_parro.welfare import integrate

    b0, _ = load_baseline("cp2015")
    n = b0.n_regions
    b = solve(b0, b0.tariff, None, np.zeros(n)).to_baseline()
    chn = b.regions.index("CHN")
    d_hat = np.ones_like(b.flows)
    d_hat[:, chn] = 1e4
    d_hat[chn, chn] = 1.0
    e = solve(b, b.tariff, d_hat, np.zeros(n))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KaifangWarning)  # a coarse decomposition is allowed here
        w = integrate(e)
    assert np.all(np.isfinite(w.exact)) and np.all(w.exact >= -1.0)
    assert np.all(np.isfinite(w.total))
    assert -1.0 < w.exact[chn] < 0.0
