"""The gravity GE solver on small worlds: invariants and closed forms (no data set needed)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaifang.errors import ConvergenceError, DataError
from kaifang.models.gravity.equations import acr_welfare, exports_international
from kaifang.models.gravity.solver import solve_gravity


def world(n: int = 6, seed: int = 0, balanced: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.lognormal(0.0, 1.0, (n, n))
    X[np.diag_indices(n)] *= 10.0
    return X + X.T if balanced else X


def fta_shock(n: int, members: list[int], b: float = 0.5) -> np.ndarray:
    B = np.ones((n, n))
    B[np.ix_(members, members)] = np.exp(b)
    np.fill_diagonal(B, 1.0)
    return B


@pytest.mark.parametrize("imbalance", ["multiplicative", "additive"])
@pytest.mark.parametrize("normalisation", ["reference", "world_output"])
def test_zero_shock_changes_nothing(imbalance, normalisation):
    X = world()
    s = solve_gravity(X, np.ones_like(X), 5.0, imbalance=imbalance, normalisation=normalisation, reference=2)
    for sol in (s.conditional, s.full):
        np.testing.assert_allclose(sol.X, X, rtol=1e-12)
        np.testing.assert_allclose(sol.P_hat, 1.0, rtol=1e-12)
        np.testing.assert_allclose(sol.Pi_hat, 1.0, rtol=1e-12)
    np.testing.assert_allclose(s.full.p_hat, 1.0, rtol=1e-12)


@pytest.mark.parametrize("imbalance", ["multiplicative", "additive"])
def test_markets_clear_and_imbalances_behave_as_documented(imbalance):
    X = world(7, seed=3)
    Y, E = X.sum(1), X.sum(0)
    s = solve_gravity(X, fta_shock(7, [0, 1, 2]), 7.0, imbalance=imbalance, reference=4)
    f = s.full
    np.testing.assert_allclose(f.X.sum(0), f.E_hat * E, rtol=1e-10)  # expenditure is spent
    if imbalance == "multiplicative":
        np.testing.assert_allclose(f.E_hat * E / (f.p_hat * Y), E / Y, rtol=1e-10)  # E/Y fixed
        # world expenditure need not equal world output: sales = output up to one common factor
        ratio = f.X.sum(1) / (f.p_hat * Y)
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    else:
        np.testing.assert_allclose(f.X.sum(1), f.p_hat * Y, rtol=1e-10)  # output = p * Q is sold
        np.testing.assert_allclose(f.X.sum(0) - f.X.sum(1), E - Y, rtol=1e-9, atol=1e-9)  # D fixed
    # conditional GE keeps output and expenditure
    np.testing.assert_allclose(s.conditional.X.sum(1), Y, rtol=1e-10)
    np.testing.assert_allclose(s.conditional.X.sum(0), E, rtol=1e-10)


def test_reference_country_price_index_is_the_numeraire():
    X = world(6, seed=1)
    s = solve_gravity(X, fta_shock(6, [0, 1]), 5.0, reference=3)
    assert s.full.P_hat[3] == pytest.approx(1.0, abs=1e-12)
    assert s.conditional.P_hat[3] == pytest.approx(1.0, abs=1e-12)


def test_world_output_normalisation_preserves_world_output():
    X = world(6, seed=2)
    s = solve_gravity(
        X, fta_shock(6, [1, 2, 3]), 5.0, imbalance="additive", normalisation="world_output", reference=0
    )
    assert s.full.X.sum() == pytest.approx(X.sum(), rel=1e-12)
    assert (s.full.p_hat * X.sum(1)).sum() == pytest.approx(X.sum(1).sum(), rel=1e-12)


@pytest.mark.parametrize("normalisation", ["reference", "world_output"])
def test_acr_closed_form_with_balanced_trade(normalisation):
    """Arkolakis, Costinot, Rodriguez-Clare (2012): W_hat = (lambda'_ii/lambda_ii)^(-1/(sigma-1))."""
    X = world(8, seed=4, balanced=True)
    sigma = 6.0
    s = solve_gravity(X, fta_shock(8, [0, 1, 2, 5], 0.7), sigma, normalisation=normalisation, reference=7)
    f = s.full
    W = f.E_hat / f.P_hat ** (1.0 / (1.0 - sigma))
    lam, lam_new = np.diag(X) / X.sum(0), np.diag(f.X) / f.X.sum(0)
    np.testing.assert_allclose(W, acr_welfare(lam_new, lam, sigma), rtol=1e-10)


def test_fta_raises_member_trade_and_diverts_from_outsiders():
    X = world(6, seed=5)
    s = solve_gravity(X, fta_shock(6, [0, 1]), 5.0, reference=5)
    ex0, ex1 = exports_international(X), exports_international(s.full.X)
    assert (ex1[:2] > ex0[:2]).all()
    # trade diversion: members buy less from an outsider (conditional GE, prices fixed)
    assert (s.conditional.X[2, :2] < X[2, :2]).all()


def test_batch_equals_individual_solves():
    X = world(5, seed=6)
    Bs = np.stack([fta_shock(5, [0, 1], b) for b in (0.1, 0.4, -0.3)])
    batch = solve_gravity(X, Bs, 4.0, reference=2)
    for k in range(3):
        one = solve_gravity(X, Bs[k], 4.0, reference=2)
        np.testing.assert_allclose(batch.full.p_hat[k], one.full.p_hat, rtol=1e-9)
        np.testing.assert_allclose(batch.conditional.P_hat[k], one.conditional.P_hat, rtol=1e-9)


def test_acceleration_does_not_change_the_answer():
    X = world(9, seed=7)
    B = fta_shock(9, [0, 3, 4], 0.9)
    a = solve_gravity(X, B, 7.0, reference=1, accelerate=True)
    b = solve_gravity(X, B, 7.0, reference=1, accelerate=False)
    np.testing.assert_allclose(a.full.p_hat, b.full.p_hat, rtol=1e-9)
    np.testing.assert_allclose(a.conditional.Pi_hat, b.conditional.Pi_hat, rtol=1e-9)
    assert a.full.iterations < b.full.iterations


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 7),
    seed=st.integers(0, 10_000),
    b=st.floats(-1.5, 1.5),
    sigma=st.floats(2.0, 10.0),
    imbalance=st.sampled_from(["multiplicative", "additive"]),
)
def test_property_equilibrium_conditions_hold(n, seed, b, sigma, imbalance):
    X = world(n, seed=seed)
    s = solve_gravity(X, fta_shock(n, [0, 1], b), sigma, imbalance=imbalance, reference=n - 1)
    f = s.full
    if imbalance == "additive":
        np.testing.assert_allclose(f.X.sum(1), f.p_hat * X.sum(1), rtol=1e-8)
    np.testing.assert_allclose(f.X.sum(0), f.E_hat * X.sum(0), rtol=1e-8)
    # CES demand: X'_ij = X_ij B_ij p_i^(1-sigma) E_hat_j / P_hat_j
    B = fta_shock(n, [0, 1], b)
    pred = X * B * (f.p_hat ** (1 - sigma))[:, None] * (f.E_hat / f.P_hat)[None, :]
    np.testing.assert_allclose(f.X, pred, rtol=1e-8)


