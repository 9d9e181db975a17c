"""`PPMLEstimate.summary()` and `kaifang.estimate.etable`: the printed numbers are the estimate's.

Independent checks: p-values from scipy.stats.norm on coef / se (not the estimate's own
``table()``), the number of fixed-effect categories counted in the data, the Poisson
log-likelihood and pseudo-R2 computed here from the data and the fitted values, and, where
pyfixest is installed, its ``fepois`` pseudo-R2 and log-likelihood (same model).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import gammaln

from kaifang.estimate import etable, ols, ppml


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 3000
    df = pd.DataFrame(
        {
            "exp": rng.integers(0, 25, n).astype(str),
            "imp": rng.integers(0, 30, n).astype(str),
            "pair": rng.integers(0, 120, n).astype(str),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
        }
    )
    df["y"] = rng.poisson(np.exp(1.0 + 0.4 * df["x"] + 0.02 * df["z"]))
    df["ln_y"] = np.log(df["y"].where(df["y"] > 0))
    return df


@pytest.fixture(scope="module")
def est(panel):
    return ppml(panel, "y", ["x", "z"], ["exp", "imp"], cluster="pair")


@pytest.fixture(scope="module")
def est_ols(panel):
    return ols(panel, "ln_y", ["x"], ["exp"])


def _row(text: str, term: str) -> list[str]:
    line = next(ln for ln in text.splitlines() if ln.split() and ln.split()[0] == term)
    return line.split()


def test_summary_numbers_are_the_estimate(est, panel):
    text = est.summary(digits=4)
    for term in ("x", "z"):
        cells = _row(text, term)
        coef, se, z = float(cells[1]), float(cells[2]), float(cells[3])
        assert coef == pytest.approx(est.coef[term], abs=5e-5)
        assert se == pytest.approx(est.se[term], abs=5e-5)
        assert z == pytest.approx(est.coef[term] / est.se[term], abs=5e-4)
        p = 2 * stats.norm.sf(abs(est.coef[term] / est.se[term]))
        stars = cells[-1] if cells[-1] in ("***", "**", "*", ".") else ""
        expected = "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""
        assert stars == expected, (term, p, cells)
        if p >= 1e-4:
            assert float(cells[4]) == pytest.approx(p, abs=5e-5)
    # x has a true effect of 0.4 with thousands of rows: significant at any level
    assert _row(text, "x")[-1] == "***"
    assert f"Observations: {est.nobs:,}" in text
    fe_line = next(ln for ln in text.splitlines() if ln.startswith("Fixed-effects:"))
    assert f"exp: {panel['exp'].nunique()}" in fe_line and f"imp: {panel['imp'].nunique()}" in fe_line
    assert "Clustered (pair)" in text
    assert "PPML estimation, Dep. Var.: y" in text


def test_pseudo_r2_from_the_data(est, panel):
    used = est.fitted.notna()
    y = panel.loc[used, "y"].to_numpy(float)
    mu = est.fitted[used].to_numpy(float)
    ll = float(np.sum(np.where(y > 0, y * np.log(mu), 0.0) - mu - gammaln(y + 1)))
    ll0 = float(np.sum(np.where(y > 0, y * np.log(y.mean()), 0.0) - y.mean() - gammaln(y + 1)))
    assert est.diagnostics["log_likelihood"] == pytest.approx(ll, rel=1e-10)
    assert est.diagnostics["pseudo_r2"] == pytest.approx(1 - ll / ll0, rel=1e-10)
    m = re.search(r"Pseudo R2: ([0-9.]+)", est.summary())
    assert float(m.group(1)) == pytest.approx(1 - ll / ll0, abs=5e-5)


def test_pseudo_r2_matches_pyfixest(est, panel):
    pf = pytest.importorskip("pyfixest", reason="pip install 'kaifang[pyfixest]' for this comparison")
    fit = pf.fepois("y ~ x + z | exp + imp", data=panel, vcov={"CRV1": "pair"})
    assert est.diagnostics["pseudo_r2"] == pytest.approx(fit._pseudo_r2, abs=1e-8)
    assert est.diagnostics["log_likelihood"] == pytest.approx(fit._loglik, rel=1e-8)


def test_ols_r2_from_the_data(est_ols, panel):
    used = est_ols.fitted.notna()
    y = panel.loc[used, "ln_y"].to_numpy(float)
    resid = y - est_ols.fitted[used].to_numpy(float)
    r2 = 1 - (resid**2).sum() / ((y - y.mean()) ** 2).sum()
    assert est_ols.diagnostics["r2"] == pytest.approx(r2, rel=1e-10)
    text = est_ols.summary()
    assert text.startswith("Least squares estimation, Dep. Var.: ln_y")
    assert "Heteroskedasticity-robust (HC1)" in text


def test_etable_side_by_side(est, est_ols):
    tab = etable(est, est_ols, names=["ppml", "ols"])
    assert list(tab.columns) == ["ppml", "ols"]
    assert tab.loc["Dependent Var.", "ppml"] == "y" and tab.loc["Dependent Var.", "ols"] == "ln_y"
    for col, e in (("ppml", est), ("ols", est_ols)):
        for term in e.coef.index:
            cell = tab.loc[term, col]
            value = float(re.match(r"-?[0-9.]+", cell).group(0))
            assert value == pytest.approx(e.coef[term], abs=5e-5)
            p = 2 * stats.norm.sf(abs(e.coef[term] / e.se[term]))
            expected = (
                "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""
            )
            assert cell[len(re.match(r"-?[0-9.]+", cell).group(0)) :] == expected
            se_cell = tab.loc[f"{term} s.e.", col]
            assert se_cell.startswith("(") and float(se_cell.strip("()")) == pytest.approx(
                e.se[term], abs=5e-5
            )
        assert tab.loc["Observations", col] == f"{e.nobs:,}"
    # z is not in the least-squares model: an empty cell, not a number
    assert tab.loc["z", "ols"] == "" and tab.loc["z s.e.", "ols"] == ""
    assert tab.loc["Fixed-Effects: imp", "ppml"] == "Yes" and tab.loc["Fixed-Effects: imp", "ols"] == ""
    assert tab.loc["Fixed-Effects: exp", "ols"] == "Yes"
    assert float(tab.loc["Pseudo R2", "ppml"]) == pytest.approx(est.diagnostics["pseudo_r2"], abs=5e-5)
    assert tab.loc["Pseudo R2", "ols"] == ""
    assert float(tab.loc["R2", "ols"]) == pytest.approx(est_ols.diagnostics["r2"], abs=5e-5)
    assert tab.loc["S.E. type", "ppml"] == "Clustered (pair)"
    text = tab.to_string()
    assert "ppml" in text and "Observations" in text


def test_etable_default_names_and_errors(est):
    assert list(etable(est, est).columns) == ["(1)", "(2)"]
    with pytest.raises(ValueError, match="at least one"):
        etable()
    with pytest.raises(ValueError, match="one name per estimate"):
        etable(est, names=["a", "b"])
    with pytest.raises(TypeError, match="not a PPMLEstimate"):
        etable(est, "model 2")
