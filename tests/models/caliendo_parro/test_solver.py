"""Caliendo–Parro solver: equilibrium invariants, a closed form and bad settings.

Why the numbers are right: invariants of any equilibrium (zero shock changes nothing, trade
balances, labour markets clear, shares sum to one, degree-zero homogeneity in the money unit)
and the Arkolakis–Costinot–Rodríguez-Clare (2012) closed form for one sector without
intermediate inputs or tariffs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cp_worlds import random_raw, random_world
from helpers import require_dataset
from kaifang.baseline import from_raw
from kaifang.errors import ConvergenceError, KaifangWarning, UserInputError
from kaifang.models.caliendo_parro import SolverSettings, solve
from kaifang.models.caliendo_parro.welfare import decompose

PROP = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
worlds = st.tuples(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 3))


def _independent_residuals(e):
    """Trade balance and labour-market clearing, recomputed here from the solution's flows."""
    b = e.baseline
    n = b.n_regions
    x = e.shares * e.expenditure[:, None, :] / (1 + e.tariff_new)
    dom = np.array([x[k, k].sum() for k in range(n)])
    imports = x.sum(axis=(1, 2)) - dom
    exports = x.sum(axis=(0, 2)) - dom
    wage_bill = e.w_hat * b.value_added
    labour = (b.gamma_va * x.sum(axis=0)).sum(axis=1)
    tb = np.abs(imports - e.deficit_new - exports) / wage_bill
    lm = np.abs(wage_bill - labour) / wage_bill
    return tb.max(), lm.max()


@PROP
@given(worlds)
def test_zero_shock_changes_nothing(w):
    b = random_world(*w)
    e = solve(b, b.tariff, None, b.deficit - b.deficit.sum() * b.value_added / b.value_added.sum())
    np.testing.assert_allclose(e.w_hat, 1, atol=1e-9)
    np.testing.assert_allclose(e.p_hat, 1, atol=1e-9)
    np.testing.assert_allclose(e.flows, b.flows, rtol=1e-8, atol=1e-12 * b.flows.max())
    np.testing.assert_allclose(decompose(e).total, 0, atol=1e-9)


@PROP
@given(worlds, st.floats(-0.2, 0.5), st.sampled_from(["keep", "zero"]))
def test_counterfactual_balances_and_clears(w, dtau, deficits):
    b = random_world(*w, deficits=deficits)
    n = b.n_regions
    tau = np.clip(b.tariff + dtau * b.tradable, 0.0, None)
    tau[np.arange(n), np.arange(n)] = 0.0
    d = (
        np.zeros(n)
        if deficits == "zero"
        else b.deficit - b.deficit.sum() * b.value_added / b.value_added.sum()
    )
    e = solve(b, tau, None, d)
    tb, lm = _independent_residuals(e)
    assert tb <= 1e-8 and lm <= 1e-8
    np.testing.assert_allclose(e.shares.sum(axis=1), 1.0, atol=1e-12)
    assert e.diagnostics.converged and e.diagnostics.residual <= SolverSettings().tol
    np.testing.assert_allclose(
        e.value_added.sum(), b.value_added.sum(), rtol=1e-9
    )  # numeraire, to the tolerance


@PROP
@given(worlds, st.floats(1e-3, 1e3))
def test_scaling_every_value_leaves_changes_unchanged(w, factor):
    b = random_world(*w, deficits="zero")
    n = b.n_regions
    tau = b.tariff * 0.5
    d_hat = np.ones_like(tau) * 0.9
    d_hat[np.arange(n), np.arange(n)] = 1.0
    e1 = solve(b, tau, d_hat, np.zeros(n))
    e2 = solve(b.scaled(factor), tau, d_hat, np.zeros(n))
    np.testing.assert_allclose(e2.w_hat, e1.w_hat, rtol=1e-9)
    np.testing.assert_allclose(e2.p_hat, e1.p_hat, rtol=1e-9)
    np.testing.assert_allclose(e2.real_income, e1.real_income, rtol=1e-9)
    np.testing.assert_allclose(decompose(e2).total, decompose(e1).total, atol=1e-10)


