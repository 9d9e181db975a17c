"""PPML/OLS estimation: synthetic recovery, published Advanced Guide tables, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from helpers import require_dataset
from kaifang.errors import DataError
from kaifang.estimate import ols, ppml
from kaifang.estimate.panel import validate_panel
from reference import published as pub


def synthetic_panel(seed: int = 0, n: int = 12, years: tuple[int, ...] = (2000, 2005)) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    a = rng.normal(0, 1, (n, len(years)))
    c = rng.normal(0, 1, (n, len(years)))
    for t, y in enumerate(years):
        for i in range(n):
            for j in range(n):
                dist = 1.0 + abs(i - j) + rng.uniform(0, 1)
                fta = float((i < 4) and (j < 4) and i != j)
                mu = np.exp(a[i, t] + c[j, t] - 0.9 * np.log(dist) + 0.4 * fta + 3.0)
                rows.append((f"C{i:02d}", f"C{j:02d}", y, rng.poisson(mu), np.log(dist), fta))
    return pd.DataFrame(rows, columns=["exporter", "importer", "year", "trade", "ln_dist", "fta"])


def test_ppml_recovers_known_coefficients_and_returns_labelled_objects():
    df = synthetic_panel()
    est = ppml(df, "trade", ["ln_dist", "fta"], ["exporter#year", "importer#year"], cluster="exporter")
    assert est["ln_dist"] == pytest.approx(-0.9, abs=0.05)
    assert est["fta"] == pytest.approx(0.4, abs=0.08)
    assert list(est.vcov.index) == ["ln_dist", "fta"] == list(est.vcov.columns)
    np.testing.assert_allclose(est.se.to_numpy(), np.sqrt(np.diag(est.vcov.to_numpy())))
    assert est.nobs == len(df)
    # fitted values are aligned with the input rows and satisfy the PPML first-order conditions
    g = df.assign(mu=est.fitted).groupby(["exporter", "year"])[["trade", "mu"]].sum()
    np.testing.assert_allclose(g["mu"], g["trade"], rtol=1e-6)
    assert set(est.fixed_effects) == {"exporter#year", "importer#year"}
    assert len(est.fixed_effects["exporter#year"]) == 24
    tab = est.table()
    assert list(tab.columns) == ["term", "estimate", "std_error", "z", "p_value", "ci_lo", "ci_hi"]
    with pytest.raises(KeyError, match="Did you mean 'fta'"):
        est["ftaa"]


def test_separated_observations_are_dropped_and_counted():
    df = synthetic_panel(1)
    zero = (df["exporter"] == "C03") & (df["importer"] != "C03") & (df["year"] == 2000)
    df.loc[zero, "trade"] = 0
    df.loc[(df["exporter"] == "C03") & (df["importer"] == "C03") & (df["year"] == 2000), "trade"] = 0
    est = ppml(df, "trade", ["ln_dist", "fta"], ["exporter#year", "importer#year"])
    assert est.diagnostics["n_dropped_separation"] == 12
    assert est.fitted[zero].isna().all()
    assert est.nobs == len(df) - 12


def test_stata_ppml_convention_only_removes_the_k_correction():
    df = synthetic_panel(2)
    a = ppml(df, "trade", ["ln_dist", "fta"], ["exporter#year", "importer#year"], cluster="exporter")
    b = ppml(
        df,
        "trade",
        ["ln_dist", "fta"],
        ["exporter#year", "importer#year"],
        cluster="exporter",
        se_convention="stata_ppml",
    )
    np.testing.assert_allclose(a.coef, b.coef)
    assert (b.se < a.se).all()


def test_missing_column_lists_available_columns():
    df = synthetic_panel()
    with pytest.raises(
        DataError, match=r"'ln_dst'.*Did you mean 'ln_dist'.*Available columns: exporter, importer, year"
    ):
        ppml(df, "trade", ["ln_dst"], ["exporter"])
    with pytest.raises(DataError, match=r"fixed effects names column.*'exporterr'"):
        ppml(df, "trade", ["ln_dist"], ["exporterr#year"])


def test_negative_and_non_numeric_trade_are_errors():
    df = synthetic_panel()
    neg = df.copy()
    neg.loc[5, "trade"] = -1.0
    with pytest.raises(DataError, match=r"negative value.*trade flows must be >= 0"):
        ppml(neg, "trade", ["ln_dist"], ["exporter"])
    txt = df.astype({"trade": object})
    txt.loc[3, "trade"] = "n/a"
    with pytest.raises(DataError, match=r"column 'trade' must be numeric.*'n/a'"):
        ppml(txt, "trade", ["ln_dist"], ["exporter"])
    with pytest.raises(DataError, match=r"column 'trade' must be numeric; found 'n/a'"):
        validate_panel(txt)


def test_duplicate_pair_year_is_an_error():
    df = synthetic_panel()
    dup = pd.concat([df, df.iloc[[7]]])
    with pytest.raises(
        DataError, match=r"share the same exporter/importer/year.*C00.*each pair-year must appear once"
    ):
        validate_panel(dup, source="my.csv")


def test_unknown_engine_lists_engines():
    with pytest.raises(DataError, match=r"unknown engine .statsmodels.*Engines: kaifang, pyfixest"):
        ppml(synthetic_panel(), "trade", ["ln_dist"], ["exporter"], engine="statsmodels")  # type: ignore[arg-type]


# --- published numbers (Advanced Guide, chapter 1) -------------------------------------------


@pytest.fixture(scope="module")
def agtpa_panel():
    require_dataset("agtpa")
    from kaifang.data.agtpa import read_agtpa

    d = read_agtpa("agtpa_applications.csv.gz")
    return d[d["year"].isin(range(1986, 2007, 4))].copy()


def test_table1_traditional_gravity_ols_fe_ppml(agtpa_panel):
    d = agtpa_panel.copy()
    d["ln_y"] = np.log(d.groupby(["exporter", "year"])["trade"].transform("sum"))
    d["ln_e"] = np.log(d.groupby(["importer", "year"])["trade"].transform("sum"))
    d = d[d["exporter"] != d["importer"]].copy()
    d["ln_trade"] = np.log(d["trade"].where(d["trade"] > 0))
    d["ln_dist"] = np.log(d["dist"])
    grav = ["ln_dist", "cntg", "lang", "clny"]
    e = ols(d, "ln_trade", ["ln_y", "ln_e", *grav], [], cluster="pair_id")
    for k, v in pub.TABLE1_OLS.items():
        assert e[k] == pytest.approx(v, abs=5e-4), k
    assert e.diagnostics["n_dropped_missing"] > 0  # zero flows drop out of the log model
    e = ols(d, "ln_trade", grav, ["exporter#year", "importer#year"], cluster="pair_id")
    for k, v in pub.TABLE1_FE.items():
        assert e[k] == pytest.approx(v, abs=5e-4), k
    e = ppml(d, "trade", grav, ["exporter#year", "importer#year"], cluster="pair_id")
    for k, v in pub.TABLE1_PPML.items():
        assert e[k] == pytest.approx(v, abs=5e-4), k


@pytest.mark.slow
def test_distance_puzzle(agtpa_panel):
    d = agtpa_panel.copy()
    d["ln_dist"] = np.log(d["dist"])
    years = list(range(1986, 2007, 4))
    intl = (d["exporter"] != d["importer"]).astype(float)
    for y in years:
        d[f"ln_dist_{y}"] = d["ln_dist"] * (d["year"] == y) * intl
    X = [f"ln_dist_{y}" for y in years]
    i = d[intl == 1].copy()
    i["ln_trade"] = np.log(i["trade"].where(i["trade"] > 0))
    e_ols = ols(
        i, "ln_trade", [*X, "cntg", "lang", "clny"], ["exporter#year", "importer#year"], cluster="pair_id"
    )
    e_ppml = ppml(
        i, "trade", [*X, "cntg", "lang", "clny"], ["exporter#year", "importer#year"], cluster="pair_id"
    )
    d["ln_dist_intra"] = d["ln_dist"] * (1 - intl)
    e_in = ppml(
        d,
        "trade",
        [*X, "cntg", "lang", "clny", "ln_dist_intra"],
        ["exporter#year", "importer#year"],
        cluster="pair_id",
    )
    assert e_ols["ln_dist_1986"] == pytest.approx(pub.DISTANCE_PUZZLE_1986["ols"], abs=5e-4)
    assert e_ppml["ln_dist_1986"] == pytest.approx(pub.DISTANCE_PUZZLE_1986["ppml"], abs=5e-4)
    assert e_in["ln_dist_1986"] == pytest.approx(pub.DISTANCE_PUZZLE_1986["ppml_internal_distance"], abs=5e-4)
    # the puzzle resolved: with internal distance the distance effect falls steadily over time
    path = [e_in[x] for x in X]
    assert all(b > a for a, b in itertools.pairwise(path))


@pytest.mark.slow
def test_rta_lags_match_the_book_with_documented_se_convention(agtpa_panel):
    from kaifang.estimate.spec import EstimationSpec, run_spec

    spec = EstimationSpec(
        dataset="agtpa",
        years=list(range(1986, 2007, 4)),
        regressors=["rta", "rta_lag4", "rta_lag8", "rta_lag12"]
        + [f"intl_border_{y}" for y in range(1986, 2006, 4)],
        fixed_effects=["exporter#year", "importer#year", "pair_id"],
        cluster="pair_id",
    )
    e = run_spec(spec, agtpa_panel)
    for k, v in pub.RTA_LAGS_COEF.items():
        assert e[k] == pytest.approx(v, abs=5e-4), k
    for k, v in pub.RTA_LAGS_SE_FIXEST.items():
        assert e.se[k] == pytest.approx(v, abs=1.5e-3), k
    assert e.diagnostics["n_dropped_separation"] == pub.NAFTA_STAGE1_EXCLUDED
    s = run_spec(spec.model_copy(update={"se_convention": "stata_ppml"}), agtpa_panel)
    ratio = (s.se / e.se)[list(pub.RTA_LAGS_COEF)]
    assert ((ratio > 0.97) & (ratio < 0.995)).all()  # about 1.5 % smaller


def test_borders_regression_matches_book_log(agtpa_panel):
    d = agtpa_panel[agtpa_panel["year"] == 2006].copy()
    d["ln_dist"] = np.log(d["dist"])
    d["intl_border"] = (d["exporter"] != d["importer"]).astype(float)
    e = ppml(d, "trade", ["ln_dist", "cntg", "intl_border"], ["exporter", "importer"], tol=1e-10)
    for k, v in pub.BORDERS_COEF.items():
        assert e[k] == pytest.approx(v, abs=1e-5), k


@pytest.mark.parametrize("se_convention", ["fixest", "stata_ppml"])
def test_default_engine_equals_pyfixest_through_the_wrapper(se_convention):
    """The own engine (default) and pyfixest give the same estimate behind ``ppml()``:
    coefficients 1e-6, clustered SEs 1e-4 (relative), same sample, same fitted values."""
    df = synthetic_panel(seed=3)
    df.loc[df.sample(frac=0.3, random_state=1).index, "trade"] = 0.0  # many zeros
    args = (df, "trade", ["ln_dist", "fta"], ["exporter#year", "importer#year"])
    own = ppml(*args, cluster="exporter", se_convention=se_convention, tol=1e-10)
    ref = ppml(*args, cluster="exporter", se_convention=se_convention, tol=1e-10, engine="pyfixest")
    assert own.diagnostics["engine"] == "kaifang" and ref.diagnostics["engine"] == "pyfixest"
    np.testing.assert_allclose(own.coef, ref.coef, rtol=1e-6)
    np.testing.assert_allclose(own.se, ref.se, rtol=1e-4)
    assert own.nobs == ref.nobs
    np.testing.assert_allclose(own.fitted, ref.fitted, rtol=1e-5)
