"""Welfare in the Caliendo–Parro model: the exact change and its integrated decomposition.

Why the numbers are right:

* the exact welfare change is recomputed here from the equilibrium's flows, tariffs, deficits,
  cost shares and sectoral price indices with plain NumPy (income = value added from labour
  demand + tariff revenue + deficit; the Cobb–Douglas price index), not by the code under test;
* the decomposition must add up to that exact change (an identity of the model's total
  differential, not a number of the code's own), its residual must shrink as the number of
  steps grows, and its unextrapolated error must fall like 1/K^2 (the trapezoidal rule);
* for small shocks each integrated part must agree with the paper's first-order part to second
  order (Caliendo and Parro 2015, section 4);
* one sector, no input-output links, no tariffs: welfare_pct equals the Arkolakis, Costinot and
  Rodríguez-Clare (2012, eq. 1) formula (pi'_nn / pi_nn)^(-1/theta), and there is no volume of
  trade part;
* the sector and bilateral tables are splits of the same integrals, so they add up to the
  regional parts.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cp_worlds import independent_real_income, random_world
from kaifang.errors import ConvergenceError, KaifangWarning, ScenarioError
from kaifang.models.caliendo_parro import SolverSettings, solve
from kaifang.models.caliendo_parro import welfare as wf
from kaifang.models.caliendo_parro.runner import run, tables
from kaifang.models.caliendo_parro.welfare import ShockPath, decompose, integrate
from kaifang.scenario import parse_scenario

PROP = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
worlds = st.tuples(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 3))
PARTS = ("terms_of_trade_pct", "volume_of_trade_pct", "technical_efficiency_pct", "productivity_pct")


def shocked(w, *, tariff=0.2, iceberg=0.1, productivity=0.1, deficits=True, seed=None):
    """A random world and a counterfactual with every kind of shock the model applies."""
    seed_, n, j = w
    b = random_world(seed_, n, j, deficits="keep" if deficits else "zero")
    rng = np.random.default_rng(seed_ if seed is None else seed)
    tau = np.clip(b.tariff + tariff * rng.uniform(-0.5, 1.0, size=b.flows.shape) * b.tradable, 0.0, None)
    tau[np.arange(n), np.arange(n)] = 0.0
    d_hat = np.exp(iceberg * rng.uniform(-1, 1, size=b.flows.shape))
    d_hat[np.arange(n), np.arange(n)] = 1.0
    prod = np.exp(productivity * rng.uniform(-1, 1, size=(n, j)))
    deficit = b.deficit * (rng.uniform(0.0, 2.0, size=n) if deficits else 0.0)
    deficit = deficit - deficit.sum() * b.value_added / b.value_added.sum()
    return solve(b, tau, d_hat / prod[None], deficit), prod


# --------------------------------------------------------------------------- exact welfare
@PROP
@given(worlds)
def test_exact_welfare_is_real_income_from_the_equilibrium(w):
    e, prod = shocked(w)
    got = integrate(e, productivity=prod)
    # labour demand equals w-hat VA and the flows balance only to the solver's tolerance (1e-8)
    np.testing.assert_allclose(got.exact, independent_real_income(e) - 1.0, rtol=1e-7, atol=1e-8)
    regions, _ = tables(e, got)
    np.testing.assert_allclose(
        regions["welfare_pct"], 100 * (independent_real_income(e) - 1.0), rtol=1e-7, atol=1e-6
    )


@PROP
@given(st.integers(0, 10_000), st.integers(2, 5), st.floats(-40, 60))
def test_one_sector_welfare_pct_is_the_acr_formula(seed, n, change):
    """One sector, no intermediate inputs, no tariffs, balanced trade: welfare_pct equals
    100 ((pi'_nn / pi_nn)^(-1/theta) - 1) (Arkolakis, Costinot and Rodríguez-Clare 2012, eq. 1);
    the decomposition has no volume of trade and adds up to it."""
    b = random_world(seed, n, 1, io=False, tariffs=False, deficits="zero")
    d_hat = np.full((n, n, 1), 1 + change / 100)
    d_hat[np.arange(n), np.arange(n)] = 1.0
    d_hat[0] = 1.0  # region 0's imports unchanged, others' change: asymmetric
    e = solve(b, b.tariff, d_hat, np.zeros(n))
    dom_hat = e.shares[np.arange(n), np.arange(n), 0] / b.shares[np.arange(n), np.arange(n), 0]
    acr = dom_hat ** (-1.0 / b.theta[0])
    # a finer grid than the default: iceberg changes up to +60 % can leave the default grid's
    # parts 0.01 % of income off (and it warns); the exact change does not depend on the grid
    w = integrate(e, steps=(4, 8))
    regions, _ = tables(e, w)
    # to the solver's tolerance (income from the flows: about 1e-9 of income, 1e-7 percent)
    np.testing.assert_allclose(regions["welfare_pct"], 100 * (acr - 1), rtol=1e-8, atol=1e-7)
    np.testing.assert_allclose(regions["volume_of_trade_pct"], 0.0, atol=1e-12)
    assert np.abs(w.residual).max() < 1e-4


# --------------------------------------------------------------------------- the decomposition
@PROP
@given(worlds)
def test_parts_add_up_to_the_exact_change(w):
    """Tariff, iceberg, productivity and deficit shocks at once: the integrated parts add up to
    the exact welfare change within 0.01 % of income with the default steps, and the table's
    residual column is exactly the gap between welfare_pct and its parts."""
    e, prod = shocked(w)
    got = integrate(e, productivity=prod)
    assert np.abs(got.residual).max() < 1e-4
    regions, _ = tables(e, got)
    parts = regions[[*PARTS, "deficit_pct"]].sum(axis=1)
    np.testing.assert_allclose(regions["welfare_residual_pct"], regions["welfare_pct"] - parts, atol=1e-10)
    np.testing.assert_allclose(
        regions["welfare_residual_pct"], 100 * (independent_real_income(e) - 1) - parts, atol=1e-6
    )


@PROP
@given(worlds)
def test_decomposition_converges_as_steps_increase(w):
    """Large shocks: the extrapolated residual with [8, 16] is below that with [2, 4]."""
    e, prod = shocked(w, tariff=0.4, iceberg=0.3, productivity=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KaifangWarning)  # coarse grids on purpose
        coarse = np.abs(integrate(e, steps=(2, 4), productivity=prod).residual).max()
        fine = np.abs(integrate(e, steps=(8, 16), productivity=prod).residual).max()
    assert fine < coarse or coarse < 1e-12


@PROP
@given(worlds)
def test_each_grid_is_second_order(w):
    """The estimate of a grid of K steps has an error c/K^2 + O(1/K^4) (symmetric rules), so the
    change of the parts' sum from K = 8 to 16 is four times that from 16 to 32."""
    e, prod = shocked(w, tariff=0.15, iceberg=0.1, productivity=0.1)
    with warnings.catch_warnings():
        # single grids, no extrapolation: the 8-step grid may miss by more than 0.01 % and say so
        warnings.simplefilter("ignore", KaifangWarning)
        total = {k: integrate(e, steps=(k,), productivity=prod).total for k in (8, 16, 32)}
    d1, d2 = np.abs(total[8] - total[16]).max(), np.abs(total[16] - total[32]).max()
    if d2 > 1e-11:
        assert 3.5 < d1 / d2 < 4.5


@PROP
@given(worlds)
def test_small_shocks_agree_with_the_first_order_decomposition(w):
    """For shocks of size eps each integrated part is the paper's first-order part up to
    O(eps^2): 100 times smaller for 10 times smaller shocks."""
    gaps = []
    for eps in (1e-2, 1e-3):
        e, _ = shocked(w, tariff=eps, iceberg=eps, productivity=0.0, deficits=False)
        got, fo = integrate(e), decompose(e)
        gaps.append(
            max(
                np.abs(got.tot - fo.tot).sum(axis=(1, 2)).max(),
                np.abs(got.vot - fo.vot).sum(axis=(1, 2)).max(),
                np.abs(got.efficiency - fo.efficiency).sum(axis=(1, 2)).max(),
            )
        )
    assert gaps[1] <= gaps[0] / 30 + 1e-11


def test_productivity_and_deficit_parts_have_the_right_size():
    """A small productivity gain of region 0's producers is, to first order, a gain to every
    buyer of sum_i (1 + tau) M_{n0j} d ln A (the part's own formula), and a deficit change is a
    transfer (D' - D) / I."""
    b = random_world(3, 3, 3, deficits="keep")
    n, j = b.n_regions, b.n_sectors
    prod = np.ones((n, j))
    prod[0] = 1.001
    e = solve(b, b.tariff, np.ones_like(b.flows) / prod[None], b.deficit - b.deficit.sum() / n)
    got = integrate(e, productivity=prod)
    expected = (b.flows_buyer[:, 0, :] * np.log(1.001)).sum(axis=1) / b.income
    np.testing.assert_allclose(got.productivity.sum(axis=(1, 2)), expected, rtol=2e-3)
    np.testing.assert_allclose(got.deficit, (e.deficit_new - b.deficit) / b.income, rtol=2e-3, atol=1e-12)
    np.testing.assert_allclose(got.efficiency, 0.0, atol=1e-15)


def test_richardson_removes_the_even_error_terms():
    steps = (2, 4, 8)
    exact, c2, c4 = 1.5, 0.7, -2.0
    estimates = [np.array(exact + c2 / k**2 + c4 / k**4) for k in steps]
    assert float(wf._richardson(estimates, steps)) == pytest.approx(exact, abs=1e-12)


def test_embargo_path_is_finite_and_cuts_the_flow_evenly():
    """The path of an embargo (iceberg factor 10^4) ends at the counterfactual, and along it the
    embargoed flow falls about linearly (the share follows m^(b/a)), not within its first step."""
    b = random_world(11, 3, 3, deficits="zero")
    d_hat = np.ones_like(b.flows)
    d_hat[0, 1, b.tradable] = 1e4
    e = solve(b, b.tariff, d_hat, np.zeros(3))
    path = ShockPath(e)
    assert path.shaped[0, 1, b.tradable].all()
    _, d_end, _ = path.at(1.0)
    np.testing.assert_array_equal(d_end, e.d_hat)
    mid = solve(b, *path.at(0.5))
    share = mid.shares[0, 1, b.tradable] / b.shares[0, 1, b.tradable]
    assert np.all((share > 0.3) & (share < 0.7))
    w = integrate(e, steps=(4, 8))
    assert np.all(np.isfinite(w.efficiency)) and np.abs(w.residual).max() < 1e-4
    assert w.efficiency[0, 1].sum() < 0  # the importer loses the cheaper supplier


def test_no_steps_reports_exact_welfare_without_parts():
    e, prod = shocked((5, 3, 2))
    w = integrate(e, steps=(), productivity=prod)
    regions, _ = tables(e, w)
    np.testing.assert_allclose(regions["welfare_pct"], 100 * (independent_real_income(e) - 1), rtol=1e-7)
    assert regions[[*PARTS, "welfare_residual_pct"]].isna().all().all()
    assert wf.welfare_diagnostics(w)["welfare_residual_max_pct"] is None


def test_a_path_that_does_not_converge_says_where(monkeypatch):
    e, prod = shocked((7, 3, 2))

    def fail(*args, **kwargs):
        raise ConvergenceError("did not converge in 1 iterations.")

    monkeypatch.setattr(wf, "solve", fail)
    with pytest.raises(ConvergenceError, match=r"at s = 0\.25 of the way.*welfare_steps = \[\]"):
        integrate(e, productivity=prod)


def test_a_large_residual_is_warned_about():
    e, prod = shocked((9, 3, 2), tariff=1.0, iceberg=1.0, productivity=1.0)
    with pytest.warns(
        KaifangWarning, match=r"miss the exact welfare change by up to .* welfare_pct itself is exact"
    ):
        integrate(e, steps=(1,), productivity=prod)


# --------------------------------------------------------------------------- the runner (demo data, offline)
def _demo(body: str):
    return run(parse_scenario(f'name = "t"\nmodel = "caliendo_parro"\ndataset = "demo"\n{body}'))


def test_sector_and_bilateral_tables_add_up_to_the_regional_parts():
    res = _demo(
        '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAA"\nexporter = "XBB"\nvalue = 30\n'
        '[[shocks]]\ntype = "productivity"\nregion = "XCC"\nvalue = 20\n'
        '[[shocks]]\ntype = "iceberg"\nimporter = "XDD"\nvalue = -15\ninclude_domestic = true\n'
    )
    reg = res.regions.set_index("region")
    for name in ("sectors", "bilateral"):
        t = res.tables[name].groupby("region", sort=False)[list(PARTS)].sum()
        np.testing.assert_allclose(t.loc[reg.index].to_numpy(), reg[list(PARTS)].to_numpy(), atol=1e-10)
    assert (reg["productivity_pct"].abs() > 0.01).all() and abs(
        reg.loc["XDD", "technical_efficiency_pct"]
    ) > 0.1
    assert res.diagnostics["welfare_residual_max_pct"] < 0.01
    assert "exact change in real income" in res.diagnostics["welfare_measure"]


def test_regions_table_column_order():
    cols = list(
        _demo('[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAA"\nvalue = 10\n').regions.columns
    )
    assert cols[:9] == [
        "region",
        "welfare_pct",
        "terms_of_trade_pct",
        "volume_of_trade_pct",
        "technical_efficiency_pct",
        "productivity_pct",
        "deficit_pct",
        "welfare_residual_pct",
        "real_wage_pct",
    ]
    assert cols[-4:] == [
        "welfare_first_order_pct",
        "terms_of_trade_first_order_pct",
        "volume_of_trade_first_order_pct",
        "technical_efficiency_first_order_pct",
    ]
    assert "real_income_pct" not in cols  # it was welfare_pct under another name


def test_demo_embargo_has_a_full_decomposition():
    res = _demo('[[shocks]]\ntype = "embargo"\nimporter = "XAA"\nexporter = "XBB"\nmirror = true\n')
    reg = res.regions.set_index("region")
    assert reg[list(PARTS)].notna().all().all()
    assert res.diagnostics["welfare_residual_max_pct"] < 0.01
    assert reg.loc["XAA", "technical_efficiency_pct"] < 0 and reg.loc["XBB", "technical_efficiency_pct"] < 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("[4, 2]", r"welfare_steps.*must increase"),
        ("[0]", r"welfare_steps\[0\]' has value 0.*valid range: 1 <= welfare_steps <= 64"),
        ("100", r"welfare_steps\[0\]' has value 100.*valid range: 1 <= welfare_steps <= 64"),
        ('"4"', r"welfare_steps.*as a list of whole numbers, e.g. \[2, 4\]"),
        ("[1, 2, 4, 8, 16]", r"welfare_steps.*at most four"),
    ],
)
def test_bad_welfare_steps_are_refused(value, message):
    with pytest.raises(ScenarioError, match=message):
        _demo(f"[solver]\nwelfare_steps = {value}\n")


