"""Cross-model check: one-sector gravity GE versus Caliendo–Parro restricted to one sector.

With one sector, no intermediate inputs and no tariffs, the Caliendo–Parro model is the
Armington/Eaton–Kortum gravity model with trade elasticity theta. Its exact welfare change
(real income I'/I over P-hat) must equal the full-endowment gravity model's real expenditure
change E-hat/P-hat for the same iceberg shock with sigma = theta + 1, deficits held fixed in
units of the numeraire (gravity: additive imbalances) and world output as numeraire.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kaifang.baseline import from_raw
from kaifang.data.cp2015 import RawMultiSector
from kaifang.models.caliendo_parro import SolverSettings, solve
from kaifang.models.gravity.runner import outcomes
from kaifang.models.gravity.solver import solve_gravity


def _worlds(seed: int, n: int, balanced: bool):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 3.0, size=(n, n))  # exporter x importer
    if balanced:
        X = (X + X.T) / 2  # symmetric flows: every country's trade balances
    X[np.diag_indices(n)] = rng.uniform(5.0, 20.0, size=n)
    theta = float(rng.uniform(2.0, 8.0))
    imports = X.T.copy()[:, :, None]  # (importer, exporter, sector)
    imports[np.arange(n), np.arange(n), 0] = 0.0
    raw = RawMultiSector(
        dataset="cross-check",
        regions=tuple(f"R{k}" for k in range(n)),
        sectors=("all",),
        imports=imports,
        tariff=np.zeros((n, n, 1)),
        gross_output=X.sum(axis=1)[:, None],
        va_share=np.ones((n, 1)),
        io=np.zeros((n, 1, 1)),
        theta=np.array([theta]),
        tradable=np.array([True]),
        files={},
    )
    # an iceberg shock on a random subset of international pairs (importer, exporter)
    d_hat = np.exp(rng.uniform(-0.4, 0.4, size=(n, n)))
    d_hat[rng.uniform(size=(n, n)) < 0.4] = 1.0
    d_hat[np.diag_indices(n)] = 1.0
    return X, from_raw(raw), theta, d_hat


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), balanced=st.booleans())
def test_gravity_equals_caliendo_parro_one_sector(seed: int, n: int, balanced: bool) -> None:
    X, b, theta, d_hat = _worlds(seed, n, balanced)
    cp = solve(b, b.tariff, d_hat[:, :, None], b.deficit, SolverSettings(tol=1e-13, max_iter=20_000))
    sigma = theta + 1.0
    B = (d_hat.T) ** (1.0 - sigma)  # gravity arrays are (exporter, importer)
    grav = solve_gravity(X, B, sigma, imbalance="additive", normalisation="world_output", tol=1e-14)
    w_grav = outcomes(X, grav.full, sigma)["welfare_pct"]
    w_cp = 100.0 * (cp.real_income - 1.0)
    np.testing.assert_allclose(1 + w_grav / 100, 1 + w_cp / 100, rtol=1e-8, atol=0)
    # bilateral flows agree too (gravity: exporter x importer; cp: importer x exporter)
    scale = X.sum()
    np.testing.assert_allclose(grav.full.X / scale, cp.flows[:, :, 0].T / scale, rtol=0, atol=1e-8)


def test_the_check_can_fail_with_the_wrong_elasticity() -> None:
    """Guard: with sigma != theta + 1 the two models must disagree (the test is not vacuous)."""
    X, b, theta, d_hat = _worlds(7, 4, True)
    d_hat[0, 1] = d_hat[1, 0] = 0.7
    cp = solve(b, b.tariff, d_hat[:, :, None], b.deficit, SolverSettings(tol=1e-13, max_iter=20_000))
    sigma = theta + 2.0
    grav = solve_gravity(
        X, d_hat.T ** (1.0 - sigma), sigma, imbalance="additive", normalisation="world_output"
    )
    w_grav = outcomes(X, grav.full, sigma)["welfare_pct"]
    assert not np.allclose(w_grav, 100.0 * (cp.real_income - 1.0), rtol=1e-6, atol=1e-6)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(w_grav, 100.0 * (cp.real_income - 1.0), rtol=1e-8)