@PROP
@given(st.integers(0, 10_000), st.integers(2, 5), st.floats(-40, 60))
def test_one_sector_matches_acr_closed_form(seed, n, change):
    """One sector, no intermediate inputs, no tariffs, balanced trade: the exact welfare change
    (real income I'/I / P-hat) equals (pi'_nn / pi_nn)^(-1/theta) (Arkolakis, Costinot and
    Rodríguez-Clare 2012, eq. 1)."""
    b = random_world(seed, n, 1, io=False, tariffs=False, deficits="zero")
    d_hat = np.full((n, n, 1), 1 + change / 100)
    d_hat[np.arange(n), np.arange(n)] = 1.0
    d_hat[0] = 1.0  # region 0's imports unchanged, others' change: asymmetric
    # solved well below the comparison's 1e-10: at the default tol (1e-10 on log steps) the two
    # sides can differ by a few times the step residual (seed 8391, n = 3: 1.2e-10)
    e = solve(b, b.tariff, d_hat, np.zeros(n), SolverSettings(tol=1e-13))
    dom_hat = e.shares[np.arange(n), np.arange(n), 0] / b.shares[np.arange(n), np.arange(n), 0]
    acr = dom_hat ** (-1.0 / b.theta[0])
    np.testing.assert_allclose(e.real_income, acr, rtol=1e-10)
    np.testing.assert_allclose(e.real_wage, acr, rtol=1e-10)


def test_fixed_point_method_gives_the_same_answer():
    b = random_world(7, 3, 3)
    tau = b.tariff * 0.3
    a = solve(b, tau, settings=SolverSettings())
    f = solve(b, tau, settings=SolverSettings(method="fixed_point", max_iter=100_000, tol=1e-13))
    np.testing.assert_allclose(f.w_hat, a.w_hat, rtol=1e-9)
    np.testing.assert_allclose(f.p_hat, a.p_hat, rtol=1e-9)


def test_not_converging_raises_with_what_was_tried():
    b = from_raw(random_raw(3, 3, 2))
    with pytest.raises(ConvergenceError, match=r"did not converge.*1 iterations.*max_iter = 1") as exc:
        solve(b, b.tariff * 0, None, np.zeros(3), SolverSettings(max_iter=1))
    assert exc.value.iterations == 1 and exc.value.residual > 0


def test_bad_inputs_are_rejected():
    b = random_world(1, 3, 2)
    with pytest.raises(ValueError, match="tariff_new has shape"):
        solve(b, np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="sum to zero"):
        solve(b, b.tariff, None, np.ones(3))
    with pytest.raises(ValueError, match="-100"):
        solve(b, b.tariff - 2.0 * b.tradable)


@PROP
@given(worlds, st.floats(-20, 20), st.booleans())
def test_solution_satisfies_the_papers_equations(w, change, domestic):
    """The solver's fast formulas (log-sum-exp-free batched products) against the textbook
    equations in ``equations.py``: c-hat, P-hat and pi' at the solution, iceberg shocks included
    (also on domestic sales and non-traded sectors)."""
    from kaifang.models.caliendo_parro import equations as eq

    b = random_world(*w)
    n = b.n_regions
    rng = np.random.default_rng(w[0])
    d_hat = 1 + change / 100 * rng.uniform(0, 1, size=b.flows.shape)
    if not domestic:
        d_hat[np.arange(n), np.arange(n)] = 1.0
    tau = b.tariff * rng.uniform(0, 2, size=b.flows.shape)
    e = solve(b, tau, d_hat)
    kappa = eq.kappa_hat(b.tariff, tau, d_hat)
    c = eq.input_cost(e.w_hat, e.p_hat, b.gamma_va, b.gamma_io)
    np.testing.assert_allclose(e.c_hat, c, rtol=1e-10)
    np.testing.assert_allclose(eq.price_index(b.shares, kappa, c, b.theta), e.p_hat, rtol=1e-10)
    np.testing.assert_allclose(eq.trade_shares(b.shares, kappa, c, e.p_hat, b.theta), e.shares, atol=1e-10)