def test_a_country_that_sells_or_buys_nothing_is_an_error_naming_it():
    X = world(4)
    X[2, :] = 0.0
    with pytest.raises(DataError, match=r"country C has no sales \(output\)"):
        solve_gravity(X, np.ones_like(X), 5.0, labels=["A", "B", "C", "D"])
    X = world(4)
    X[:, 1] = 0.0
    with pytest.raises(DataError, match=r"country B has no purchases \(expenditure\)"):
        solve_gravity(X, np.ones_like(X), 5.0, labels=["A", "B", "C", "D"])


@pytest.mark.parametrize("imbalance", ["multiplicative", "additive"])
def test_a_zero_domestic_flow_stays_zero_and_the_equilibrium_holds(imbalance):
    """A country without domestic sales (as in the calibrated 2023 world of the tariff model): the
    equations are defined as long as it sells and buys; its domestic flow stays zero, and the
    equilibrium conditions (CES demand, spending, market clearing with additive imbalances) hold."""
    sigma = 5.0
    X = world(5, seed=4)
    X[3, 3] = 0.0
    B = fta_shock(5, [0, 3], 0.4)
    s = solve_gravity(X, B, sigma, imbalance=imbalance, normalisation="world_output")
    for sol in (s.conditional, s.full):
        assert sol.X[3, 3] == 0.0
    f = s.full
    pred = X * B * (f.p_hat ** (1 - sigma))[:, None] * (f.E_hat / f.P_hat)[None, :]
    np.testing.assert_allclose(f.X, pred, rtol=1e-10)
    np.testing.assert_allclose(f.X.sum(0), f.E_hat * X.sum(0), rtol=1e-10)
    if imbalance == "additive":
        np.testing.assert_allclose(f.X.sum(1), f.p_hat * X.sum(1), rtol=1e-10)
    c = s.conditional  # output and expenditure fixed
    np.testing.assert_allclose(c.X.sum(1), X.sum(1), rtol=1e-10)
    np.testing.assert_allclose(c.X.sum(0), X.sum(0), rtol=1e-10)


def test_bad_inputs():
    X = world(4)
    with pytest.raises(DataError, match="sigma must be > 1"):
        solve_gravity(X, np.ones_like(X), 1.0)
    with pytest.raises(DataError, match="shock array has shape"):
        solve_gravity(X, np.ones((3, 3)), 5.0)
    with pytest.raises(DataError, match="must be finite and > 0"):
        solve_gravity(X, -np.ones_like(X), 5.0)


def test_non_convergence_raises_with_what_was_tried():
    X = world(6)
    with pytest.raises(
        ConvergenceError, match=r"did not converge in 3 iterations.*Raise solver.maxiter"
    ) as exc:
        solve_gravity(X, fta_shock(6, [0, 1]), 5.0, maxiter=3)
    assert exc.value.iterations > 0
