"""Engines: pyfixest is optional; the own least squares needs no pyfixest and is right.

The own OLS is checked against an independent computation (the dense dummy-variable
regression with numpy, whose covariance is written out here) and, where pyfixest is
installed (``pip install "kaifang[pyfixest]"``, as CI does), against ``pyfixest.feols``.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from kaifang.cli import main
from kaifang.errors import DataError
from kaifang.estimate import ols, ppml
from kaifang.estimate.hdfe import ols_hdfe
from kaifang.estimate.synthetic import gravity_panel


def test_no_module_imports_pyfixest():
    code = (
        "import sys, kaifang, kaifang.estimate, kaifang.estimate.hdfe, kaifang.cli, kaifang.cli.estimate\n"
        "print('pyfixest' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def no_pyfixest(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyfixest", None)  # `import pyfixest` now raises ImportError


def test_engine_pyfixest_without_the_package_says_how_to_install(no_pyfixest):
    d = gravity_panel(2_000, n_years=4, seed=3).data
    with pytest.raises(
        DataError, match=r'engine "pyfixest" needs the pyfixest package.*pip install "kaifang\[pyfixest\]"'
    ):
        ppml(d, "trade", ["rta"], ["exp_year", "imp_year"], engine="pyfixest")
    with pytest.raises(DataError, match=r'pip install "kaifang\[pyfixest\]"'):
        ols(d.assign(ln_trade=np.log1p(d["trade"])), "ln_trade", ["rta"], ["exp_year"], engine="pyfixest")


def test_cli_engine_pyfixest_without_the_package_exits_2(no_pyfixest, tmp_path, capsys):
    d = gravity_panel(2_000, n_years=4, seed=3).data
    d.to_csv(tmp_path / "p.csv", index=False)
    f = tmp_path / "s.toml"
    f.write_text(
        'engine = "pyfixest"\nregressors = ["rta"]\nfixed_effects = ["exp_year", "imp_year"]\n'
        '[data]\nfile = "p.csv"\n'
    )
    assert main(["estimate", str(f)]) == 2
    err = capsys.readouterr().err
    assert 'pip install "kaifang[pyfixest]"' in err and "Traceback" not in err


def _ols_problem(seed: int = 5):
    rng = np.random.default_rng(seed)
    n = 600
    a = rng.integers(0, 12, n)
    b = rng.integers(0, 9, n)
    a[:12] = np.arange(12)
    b[:9] = np.arange(9)
    cl = rng.integers(0, 40, n)
    X = rng.normal(size=(n, 3))
    y = X @ np.array([0.5, -1.0, 0.25]) + 0.3 * a - 0.2 * b + rng.normal(size=n) * (1 + 0.5 * np.abs(X[:, 0]))
    w = rng.uniform(0.5, 2.0, n)
    return y, X, a, b, cl, w


def test_own_ols_equals_the_dummy_variable_regression():
    """Coefficients and robust / clustered covariances from the full dummy design, by hand."""
    y, X, a, b, cl, w = _ols_problem()
    n = len(y)
    Da = (a[:, None] == np.arange(12)).astype(float)
    Db = (b[:, None] == np.arange(1, 9)).astype(float)  # one level absorbed by the first dimension
    Z = np.column_stack([X, Da, Db])
    sw = np.sqrt(w)
    coef_full = np.linalg.lstsq(Z * sw[:, None], y * sw, rcond=None)[0]
    e = y - Z @ coef_full
    bread = np.linalg.inv(Z.T @ (Z * w[:, None]))
    scores = Z * (w * e)[:, None]
    K = Z.shape[1]  # 3 regressors + 12 + 8 fixed effects
    # HC1: N / (N - K)
    V_hc1 = n / (n - K) * bread @ (scores.T @ scores) @ bread
    # CRV1: (N - 1) / (N - K) * G / (G - 1)
    G = len(np.unique(cl))
    sums = np.zeros((cl.max() + 1, K))
    np.add.at(sums, cl, scores)
    V_crv = (n - 1) / (n - K) * G / (G - 1) * bread @ (sums.T @ sums) @ bread
    V_iid = float(w @ e**2) / (n - K) * bread

    for vc, ref in [("hetero", V_hc1), ("iid", V_iid)]:
        fit = ols_hdfe(y, X, [a, b], weights=w, vcov=vc, drop_singletons=False)
        np.testing.assert_allclose(fit.coef, coef_full[:3], rtol=1e-9)
        np.testing.assert_allclose(fit.vcov, ref[:3, :3], rtol=1e-7)
        np.testing.assert_allclose(fit.mu, Z @ coef_full, rtol=1e-9, atol=1e-9)
    fit = ols_hdfe(y, X, [a, b], weights=w, cluster=cl, drop_singletons=False)
    np.testing.assert_allclose(fit.vcov, V_crv[:3, :3], rtol=1e-7)
    assert fit.deviance == pytest.approx(float(w @ e**2), rel=1e-9)


def test_own_ols_matches_pyfixest_feols():
    pytest.importorskip(
        "pyfixest", reason='the comparison engine is an extra: pip install "kaifang[pyfixest]"'
    )
    d = gravity_panel(20_000, n_years=5, seed=9, zero_share=0.2).data
    d = d[d["trade"] > 0].assign(ln_trade=lambda t: np.log(t["trade"]))
    xs = ["rta", "ln_tariff", "x1", "x2"]
    for cluster in ("pair", None):
        own = ols(d, "ln_trade", xs, ["exp_year", "imp_year", "pair"], cluster=cluster)
        ref = ols(d, "ln_trade", xs, ["exp_year", "imp_year", "pair"], cluster=cluster, engine="pyfixest")
        assert own.nobs == ref.nobs
        np.testing.assert_allclose(own.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-6)
        np.testing.assert_allclose(own.se.to_numpy(), ref.se.to_numpy(), rtol=1e-4)
        assert own.diagnostics["engine"] == "kaifang" and ref.diagnostics["engine"] == "pyfixest"
        fitted = pd.concat([own.fitted, ref.fitted], axis=1).dropna()
        # pyfixest stops its fixed-effect solve at a relative change of 1e-8: fitted logs agree to 1e-5
        np.testing.assert_allclose(fitted.iloc[:, 0], fitted.iloc[:, 1], rtol=0, atol=1e-5)