def test_welfare_steps_settings():
    assert SolverSettings(welfare_steps=4).welfare_steps == (4,)
    with pytest.raises(ScenarioError, match=r"welfare_extrapolation.*'richardson' or 'none'"):
        _demo('[solver]\nwelfare_extrapolation = "gragg"\n')
    res = _demo(
        '[solver]\nwelfare_steps = [3, 6]\nwelfare_extrapolation = "none"\n'
        '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAA"\nvalue = 10\n'
    )
    d = res.diagnostics["welfare_decomposition"]
    assert d["steps"] == [3, 6] and d["extrapolation"] == "none" and d["solves"] == 5
    # without extrapolation the residual is the 6-step grid's own
    assert res.diagnostics["welfare_residual_max_pct"] == pytest.approx(d["max_residual_pct_by_steps"]["6"])


def test_extreme_shocks_on_demo_stay_finite():
    """A -99.99 % productivity shock and an iceberg cost x 10,000 (the largest iceberg value a
    scenario takes is +10,000 %, a factor 101; the x 10,000 case goes through the Python API)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KaifangWarning)  # the decomposition may be coarse here
        res = _demo('[[shocks]]\ntype = "productivity"\nregion = "XAA"\nvalue = -99.99\n')
    w = res.regions["welfare_pct"]
    assert np.isfinite(w).all() and (w >= -100).all() and w.iloc[0] < -50
    assert np.isfinite(res.regions[list(PARTS)].to_numpy()).all()
    from kaifang.baseline import from_raw
    from kaifang.data.demo import generate

    b0 = from_raw(generate())
    b = solve(b0, b0.tariff, None, np.zeros(b0.n_regions)).to_baseline()
    d_hat = np.ones_like(b.flows)
    d_hat[:, 0] = 1e4
    d_hat[0, 0] = 1.0
    e = solve(b, b.tariff, d_hat, np.zeros(b.n_regions))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KaifangWarning)
        got = integrate(e)
    assert np.all(np.isfinite(got.exact)) and np.all(got.exact >= -1.0)
    assert np.all(np.isfinite(got.total))
