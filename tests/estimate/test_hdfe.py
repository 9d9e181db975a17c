"""kaifang's PPML-HDFE engine against pyfixest and against published numbers.

References and tolerances:
* pyfixest 0.60 ``fepois`` (itself validated against R fixest) on the same sample:
  coefficients to 1e-6 relative, standard errors to 1e-4 relative (one-way and two-way
  clustered, heteroskedasticity-robust, iid), run with a tight IRLS tolerance.
* Yotov, Piermartini, Monteiro and Larch (2016), *An Advanced Guide to Trade Policy
  Analysis*, ch. 1, application "RTA effects" with globalisation (international border x year
  dummies): RTA 0.116, RTA(t-4) 0.288, RTA(t-8) 0.069, RTA(t-12) 0.002, to the 3 printed
  decimals.
* The synthetic panels' true coefficients (PPML is consistent; checked within 4 standard errors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers import require_dataset
from kaifang.estimate.hdfe import ppml_hdfe
from kaifang.estimate.synthetic import gravity_panel

pf = pytest.importorskip("pyfixest")

XS = ["rta", "ln_tariff", "x1", "x2"]
FES = ["exp_year", "imp_year", "pair"]


def _pyfixest(data, xs, fes, vcov, **kw):
    fml = "trade ~ " + " + ".join(xs) + (" | " + " + ".join(fes) if fes else "")
    return pf.fepois(fml, data=data, vcov=vcov, iwls_tol=1e-10, fixef_tol=1e-10, **kw)


def _ours(data, xs, fes, **kw):
    return ppml_hdfe(
        data["trade"].to_numpy(),
        data[xs].to_numpy(),
        [data[f].to_numpy() for f in fes],
        names=xs,
        fe_names=fes,
        tol=1e-10,
        **kw,
    )


def _assert_same(fit, model, xs, se_rtol=1e-4):
    coef = model.coef()[xs].to_numpy()
    se = model.se()[xs].to_numpy()
    np.testing.assert_allclose(fit.coef, coef, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(fit.se, se, rtol=se_rtol)
    assert fit.n_obs == model._N


@pytest.fixture(scope="module")
def panel():
    return gravity_panel(6_000, n_years=6, seed=11).data


@pytest.fixture(scope="module")
def panel_zeros():
    return gravity_panel(6_000, n_years=6, seed=12, zero_share=0.5).data


def test_clustered_by_pair_matches_pyfixest(panel):
    fit = _ours(panel, XS, FES, cluster=panel["pair"].to_numpy())
    m = _pyfixest(panel, XS, FES, {"CRV1": "pair"})
    _assert_same(fit, m, XS)
    assert fit.vcov_type == "cluster" and fit.converged


def test_many_zeros_two_way_clustering_matches_pyfixest(panel_zeros):
    d = panel_zeros
    fit = _ours(d, XS, FES, cluster=[d["exporter"].to_numpy(), d["importer"].to_numpy()], separation=("fe",))
    m = _pyfixest(d[fit.sample], XS, FES, {"CRV1": "exporter+importer"})
    _assert_same(fit, m, XS)
    assert (d["trade"] == 0).mean() > 0.45


def test_hetero_and_iid_with_two_fixed_effects(panel):
    fes = ["exp_year", "imp_year"]
    xs = [*XS, "ln_dist"]
    _assert_same(_ours(panel, xs, fes, vcov="hetero"), _pyfixest(panel, xs, fes, "hetero"), xs)
    _assert_same(_ours(panel, xs, fes, vcov="iid"), _pyfixest(panel, xs, fes, "iid"), xs)


def test_weights_and_offset_match_pyfixest(panel):
    d = panel.copy()
    rng = np.random.default_rng(5)
    d["w"] = rng.uniform(0.5, 2.0, len(d))
    d["off"] = rng.normal(0, 0.3, len(d))
    fit = _ours(
        d, XS, FES, weights=d["w"].to_numpy(), offset=d["off"].to_numpy(), cluster=d["pair"].to_numpy()
    )
    m = _pyfixest(d, XS, FES, {"CRV1": "pair"}, weights="w", offset="off")
    _assert_same(fit, m, XS)


def test_fitted_values_and_fixed_effects_reproduce_the_linear_predictor(panel):
    fit = _ours(panel, XS, FES, cluster=panel["pair"].to_numpy())
    eta = panel[XS].to_numpy() @ fit.coef
    for d, name in enumerate(FES):
        eta = eta + fit.fixed_effects[d][panel[name].to_numpy()]
    np.testing.assert_allclose(eta, fit.eta, rtol=1e-10, atol=1e-8)
    np.testing.assert_allclose(np.exp(fit.eta), fit.mu, rtol=1e-12)
    # first-order conditions of the Poisson likelihood: X'(y - mu) = 0 and D'(y - mu) = 0
    resid = panel["trade"].to_numpy() - fit.mu
    scale = panel["trade"].sum()
    assert np.abs(panel[XS].to_numpy().T @ resid).max() < 1e-6 * scale
    group_sums = np.bincount(panel["exp_year"].to_numpy(), weights=resid)
    assert np.abs(group_sums).max() < 1e-6 * scale


def test_recovers_true_coefficients_on_a_large_panel():
    p = gravity_panel(60_000, n_years=10, seed=3, zero_share=0.3, dispersion=0.2)
    d = p.data
    fit = _ours(d, XS, FES, cluster=d["pair"].to_numpy())
    for j, name in enumerate(XS):
        assert abs(fit.coef[j] - p.coef[name]) < 4 * fit.se[j], name


def test_default_tolerances_match_pyfixest_on_a_real_data_like_panel():
    """The agtpa profile (spread of country sizes as in real data, small-flow zeros) with the
    engine's default tolerances: quasi-Newton steps must still end on pyfixest's estimate."""
    d = gravity_panel(20_000, n_years=8, seed=21, zero_share=0.3, profile="agtpa").data
    fit = ppml_hdfe(
        d["trade"].to_numpy(), d[XS].to_numpy(), [d[f].to_numpy() for f in FES], cluster=d["pair"].to_numpy()
    )
    m = _pyfixest(d, XS, FES, {"CRV1": "pair"}, separation_check=["fe"])
    _assert_same(fit, m, XS)
    assert fit.dropped["separated_fe"] > 0  # small pairs with only zeros
    assert fit.diagnostics["start"] == "poisson_fe"


def test_many_regressors_and_four_fixed_effects_match_pyfixest(panel):
    """Nine regressors (ten columns: wider than the unrolled sweep kernels) and a fourth
    fixed-effect dimension take the general loops; they must give the same answer."""
    d = panel.copy()
    d["x1sq"] = d["x1"] ** 2
    d["x2sq"] = d["x2"] ** 2
    d["x1x2"] = d["x1"] * d["x2"]
    d["rta_x1"] = d["rta"] * d["x1"]
    d["tariff_sq"] = d["ln_tariff"] ** 2
    xs = [*XS, "x1sq", "x2sq", "x1x2", "rta_x1", "tariff_sq"]
    d["grp"] = np.random.default_rng(5).integers(0, 25, len(d))
    for fes in (FES, [*FES, "grp"]):
        fit = _ours(d, xs, fes, cluster=d["pair"].to_numpy())
        m = _pyfixest(d, xs, fes, {"CRV1": "pair"})
        _assert_same(fit, m, xs)


def test_poisson_fixed_effect_start_fits_the_group_totals():
    """The IRLS start is the fixed-effects-only Poisson fit: its group totals of mu equal those
    of y (the fixed effects' first-order conditions) up to the start's loose tolerance."""
    from kaifang.estimate.hdfe._demean import FEStructure, poisson_fe_start

    d = gravity_panel(20_000, n_years=8, seed=22, profile="agtpa").data
    y = d["trade"].to_numpy()
    fe = FEStructure.from_codes([d[f].to_numpy() for f in FES])
    a = poisson_fe_start(fe, y, np.ones(y.size), np.zeros(y.size))
    mu = np.exp(sum(a[fe.cg[k].astype(np.int64)] for k in range(3)))
    for k, name in enumerate(FES):
        codes = d[name].to_numpy()
        ratio = np.bincount(codes, weights=mu) / np.bincount(codes, weights=y)
        assert np.abs(ratio - 1.0).max() < 1e-2, name
    # a group whose y is all zero has no finite effect: no start then
    y0 = y.copy()
    y0[d["pair"].to_numpy() == 0] = 0.0
    assert poisson_fe_start(fe, y0, np.ones(y.size), np.zeros(y.size)) is None


def test_dense_cluster_codes_keep_the_partition():
    from kaifang.estimate.hdfe._vcov import dense_codes

    rng = np.random.default_rng(0)
    for a in (
        rng.integers(-5, 50, 1_000),
        rng.integers(0, 10**12, 1_000),
        rng.choice(["a", "b", "c"], 1_000),
    ):
        codes, g = dense_codes(a)
        assert g == len(np.unique(a)) and codes.max() == g - 1
        # same value <=> same code
        pairs = {(v, c) for v, c in zip(a.tolist(), codes.tolist(), strict=True)}
        assert len(pairs) == g


def test_collinear_regressor_is_named_and_dropped(panel):
    d = panel.copy()
    d["rta2"] = 2.0 * d["rta"] - d["x1"]  # linear combination of two regressors
    d["exp_size"] = d["exp_year"] % 7  # constant within exporter-year: absorbed by the FE
    xs = [*XS, "rta2", "exp_size"]
    fit = _ours(d, xs, FES)
    assert fit.collinear == ("rta2", "exp_size")
    assert np.isnan(fit.coef[4:]).all() and np.isnan(fit.se[4:]).all()
    ref = _ours(d, XS, FES)
    np.testing.assert_allclose(fit.coef[:4], ref.coef, rtol=1e-10)


def _agtpa():
    require_dataset("agtpa")
    from kaifang.data import locate

    d = pd.read_csv(locate("agtpa", "agtpa_applications.csv.gz"))
    d = d[d["year"].isin(range(1986, 2007, 4))].copy()
    d["exp_year"] = pd.factorize(d["exporter"] + d["year"].astype(str))[0]
    d["imp_year"] = pd.factorize(d["importer"] + d["year"].astype(str))[0]
    # the book pools the domestic pairs into one pair effect (as the tradepolicy R package)
    d["pair"] = pd.factorize(np.where(d["exporter"] == d["importer"], -1, d["pair_id"]))[0]
    for y in sorted(d["year"].unique()):
        d[f"brdr_{y}"] = ((d["exporter"] != d["importer"]) & (d["year"] == y)).astype(float)
    return d


RTA = ["rta", "rta_lag4", "rta_lag8", "rta_lag12"]


@pytest.mark.data
def test_agtpa_rta_lags_match_pyfixest():
    d = _agtpa()
    fit = _ours(d, RTA, FES, cluster=d["pair"].to_numpy())
    m = _pyfixest(d, RTA, FES, {"CRV1": "pair"}, separation_check=["fe"])
    _assert_same(fit, m, RTA)
    assert fit.dropped["separated_fe"] == len(d) - m._N


@pytest.mark.data
def test_agtpa_globalisation_reproduces_the_book():
    d = _agtpa()
    brdr = [c for c in d.columns if c.startswith("brdr_")]
    fit = _ours(d, RTA + brdr, FES, cluster=d["pair"].to_numpy())
    # one border-year dummy is collinear with the pair effects; the last one is dropped
    assert fit.collinear == ("brdr_2006",)
    book = {"rta": 0.116, "rta_lag4": 0.288, "rta_lag8": 0.069, "rta_lag12": 0.002}
    for j, name in enumerate(RTA):
        assert fit.coef[j] == pytest.approx(book[name], abs=5e-4), name


@pytest.mark.data
def test_agtpa_distance_puzzle_without_pair_effects_matches_pyfixest():
    d = _agtpa()
    d = d[d["exporter"] != d["importer"]].copy()
    d["ln_dist"] = np.log(d["dist"])
    xs = ["ln_dist", "cntg", "lang", "clny"]
    fit = _ours(d, xs, ["exp_year", "imp_year"], cluster=d["pair"].to_numpy())
    m = _pyfixest(d, xs, ["exp_year", "imp_year"], {"CRV1": "pair"})
    _assert_same(fit, m, xs)
