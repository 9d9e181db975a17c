"""Bad input to the PPML-HDFE engine gives clear UserInputError subclasses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaifang.errors import UserInputError
from kaifang.estimate.hdfe import ClusterError, HDFEInputError, SeparationError, ppml_hdfe, ppml_hdfe_frame
from kaifang.estimate.synthetic import gravity_panel


@pytest.fixture(scope="module")
def small():
    d = gravity_panel(2_000, n_years=4, seed=7).data
    return d


def _args(d):
    return (
        d["trade"].to_numpy(),
        d[["rta", "x1"]].to_numpy(),
        [d["exp_year"].to_numpy(), d["imp_year"].to_numpy()],
    )


def test_errors_are_user_input_errors():
    assert issubclass(HDFEInputError, UserInputError)
    assert issubclass(ClusterError, HDFEInputError)
    assert issubclass(SeparationError, HDFEInputError)


def test_non_finite_regressor_is_named(small):
    y, X, fe = _args(small)
    X = X.copy()
    X[17, 1] = np.nan
    with pytest.raises(HDFEInputError, match=r"regressor 'x1' has 1 non-finite value\(s\) \(first at row 17"):
        ppml_hdfe(y, X, fe, names=["rta", "x1"])


def test_negative_and_non_finite_y(small):
    y, X, fe = _args(small)
    with pytest.raises(HDFEInputError, match=r"y must be >= 0.*row 3"):
        ppml_hdfe(np.where(np.arange(len(y)) == 3, -1.0, y), X, fe)
    with pytest.raises(HDFEInputError, match="y has 1 non-finite"):
        ppml_hdfe(np.where(np.arange(len(y)) == 5, np.inf, y), X, fe)


def test_bad_fixed_effect_codes(small):
    y, X, fe = _args(small)
    with pytest.raises(HDFEInputError, match="fixed effect 'fe1' must hold integer codes"):
        ppml_hdfe(y, X, [fe[0], fe[1].astype(float)])
    with pytest.raises(HDFEInputError, match="negative code -1 at row 0"):
        ppml_hdfe(y, X, [fe[0], np.where(np.arange(len(y)) == 0, -1, fe[1])])
    with pytest.raises(HDFEInputError, match="must be a one-dimensional array of"):
        ppml_hdfe(y, X, [fe[0][:-1]])


def test_impossible_cluster_variables(small):
    y, X, fe = _args(small)
    with pytest.raises(ClusterError, match="must have one value per row"):
        ppml_hdfe(y, X, fe, cluster=np.zeros(10))
    with pytest.raises(ClusterError, match=r"1 distinct value.*at least 2 clusters"):
        ppml_hdfe(y, X, fe, cluster=np.zeros(len(y)))
    with pytest.raises(ClusterError, match="missing value"):
        ppml_hdfe(y, X, fe, cluster=np.full(len(y), np.nan))
    with pytest.raises(ClusterError, match="one or two variables, got 3"):
        ppml_hdfe(y, X, fe, cluster=[fe[0], fe[1], fe[0]])


def test_all_zero_groups_and_nothing_left(small):
    y, X, fe = _args(small)
    with pytest.raises(HDFEInputError, match="zero in every row"):
        ppml_hdfe(np.zeros_like(y), X, fe)
    # y positive only in rows that are alone in their exporter-year group: after the
    # fixed-effect check and singletons nothing is left
    ex = np.arange(len(y)) // 2
    yy = np.where(np.arange(len(y)) % 2 == 0, 0.0, 1.0)
    with pytest.raises(SeparationError, match="no observation is left"):
        ppml_hdfe(yy, X, [ex, np.arange(len(y))])


def test_bad_options(small):
    y, X, fe = _args(small)
    with pytest.raises(
        HDFEInputError, match=r"separation method 'simplex' is unknown; choose any of \['fe', 'relu'\]"
    ):
        ppml_hdfe(y, X, fe, separation=("fe", "simplex"))
    with pytest.raises(HDFEInputError, match="vcov='robust' is unknown"):
        ppml_hdfe(y, X, fe, vcov="robust")
    with pytest.raises(HDFEInputError, match="weights must be > 0; row 2"):
        ppml_hdfe(y, X, fe, weights=np.where(np.arange(len(y)) == 2, 0.0, 1.0))
    with pytest.raises(HDFEInputError, match="names has 1 entries but X has 2 columns"):
        ppml_hdfe(y, X, fe, names=["rta"])


def test_non_convergence_raises_convergence_error(small):
    from kaifang.errors import ConvergenceError

    y, X, fe = _args(small)
    with pytest.raises(ConvergenceError, match="did not converge in 2 iterations"):
        ppml_hdfe(y, X, fe, maxiter=2)


def test_frame_wrapper_messages_and_labels(small):
    d = small
    with pytest.raises(
        HDFEInputError, match=r"regressor column 'rtaa' is not in the data.*Did you mean 'rta'"
    ):
        ppml_hdfe_frame(d, "trade", ["rtaa"], ["exp_year"])
    with pytest.raises(ClusterError, match="cluster column 'pairr'"):
        ppml_hdfe_frame(d, "trade", ["rta"], ["exp_year"], cluster="pairr")
    dd = d.assign(ex=d["exporter"].astype(float))
    dd.loc[3, "ex"] = np.nan
    with pytest.raises(HDFEInputError, match="missing value"):
        ppml_hdfe_frame(dd, "trade", ["rta"], [("ex", "year")])
    res = ppml_hdfe_frame(
        d, "trade", ["rta", "x1"], [("exporter", "year"), ("importer", "year"), "pair"], cluster="pair"
    )
    ref = ppml_hdfe(
        d["trade"].to_numpy(),
        d[["rta", "x1"]].to_numpy(),
        [d["exp_year"].to_numpy(), d["imp_year"].to_numpy(), d["pair"].to_numpy()],
        cluster=d["pair"].to_numpy(),
    )
    np.testing.assert_allclose(res.coef.to_numpy(), ref.coef, rtol=1e-8)
    np.testing.assert_allclose(res.se.to_numpy(), ref.se, rtol=1e-6)
    assert list(res.table().columns) == ["coef", "se", "z"]
    fe0 = res.fixed_effects["exporter_year"]
    assert isinstance(fe0.index[0], tuple) and len(fe0) == d.groupby(["exporter", "year"]).ngroups
    eta = (d[["rta", "x1"]].to_numpy() @ res.coef.to_numpy()) + fe0.reindex(
        pd.MultiIndex.from_frame(d[["exporter", "year"]])
    ).to_numpy()
    eta += (
        res.fixed_effects["importer_year"]
        .reindex(pd.MultiIndex.from_frame(d[["importer", "year"]]))
        .to_numpy()
    )
    eta += res.fixed_effects["pair"].reindex(d["pair"]).to_numpy()
    np.testing.assert_allclose(eta[res.fit.sample], res.fit.eta[res.fit.sample], rtol=1e-9, atol=1e-8)