@PROP
@given(worlds)
def test_welfare_decomposition_is_exact_to_first_order(w):
    """Caliendo–Parro's decomposition (terms of trade + volume of trade + technical efficiency)
    is the first-order change of real income: for small tariff and iceberg shocks of size eps its
    gap to the exact log change of I/P shrinks like eps^2 (second order)."""
    seed, n, j = w
    b = random_world(seed, n, j, deficits="zero")
    gaps = []
    for eps in (1e-3, 1e-4):
        rng = np.random.default_rng(seed)
        tau = np.clip(b.tariff + eps * rng.uniform(-1, 1, size=b.flows.shape) * b.tradable, 0, None)
        tau[np.arange(n), np.arange(n)] = 0.0
        d_hat = 1 + eps * rng.uniform(-1, 1, size=b.flows.shape)
        e = solve(b, tau, d_hat, np.zeros(n))
        gaps.append(np.abs(decompose(e).total - np.log(e.real_income)).max())
    assert gaps[1] <= 1e-7
    assert gaps[1] <= gaps[0] / 30 + 1e-12  # second order: 100x smaller for 10x smaller shocks


def test_near_autarky_fails_with_a_useful_message():
    """Tariffs of +1000 % on every good make the demo world nearly autarkic: relative wages are
    then almost indeterminate and the solver stalls near 1e-7; it must say so, not loop or crash."""
    from kaifang.data.demo import generate

    b = from_raw(generate())
    n = b.n_regions
    tau = b.tariff + 10.0 * b.tradable
    tau[np.arange(n), np.arange(n)] = 0.0
    with pytest.raises(
        ConvergenceError, match=r"best residual reached was .* nearly indeterminate.*loosen tol"
    ):
        solve(b, tau, None, np.zeros(n))
    loose = solve(b, tau, None, np.zeros(n), SolverSettings(tol=1e-6))
    assert loose.residuals["trade_balance"] < 1e-5


