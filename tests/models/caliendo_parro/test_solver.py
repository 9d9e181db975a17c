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
from kaifang.baseline import from_raw
from kaifang.errors import ConvergenceError
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
    e = solve(b, b.tariff, d_hat, np.zeros(n))
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
