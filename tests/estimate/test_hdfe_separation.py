"""Separation and singletons, on the published test cases of ppmlhdfe.

The data sets are re-created from the test scripts of the Stata package ppmlhdfe (Correia,
Guimarães and Zylkin; github.com/sergiocorreia/ppmlhdfe, folder ``test/``, files
``problem1.do`` ... ``problem5.do`` and ``allzero.do``). Each script states which observations
ppmlhdfe keeps and checks its estimates against a Poisson regression with dummy variables on
that sample; here the reference regression is pyfixest's ``fepois`` with the fixed effects as
dummies (``C(i) + C(j)``) on the same sample. Tolerances: coefficients 1e-6 relative, robust
standard errors 1e-5 relative (the small-sample factor N/(N-K) counts the same parameters
either way).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaifang.estimate.hdfe import SeparationError, ppml_hdfe

pf = pytest.importorskip("pyfixest")

# problem1.do: columns y x1 x2 i j
PROBLEM1 = [
    (2, 0, 0, 2, 1), (0, 0, 0, 4, 2), (0, 0, 0, 1, 1), (1, 1, 0, 4, 3), (0, 0, 1, 2, 2),
    (0, 0, 0, 2, 2), (1, 0, 0, 5, 4), (0, 1, 2, 2, 3), (1, 0, 0, 1, 1), (0, 0, 0, 2, 2),
    (0, 2, 0, 1, 3), (0, 0, 0, 1, 3), (0, 1, 0, 2, 2), (0, 0, 1, 5, 2), (0, 0, 1, 2, 4),
    (0, 0, 0, 1, 2), (0, 0, 0, 1, 1), (2, 0, 0, 1, 2),
]  # fmt: skip
# problem2.do
PROBLEM2 = [
    (2, 0, 0, 2, 1), (1, 0, 1, 2, 3), (2, 0, 1, 2, 2), (1, 1, 0, 2, 2), (0, 1, 0, 1, 2),
    (1, 2, 0, 1, 3), (1, 0, 0, 2, 1), (2, 1, 0, 2, 3), (0, 1, 0, 2, 2),
]  # fmt: skip
# problem5.do (problem2 with i = 4 in row 2)
PROBLEM5 = [
    (2, 0, 0, 2, 1), (1, 0, 1, 4, 3), (2, 0, 1, 2, 2), (1, 1, 0, 2, 2), (0, 1, 0, 1, 2),
    (1, 2, 0, 1, 3), (1, 0, 0, 2, 1), (2, 1, 0, 2, 3), (0, 1, 0, 2, 2),
]  # fmt: skip
# problem3.do: columns y x1 x2 x3, no fixed effects
PROBLEM3 = [
    (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 2), (2.2596662, 1, 1, 2), (2.4177196, 2, 2, 2),
    (0.9788354, 3, 2, 1), (2.6114680, 4, 2, 1),
]  # fmt: skip
# problem4.do: columns y x1 x2 x3, no fixed effects
PROBLEM4 = [
    (0, 2, 3, 4), (0, -5, 0, 1), (0, 0, 2, 1), (0, 0, 0, 3), (0, -2, 0, 1), (0, 0, 0, 2),
    (1.1, 1, 1, 2), (0.5, 2, 2, 2), (3.3, 3, 3, 2), (2.1, 4, 2, 4),
]  # fmt: skip


def _frame(rows, cols):
    return pd.DataFrame(rows, columns=cols).astype(float)


def _fit(df, xs, fes, **kw):
    X = df[xs].to_numpy()
    fe = [df[f].astype(int).to_numpy() for f in fes]
    return ppml_hdfe(df["y"].to_numpy(), X, fe, names=xs, tol=1e-12, **kw)


def _reference(df, formula):
    """Poisson with dummies on the given sample (no separation check, no singleton removal)."""
    m = pf.fepois(formula, data=df, vcov="hetero", separation_check=[], fixef_rm="none", iwls_tol=1e-12)
    return m.coef(), m.se()


def _check(fit, names, coef, se):
    for name in names:
        j = fit.names.index(name)
        assert fit.coef[j] == pytest.approx(coef[name], rel=1e-6, abs=1e-9), name
        if se is not None:
            assert fit.se[j] == pytest.approx(se[name], rel=1e-5), name


def test_problem1_keep_singletons_drops_rows_separated_by_x2():
    df = _frame(PROBLEM1, ["y", "x1", "x2", "i", "j"])
    fit = _fit(df, ["x1", "x2"], ["i", "j"], drop_singletons=False, vcov="hetero")
    dropped = set(np.flatnonzero(~fit.sample) + 1)  # 1-based row numbers as in the .do file
    assert dropped == {5, 8, 14, 15}
    assert fit.dropped["separated_relu"] == 4
    assert fit.collinear == ("x2",)  # all zero once the separated rows are gone
    coef, _ = _reference(df[fit.sample], "y ~ x1 + C(i) + C(j)")
    # Standard errors are not compared here: the kept singleton (row 7) is alone in both i == 5
    # and j == 4, so the dummy regression drops one of the two redundant dummies and counts one
    # parameter fewer in its small-sample factor than the fixed-effects count (fixest's rule).
    _check(fit, ["x1"], coef, None)


def test_problem1_drop_singletons_also_drops_row_7():
    df = _frame(PROBLEM1, ["y", "x1", "x2", "i", "j"])
    fit = _fit(df, ["x1", "x2"], ["i", "j"], vcov="hetero")
    assert set(np.flatnonzero(~fit.sample) + 1) == {5, 7, 8, 14, 15}
    assert fit.dropped == {"singleton": 1, "separated_fe": 0, "separated_relu": 4}
    coef, se = _reference(df[fit.sample], "y ~ x1 + C(i) + C(j)")
    _check(fit, ["x1"], coef, se)


def test_problem2_separation_by_regressors_and_fixed_effects():
    # z = (j==2) + (j==3) + (i==1) - x1 - x2 is 0 where y > 0 and > 0 at row 5 only.
    df = _frame(PROBLEM2, ["y", "x1", "x2", "i", "j"])
    fit = _fit(df, ["x1", "x2"], ["i", "j"], vcov="hetero")
    assert set(np.flatnonzero(~fit.sample) + 1) == {5, 6}
    assert fit.collinear == ("x2",)
    coef, se = _reference(df[fit.sample], "y ~ x1 + C(j)")
    _check(fit, ["x1"], coef, se)


def test_problem3_no_false_positive_without_fixed_effects():
    df = _frame(PROBLEM3, ["y", "x1", "x2", "x3"])
    fit = _fit(df, ["x1", "x2", "x3"], [], vcov="hetero")
    assert fit.sample.all() and fit.collinear == ()
    assert fit.intercept is not None
    coef, se = _reference(df, "y ~ x1 + x2 + x3")
    _check(fit, ["x1", "x2", "x3"], coef, se)


def test_problem4_no_false_negative_without_fixed_effects():
    df = _frame(PROBLEM4, ["y", "x1", "x2", "x3"])
    fit = _fit(df, ["x1", "x2", "x3"], [], vcov="hetero", maxiter=200)
    assert list(fit.sample) == [False] * 5 + [True] * 5
    assert fit.collinear == ("x3",)  # x3 = x1 - x2 + 2 on the rows with y > 0
    coef, se = _reference(df[fit.sample], "y ~ x1 + x2")
    _check(fit, ["x1", "x2"], coef, se)


def test_problem5_singleton_then_separation_then_singletons():
    df = _frame(PROBLEM5, ["y", "x1", "x2", "i", "j"])
    fit = _fit(df, ["x1", "x2"], ["i", "j"], vcov="hetero", maxiter=50)
    smpl = (df.i != 4) & (df.index != 4) & (df.i != 1) & (df.j != 3)
    assert list(fit.sample) == list(smpl)
    assert fit.fe_sizes == (1, 2)
    assert fit.collinear == ("x2",)
    coef, se = _reference(df[smpl], "y ~ x1 + C(j)")
    _check(fit, ["x1"], coef, se)


def test_allzero_dependent_variable_is_an_error():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="zero in every row"):
        ppml_hdfe(np.zeros(10), rng.normal(size=(10, 2)), [])


def test_fe_check_drops_all_zero_groups_and_reports_them():
    # exporter 0 never exports anything: its rows are separated by the fixed-effect check
    rng = np.random.default_rng(3)
    n = 400
    ex = rng.integers(0, 8, n)
    im = rng.integers(0, 8, n)
    x = rng.normal(size=n)
    y = rng.poisson(np.exp(0.5 * x + 0.2 * ex - 0.1 * im)).astype(float)
    y[ex == 0] = 0.0
    fit = ppml_hdfe(y, x[:, None], [ex, im], separation=("fe",))
    assert fit.dropped["separated_fe"] == int((ex == 0).sum())
    assert not fit.sample[ex == 0].any()
    assert np.isnan(fit.fixed_effects[0][0])
    with pytest.raises(SeparationError, match="no observation is left"):
        ppml_hdfe(y, x[:, None], [np.arange(n)])  # every row its own group: all singletons


def test_large_problem_relu_path_finds_exactly_the_planted_separated_rows():
    """Above the dense limit the ReLU check runs on alternating projections. Plant a regressor
    that is positive only on some zero-flow rows of a 60,000-row panel with three fixed
    effects (the planted rows are separated: the likelihood rises without bound along that
    regressor) and check that exactly the planted rows the fixed-effect check left are found,
    and no others."""
    from kaifang.estimate.synthetic import gravity_panel

    d = gravity_panel(60_000, n_years=10, seed=7, zero_share=0.3, profile="agtpa").data.copy()
    rng = np.random.default_rng(0)
    planted = rng.choice(np.flatnonzero(d["trade"].to_numpy() == 0), size=200, replace=False)
    d["xsep"] = 0.0
    d.loc[planted, "xsep"] = rng.uniform(0.5, 2.0, planted.size)
    xs = ["rta", "ln_tariff", "x1", "x2", "xsep"]
    fes = ["exp_year", "imp_year", "pair"]
    fit = ppml_hdfe(d["trade"].to_numpy(), d[xs].to_numpy(), [d[f].to_numpy() for f in fes], names=xs)
    assert fit.diagnostics["relu_converged"]
    relu = set(np.flatnonzero(fit.drop_reason == 4).tolist())
    left_by_fe_check = {int(i) for i in planted if fit.drop_reason[i] != 3}
    assert len(left_by_fe_check) > 100
    assert relu == left_by_fe_check
    # without those rows xsep is zero everywhere: named as collinear, the rest is estimated
    assert fit.collinear == ("xsep",)
    assert np.isfinite(fit.coef[:4]).all()
