"""Equilibrium conditions at the solution, the zero-tariff case, the Jacobian, and agreement
with a general root finder."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import ConvergenceError
from kaifang.models.ims2025 import (
    ModelSettings,
    SolverSettings,
    build_economy,
    calibrate,
    outcome_arrays,
    solve,
)
from kaifang.models.ims2025.policy import reciprocal_retaliation, ustr_tariffs
from kaifang.models.ims2025.solver import (
    jacobian,
    newton_residual,
    reduced_jacobian,
    reduced_residual,
    solve_reference,
)

pytestmark = pytest.mark.data


@pytest.mark.parametrize(
    "settings",
    [
        ModelSettings(),
        ModelSettings(revenue_use="lump_sum"),
        ModelSettings(pass_through="incomplete"),
        ModelSettings(variant="eaton_kortum"),
    ],
    ids=["benchmark", "lump_sum", "incomplete", "eaton_kortum"],
)
def test_equilibrium_conditions_hold_at_the_solution(cal, ustr, settings):
    """(a) for every region (incl. the one replaced by the normalisation: Walras' law),
    (b), (c) and the normalisation hold to 1e-10 relative."""
    econ = build_economy(cal, settings)
    t = reciprocal_retaliation(ustr, cal.us, range(cal.n))
    sol = solve(econ, t)
    eq = sol.eq
    assert sol.converged and sol.residual <= 1e-10
    for r in (eq.residual_a, eq.residual_b, eq.residual_c):
        assert np.max(np.abs(r)) <= 1e-10
    assert abs(eq.normalisation) <= 1e-10
    # spending shares still sum to one; new flows at producer prices add up to E'(1 - rho)
    np.testing.assert_allclose(eq.lam_new.sum(axis=0), 1.0, atol=1e-13)
    np.testing.assert_allclose(eq.X_new.sum(axis=0) + eq.R, eq.E_hat * econ.E, rtol=1e-12)


def test_zero_tariffs_change_nothing(econ):
    t = np.zeros((econ.n, econ.n))
    sol = solve(econ, t)
    assert sol.iterations == 0
    for hat in (sol.eq.w_hat, sol.eq.E_hat, sol.eq.L_hat, sol.eq.P_hat):
        np.testing.assert_allclose(hat, 1.0, atol=1e-12)
    for name, v in outcome_arrays(econ, sol.eq).items():
        np.testing.assert_allclose(v, 0.0, atol=1e-9, err_msg=name)


def test_jacobian_matches_finite_differences(econ, ustr):
    rng = np.random.default_rng(1)
    z = rng.normal(0.0, 0.02, 3 * econ.n)
    J = jacobian(econ, ustr, z)
    h = 1e-6
    for k in rng.choice(3 * econ.n, size=25, replace=False):
        dz = np.zeros(3 * econ.n)
        dz[k] = h
        fd = (newton_residual(econ, ustr, z + dz) - newton_residual(econ, ustr, z - dz)) / (2 * h)
        np.testing.assert_allclose(J[:, k], fd, atol=1e-7)
    y = rng.normal(0.0, 0.02, 2 * econ.n)
    Jr = reduced_jacobian(econ, ustr, y)
    for k in rng.choice(2 * econ.n, size=15, replace=False):
        dy = np.zeros(2 * econ.n)
        dy[k] = h
        fd = (reduced_residual(econ, ustr, y + dy) - reduced_residual(econ, ustr, y - dy)) / (2 * h)
        np.testing.assert_allclose(Jr[:, k], fd, atol=1e-7)


@pytest.mark.parametrize("revenue_use", ["income_tax_relief", "lump_sum"])
def test_same_answer_as_a_general_root_finder(data, revenue_use):
    """Newton agrees with scipy.optimize.root('lm', unit start) on a 12-region sub-world."""
    keep = [
        data.index(c)
        for c in ("USA", "CHN", "CAN", "MEX", "DEU", "JPN", "GBR", "IND", "VNM", "BRA", "KOR", "FRA")
    ]
    regions = [data.regions[k] for k in keep]
    cal = calibrate(data.trade[np.ix_(keep, keep)], data.gdp[keep], regions)
    econ = build_economy(cal, ModelSettings(revenue_use=revenue_use))
    t = ustr_tariffs(data.tariffs[keep], cal.us)
    t = reciprocal_retaliation(t, cal.us, range(cal.n))
    ours = solve(econ, t)
    ref = solve_reference(econ, t)
    np.testing.assert_allclose(ours.x, ref.x, rtol=0, atol=1e-8)


def test_non_convergence_raises_with_what_was_tried(econ, ustr):
    with pytest.raises(ConvergenceError, match=r"Newton's method .* stopped after 1 iteration\(s\)") as ei:
        solve(econ, ustr, SolverSettings(max_iterations=1))
    assert ei.value.iterations == 1 and ei.value.residual > 1e-12


def test_bad_tariff_array_is_rejected(econ):
    with pytest.raises(ValueError, match="tariffs have shape"):
        solve(econ, np.zeros((3, 3)))
    t = np.zeros((econ.n, econ.n))
    t[0, 1] = -1.5
    with pytest.raises(ValueError, match="above -1"):
        solve(econ, t)