@pytest.mark.parametrize("seed", [3, 11])
def test_sector_order_does_not_matter(seed):
    """Listing a non-traded sector first gives the same equilibrium, in the new order.

    The solver reorders sectors internally (traded first); this checks the reordering and the
    way back against the world as generated (non-traded sector last).
    """
    b = random_world(seed, 3, 4)
    assert not b.tradable[-1] and b.tradable[:-1].all()
    perm = np.array([3, 1, 0, 2])  # the non-traded sector first
    p = b.replace(
        sectors=tuple(b.sectors[k] for k in perm),
        flows=b.flows[:, :, perm],
        tariff=b.tariff[:, :, perm],
        gamma_va=b.gamma_va[:, perm],
        gamma_io=b.gamma_io[:, perm][:, :, perm],
        alpha=b.alpha[:, perm],
        theta=b.theta[perm],
    )
    n = b.n_regions
    tau = b.tariff * 1.5
    tau[0, 1] += 0.1 * b.tradable
    d_hat = np.ones_like(tau)
    d_hat[2, 0] = 0.9
    deficits = np.zeros(n)
    e = solve(b, tau, d_hat, deficits)
    ep = solve(p, tau[:, :, perm], d_hat[:, :, perm], deficits)
    np.testing.assert_allclose(ep.w_hat, e.w_hat, rtol=1e-9)
    np.testing.assert_allclose(ep.p_hat, e.p_hat[:, perm], rtol=1e-9)
    np.testing.assert_allclose(ep.c_hat, e.c_hat[:, perm], rtol=1e-9)
    np.testing.assert_allclose(ep.shares, e.shares[:, :, perm], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(ep.expenditure, e.expenditure[:, perm], rtol=1e-9)
    assert max(ep.residuals.values()) < 1e-8


def test_warm_start_at_the_solution_stops_at_once():
    b = random_world(5, 3, 4)
    tau = b.tariff * 1.3
    e = solve(b, tau, None, np.zeros(b.n_regions))
    again = solve(b, tau, None, np.zeros(b.n_regions), start=(e.w_hat, e.p_hat, e.expenditure))
    assert again.diagnostics.iterations <= 2
    np.testing.assert_allclose(again.w_hat, e.w_hat, rtol=1e-9)
    np.testing.assert_allclose(again.p_hat, e.p_hat, rtol=1e-9)
    np.testing.assert_allclose(again.expenditure, e.expenditure, rtol=1e-9)


# ----------------------------------------------------------------------------- embargoes, autarky


def _autarky_real_income(b, region):
    """Real income I'/I / P-hat of ``region`` when it trades with no one, derived here from the
    model's price equations alone (no solver): with pi'_nn = 1 and no domestic cost change,
    log P-hat_j = log c-hat_j - log(pi_nnj) / theta_j for a traded sector and log c-hat_j for a
    non-traded one, log c-hat_j = gamma_j log w-hat + sum_k gamma_kj log P-hat_k; constant returns
    (gamma_j + sum_k gamma_kj = 1) make log P-hat = log w-hat + (I - Gamma')^-1 a with
    a_j = -log(pi_nnj) / theta_j (0 when non-traded). Income is w-hat VA (no imports, so no tariff
    revenue; no deficit), hence log(real income) = log(VA / I) - alpha' (I - Gamma')^-1 a. One
    sector without intermediate inputs or tariffs: pi_nn^(1/theta) (Arkolakis, Costinot and
    Rodriguez-Clare 2012, the gains from trade)."""
    n = region
    pi_nn = b.shares[n, n]
    a = np.where(b.tradable, -np.log(pi_nn) / b.theta, 0.0)
    gamma_t = b.gamma_io[n].T  # [j, k] = gamma_{n k j}
    lp = np.linalg.solve(np.eye(b.n_sectors) - gamma_t, a)
    return b.value_added[n] / b.income[n] * np.exp(-b.alpha[n] @ lp)


def _all_international(n, j):
    emb = np.ones((n, n, j), dtype=bool)
    emb[np.arange(n), np.arange(n)] = False
    return emb


@PROP
@given(st.integers(0, 10_000), st.integers(2, 5))
def test_full_autarky_one_sector_is_the_acr_gains_from_trade(seed, n):
    """Every international pair embargoed, one sector, no intermediate inputs or tariffs: real
    income falls to pi_nn^(1/theta) (the domestic share of the baseline), trade is zero, and each
    region, now its own economy, keeps its value added (its own numeraire)."""
    b = random_world(seed, n, 1, io=False, tariffs=False, deficits="zero")
    e = solve(b, b.tariff, None, np.zeros(n), embargo=_all_international(n, 1))
    acr = b.shares[np.arange(n), np.arange(n), 0] ** (1.0 / b.theta[0])
    np.testing.assert_allclose(e.real_income, acr, rtol=1e-10)
    flows = e.flows.copy()
    flows[np.arange(n), np.arange(n)] = 0.0
    assert not flows.any()  # exactly zero, not merely small
    np.testing.assert_allclose(e.w_hat, 1.0, rtol=1e-9)
    assert len(e.separate_economies) == n


@PROP
@given(worlds)
def test_full_autarky_with_input_output_matches_the_closed_form(w):
    """Many sectors, input-output links, tariffs and a non-traded sector: in autarky each region's
    real income is the closed form of :func:`_autarky_real_income`; markets clear."""
    seed, n, j = w
    b = random_world(seed, n, j, deficits="zero")
    e = solve(b, b.tariff, None, np.zeros(n), embargo=_all_international(n, j))
    expected = [_autarky_real_income(b, r) for r in range(n)]
    np.testing.assert_allclose(e.real_income, expected, rtol=1e-9)
    tb, lm = _independent_residuals(e)
    assert tb <= 1e-8 and lm <= 1e-8
    np.testing.assert_allclose(e.tariff_revenue, 0.0, atol=1e-15 * b.value_added.sum())


def _cp2015_embargo_scenario(text_shocks):
    from kaifang.scenario import parse_scenario

    text = f'name = "embargo-test"\nmodel = "caliendo_parro"\ndataset = "cp2015"\n{text_shocks}'
    return parse_scenario(text, "embargo-test.toml")


USA_EMBARGO = """
[[shocks]]
type = "embargo"
importer = "all"
exporter = "USA"
mirror = true
"""


def test_embargo_of_the_usa_by_everyone_solves_on_cp2015():
    """The documented embargo shock (every region against the USA, both directions) on the real
    data: converges to the default tolerance, markets clear, the USA's international trade is
    exactly zero, and its real income is its autarky value from the closed form."""
    require_dataset("cp2015")
    from kaifang.models.caliendo_parro.runner import load_baseline
    from kaifang.scenario.shocks import compose_shocks, parse_shocks

    scenario = _cp2015_embargo_scenario(USA_EMBARGO)
    b0, tables = load_baseline("cp2015")
    n = b0.n_regions
    composed = compose_shocks(
        parse_shocks(scenario),
        regions=b0.regions,
        sectors=b0.sectors,
        tariff_base=np.asarray(b0.tariff),
        scenario=scenario,
        tables=tables,
    )
    b1 = solve(b0, b0.tariff, None, np.zeros(n)).to_baseline()
    e = solve(b1, composed.tariff_new, composed.cost_factor(), np.zeros(n), embargo=composed.embargo)
    assert e.diagnostics.converged and e.diagnostics.residual <= SolverSettings().tol
    tb, lm = _independent_residuals(e)
    assert tb <= 1e-8 and lm <= 1e-8
    us = b1.regions.index("USA")
    flows = e.flows
    others = np.arange(n) != us
    assert not flows[us, others].any() and not flows[others, us].any()  # exactly zero
    np.testing.assert_allclose(e.real_income[us], _autarky_real_income(b1, us), rtol=1e-9)
    assert ("USA",) in e.separate_economies
    np.testing.assert_allclose(e.value_added.sum(), b1.value_added.sum(), rtol=1e-9)


def test_embargo_scenario_runs_end_to_end_on_cp2015():
    require_dataset("cp2015")
    from kaifang.models.caliendo_parro.runner import run

    # an embargo of the USA by everyone is close to autarky for it: the default two- and four-step
    # decomposition misses the exact welfare change by more than 0.01 % of income, and says so
    with pytest.warns(KaifangWarning, match="miss the exact welfare change"):
        result = run(_cp2015_embargo_scenario(USA_EMBARGO))
    d = result.diagnostics
    assert d["converged"] and d["residual"] <= SolverSettings().tol
    assert ["USA"] in d["separate_economies"]["groups"]
    assert (
        max(d["equilibria"]["counterfactual"][k] for k in ("trade_balance_error", "labour_market_error"))
        <= 1e-8
    )
    usa = result.regions.set_index("region").loc["USA"]
    assert usa["exports_pct"] == -100.0 and usa["imports_pct"] == -100.0


def test_full_autarky_of_cp2015_is_refused_with_the_goods_that_have_no_supplier():
    """In the cp2015 data some regions make none of some goods (Austria: office machinery), so
    with every import embargoed the good's price is infinite: no equilibrium, and the error says
    which goods."""
    require_dataset("cp2015")
    from kaifang.models.caliendo_parro.runner import load_baseline

    b0, _ = load_baseline("cp2015")
    n, j = b0.n_regions, b0.n_sectors
    with pytest.raises(UserInputError, match=r"no supplier of a good.*AUT \(Office\).*Leave some imports"):
        solve(b0, b0.tariff, None, np.zeros(n), embargo=_all_international(n, j))


def test_one_way_isolation_and_unfinanced_deficits_are_refused():
    b = random_world(4, 3, 2, deficits="zero")
    n, j = b.n_regions, b.n_sectors
    no_imports = np.zeros((n, n, j), dtype=bool)
    no_imports[0, 1:] = True  # R0 buys from no one but still sells
    with pytest.raises(
        UserInputError, match=r"\{R0\} sell to regions outside them but buy nothing.*mirror = true"
    ):
        solve(b, b.tariff, None, np.zeros(n), embargo=no_imports)
    both = no_imports | no_imports.transpose(1, 0, 2)
    deficits = np.array([0.1, -0.05, -0.05]) * b.value_added.sum()
    with pytest.raises(
        UserInputError, match=r"\{R0\} trade with no region outside.*deficits must sum to zero"
    ):
        solve(b, b.tariff, None, deficits, embargo=both)
    with pytest.raises(ValueError, match="False on domestic pairs"):
        solve(b, b.tariff, None, np.zeros(n), embargo=np.ones((n, n, j), dtype=bool))


@PROP
@given(worlds)
def test_an_isolated_group_keeps_its_value_added_and_the_rest_clears(w):
    """Region 0 cut off (both directions): the two economies each keep their value added (the
    numeraire of each), the rest of the world's markets clear, region 0 is in autarky."""
    seed, n, j = w
    b = random_world(seed, n, j, deficits="zero")
    emb = np.zeros((n, n, j), dtype=bool)
    emb[0, 1:] = emb[1:, 0] = True
    tau = b.tariff * 1.5
    e = solve(b, tau, None, np.zeros(n), embargo=emb)
    np.testing.assert_allclose(e.value_added[0], b.value_added[0], rtol=1e-9)  # to the tolerance
    np.testing.assert_allclose(e.value_added[1:].sum(), b.value_added[1:].sum(), rtol=1e-9)
    tb, lm = _independent_residuals(e)
    assert tb <= 1e-8 and lm <= 1e-8
    np.testing.assert_allclose(e.real_income[0], _autarky_real_income(b, 0), rtol=1e-9)


# ----------------------------------------------------------------------------- settings and the final check


@pytest.mark.parametrize("tol", [float("inf"), float("nan"), 0.5, 0.0, -1e-9])
def test_unusable_tolerances_are_refused_by_the_solver_itself(tol):
    """Settings built without validation (``model_construct``) still cannot make the solver
    accept a state far from equilibrium."""
    b = random_world(2, 3, 2)
    with pytest.raises(UserInputError, match=r"\[solver\] tol = .* is not a usable tolerance"):
        solve(
            b, b.tariff, settings=SolverSettings.model_construct(tol=tol, max_iter=50, memory=5, damping=None)
        )


def test_a_state_that_only_looks_converged_is_not_reported(monkeypatch):
    """If the iteration stopped at a point where markets do not clear (here: a fixed-point
    routine that returns its starting point), solve() checks the equilibrium conditions itself
    and raises instead of reporting convergence."""
    from kaifang.models._solver import FixedPointResult, SolverDiagnostics
    from kaifang.models.caliendo_parro import solver as solver_module

    def stalled(g, x0, *, tol, **kw):
        return FixedPointResult(np.asarray(x0), SolverDiagnostics("stub", 1, tol / 2, True, 0.0, tol))

    b = random_world(3, 3, 2, deficits="zero")
    monkeypatch.setattr(solver_module, "anderson", stalled)
    with pytest.raises(ConvergenceError, match=r"condition is off by .* more than the bound"):
        solve(b, b.tariff * 3.0, None, np.zeros(3))


# ----------------------------------------------------------------------------- evaluations of the map


def _shock(b, rng, kind):
    n = b.n_regions
    tau = b.tariff.copy()
    if kind == "none":
        tau[:] = 0.0
    elif kind == "few":  # a tariff on one pair only: the sparse tariff part
        tau[:] = 0.0
        tau[0, 1] = 0.25 * b.tradable
    else:
        tau = tau * rng.uniform(0.5, 2.0, size=tau.shape)
        tau[np.arange(n), np.arange(n)] = 0.0
    d_hat = np.exp(rng.normal(0.0, 0.2, size=tau.shape))
    return tau, d_hat


@PROP
@given(worlds, st.sampled_from(["none", "few", "dense"]), st.booleans())
def test_every_evaluation_of_the_map_gives_the_same_equilibrium(w, tariffs, isolate):
    """The NumPy map with its default sweeps, with one sweep of each block, with the tariff part
    forced dense or sparse, and the compiled map: one fixed point (tolerance 1e-13, agreement
    1e-10), with and without an isolated region."""
    import kaifang.models.caliendo_parro.solver as sm

    seed, n, j = w
    b = random_world(seed, n, j, deficits="zero")
    tau, d_hat = _shock(b, np.random.default_rng(seed), tariffs)
    emb = None
    if isolate:
        emb = np.zeros((n, n, j), dtype=bool)
        emb[0, 1:] = emb[1:, 0] = True
    tight = SolverSettings(tol=1e-13)
    ref = solve(b, tau, d_hat, np.zeros(n), tight, embargo=emb, kernel="numpy")
    saved = sm.ONE_SWEEP_FROM_CELLS, sm.SPARSE_TARIFFS
    one_sweep, dense, sparse = 0, 0.0, 1.0  # thresholds that force each variant
    variants = [
        (one_sweep, saved[1], "numpy"),
        (saved[0], dense, "numpy"),
        (saved[0], sparse, "numpy"),
        (saved[0], saved[1], "compiled"),
        (one_sweep, dense, "compiled"),
        (one_sweep, sparse, "compiled"),
    ]
    try:
        for cells, share, kernel in variants:
            sm.ONE_SWEEP_FROM_CELLS, sm.SPARSE_TARIFFS = cells, share
            e = solve(b, tau, d_hat, np.zeros(n), tight, embargo=emb, kernel=kernel)
            for name in ("w_hat", "p_hat", "c_hat", "expenditure", "real_income"):
                np.testing.assert_allclose(getattr(e, name), getattr(ref, name), rtol=1e-10, err_msg=name)
    finally:
        sm.ONE_SWEEP_FROM_CELLS, sm.SPARSE_TARIFFS = saved


@PROP
@given(worlds, st.sampled_from(["none", "few", "dense"]), st.integers(1, 3), st.integers(1, 3))
def test_compiled_map_is_the_numpy_map(w, tariffs, p, x):
    """One evaluation at a random state: the compiled kernel and the NumPy matrix products,
    two separate implementations of the same map, agree to rounding for any sweep counts."""
    import kaifang.models.caliendo_parro.solver as sm

    seed, n, j = w
    b = random_world(seed, n, j)
    rng = np.random.default_rng(seed + 7)
    tau, d_hat = _shock(b, rng, tariffs)
    scale = b.value_added.sum()
    deficits = (b.deficit - b.deficit.sum() * b.value_added / scale) / scale
    g_np = sm._EquilibriumMap(b, tau, d_hat, deficits, kernel="numpy")
    g_c = sm._EquilibriumMap(b, tau, d_hat, deficits, kernel="compiled")
    g_np.sweeps = (p, x)
    g_c.sweeps = (p, x)
    g_c._setup_compiled()
    v = g_np.pack(
        rng.normal(0, 0.1, n),
        rng.normal(0, 0.1, (n, j)),
        np.log(b.expenditure / scale) + rng.normal(0, 0.1, (n, j)),
    )
    np.testing.assert_allclose(g_c(v), g_np(v), rtol=0, atol=1e-12)


def test_unknown_kernel_is_refused(monkeypatch):
    b = random_world(1, 2, 1)
    monkeypatch.setenv("KAIFANG_CP_KERNEL", "fortran")
    with pytest.raises(
        UserInputError,
        match=r"KAIFANG_CP_KERNEL has value 'fortran'; valid values are 'auto', 'numpy', 'compiled'",
    ):
        solve(b, b.tariff)


def test_auto_kernel_compiles_the_map_for_large_worlds_only():
    """The default kernel is the NumPy map for small worlds and the compiled one from
    COMPILED_FROM_CELLS traded cells (the two are compared on the same equilibria above)."""
    import kaifang.models.caliendo_parro.solver as sm

    b = random_world(3, 3, 2)
    n = b.n_regions
    g = sm._EquilibriumMap(b, b.tariff, np.ones(b.flows.shape), np.zeros(n))
    assert g.kernel == "numpy"
    cells = int(b.tradable.sum()) * n * n
    assert sm._kernel_choice("auto", cells) == "numpy"
    assert sm._kernel_choice("auto", sm.COMPILED_FROM_CELLS) == "compiled"
    assert sm._kernel_choice(None, sm.COMPILED_FROM_CELLS) == "compiled"
    assert sm._kernel_choice("numpy", sm.COMPILED_FROM_CELLS) == "numpy"


def test_trade_components_agree_with_scipy_graph_routines():
    """The separate economies come from the strongly and weakly connected components of the
    trade graph; they must be the partitions scipy.sparse.csgraph finds (random graphs)."""
    from scipy.sparse.csgraph import connected_components

    import kaifang.models.caliendo_parro.solver as sm

    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 25))
        link = rng.uniform(size=(n, n)) < rng.uniform(0, 0.3)
        np.fill_diagonal(link, False)
        for connection, graph in (("strong", link), ("weak", link | link.T)):
            k_ref, ref = connected_components(link, directed=True, connection=connection)
            k, got = sm._components(graph)
            assert k == k_ref
            assert len(set(zip(ref.tolist(), got.tolist(), strict=True))) == k  # the same partition
            firsts = [int(np.flatnonzero(got == g)[0]) for g in range(k)]
            assert firsts == sorted(firsts)  # labelled in the order of their first region
