"""Property tests on random small worlds (no data needed): the solver's answer satisfies every
equation of the note, agrees with a general root finder, and a zero tariff changes nothing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaifang.models.ims2025 import Economy, outcome_arrays, solve, solve_reference
from kaifang.models.ims2025.model import phi_tilde


def _world(seed: int, n: int, lump_sum: bool) -> Economy:
    """A consistent random baseline: flows incl. domestic, E = column sums,
    Y = sum_k (1 - nu_k) X_ik + nu_i E_i, T = E - Y (so transfers sum to zero)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.1, 1.0, (n, n)) + np.diag(rng.uniform(2.0, 8.0, n))
    nu = rng.uniform(0.0, 0.3, n)
    E = X.sum(axis=0)
    Y = (X * (1 - nu)[None, :]).sum(axis=1) + nu * E
    return Economy(
        E=E,
        Y=Y,
        T=E - Y,
        lam=X / E[None, :],
        nu=nu,
        phi=1.0 + phi_tilde(nu, 4 / 0.67),
        eps=4.0,
        kappa=0.5,
        psi=0.67 / 4,
        lump_sum=lump_sum,
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n=st.integers(2, 7),
    lump_sum=st.booleans(),
    top=st.floats(0.0, 0.6),
)
def test_random_worlds_solve_exactly(seed, n, lump_sum, top):
    econ = _world(seed, n, lump_sum)
    rng = np.random.default_rng(seed + 1)
    t = rng.uniform(0.0, top, (n, n)) * (1 - np.eye(n))
    sol = solve(econ, t)
    eq = sol.eq
    assert sol.residual <= 1e-10
    for r in (eq.residual_a, eq.residual_b, eq.residual_c):
        assert np.max(np.abs(r)) <= 1e-10
    assert abs(eq.normalisation) <= 1e-10
    np.testing.assert_allclose(eq.lam_new.sum(axis=0), 1.0, atol=1e-13)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 6))
def test_random_worlds_match_a_general_root_finder(seed, n):
    econ = _world(seed, n, False)
    t = np.random.default_rng(seed).uniform(0.0, 0.4, (n, n)) * (1 - np.eye(n))
    np.testing.assert_allclose(solve(econ, t).x, solve_reference(econ, t).x, atol=1e-8)


@pytest.mark.parametrize("lump_sum", [False, True])
def test_zero_tariff_changes_nothing_in_a_random_world(lump_sum):
    econ = _world(7, 5, lump_sum)
    sol = solve(econ, np.zeros((5, 5)))
    np.testing.assert_allclose(sol.x, 1.0, atol=1e-12)
    for v in outcome_arrays(econ, sol.eq).values():
        np.testing.assert_allclose(v, 0.0, atol=1e-9)
