"""Gravity scenarios end to end: the Advanced Guide's NAFTA and borderless-world experiments, the
ge_gravity EU-enlargement example, the JSON document, uncertainty draws and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.cli import main
from kaifang.models import run_scenario
from kaifang.scenario import load_scenario, parse_scenario
from reference import published as pub
from reference.book_procedure import book_ge

ROOT = Path(__file__).resolve().parents[3]
SC = ROOT / "scenarios"
SIGMA = 7.0


def _book(result, reference="DEU", tol=0.01):
    """Run the book's procedure on the same baseline costs (ln t up to exporter/importer terms)."""
    from kaifang.data.agtpa import read_agtpa

    year = result.provenance["parameters"]["baseline_year"]
    fname = result.provenance["estimation"]["spec"]["file"]
    d = read_agtpa(fname)
    d = d[d["year"] == year][["exporter", "importer", "trade"]]
    m = d.merge(result.tables["bilateral"], on=["exporter", "importer"])
    ln_bln = np.log(m["trade_baseline"].to_numpy())
    return book_ge(
        m, ln_bln, ln_bln + np.log(m["partial_effect"].to_numpy()), sigma=SIGMA, reference=reference, tol=tol
    )


def _pct(a, b):
    return (a / b - 1.0) * 100.0


@pytest.fixture(scope="module")
def nafta():
    require_dataset("agtpa")
    res = run_scenario(load_scenario(SC / "agtpa-remove-nafta.toml"))
    return res, _book(res)


@pytest.fixture(scope="module")
def borders():
    require_dataset("agtpa")
    res = run_scenario(load_scenario(SC / "agtpa-no-borders.toml"))
    return res, _book(res)


@pytest.mark.slow
def test_nafta_estimation_matches_the_book_log(nafta):
    res, _ = nafta
    est = res.provenance["estimation"]["coefficients"]
    assert est["rta"] == pytest.approx(pub.NAFTA_STAGE1_RTA, abs=1e-5)
    d = res.diagnostics
    assert d["estimation"]["nobs"] == pub.NAFTA_STAGE1_NOBS
    assert d["estimation"]["n_dropped_separation"] == pub.NAFTA_STAGE1_EXCLUDED
    assert d["estimation"]["deviance"] == pytest.approx(pub.NAFTA_STAGE1_DEVIANCE, rel=1e-6)
    assert d["baseline"]["pairs_predicted"] == pub.NAFTA_PAIRS_PREDICTED
    for k, v in pub.NAFTA_STAGE2_COEF.items():
        assert d["baseline"]["fill_coefficients"][k] == pytest.approx(v, abs=1e-4), k
    assert d["pairs_shocked"] == 6


@pytest.mark.slow
def test_nafta_conditional_ge_equals_the_books_constrained_ppml(nafta):
    res, (book, _) = nafta
    r = res.regions.set_index("region")
    np.testing.assert_allclose(
        r["exports_pct_conditional"], _pct(book["Xi_CDL"], book["Xi_BLN"]).reindex(r.index), atol=1e-3
    )
    inv = 1 / (1 - SIGMA)
    book_imr = _pct(book["IMR_CDL"] ** inv, book["IMR_BLN"] ** inv).reindex(r.index)
    book_omr = _pct(book["OMR_CDL"] ** inv, book["OMR_BLN"] ** inv).reindex(r.index)
    np.testing.assert_allclose(r["imr_pct_conditional"], book_imr, atol=1e-4)
    np.testing.assert_allclose(r["omr_pct_conditional"], book_omr, atol=1e-4)


@pytest.mark.slow
def test_nafta_book_loop_reproduces_the_published_iteration_log(nafta):
    """The book's full-endowment loop on kaifang's baseline prints the same statistics as its log."""
    _, (book, rounds) = nafta
    assert rounds == 3
    for got, want in zip(book.attrs["history"], pub.NAFTA_LOOP_HISTORY, strict=True):
        for k in ("mean", "sd", "min", "max"):
            assert got[k] == pytest.approx(want[k], abs=2e-6), k


@pytest.mark.slow
def test_nafta_full_endowment_vs_book_loop_within_documented_difference(nafta):
    """kaifang solves to 1e-12; the book stops when prices move < 0.01 between rounds."""
    res, (book, _) = nafta
    r = res.regions.set_index("region")
    inv = 1 / (1 - SIGMA)
    rgdp = _pct(book["Y_FULL"] / book["IMR_FULL"] ** inv, book["Y_BLN"] / book["IMR_BLN"] ** inv).reindex(
        r.index
    )
    price = ((book["change_pricei_FULL"] - 1) * 100).reindex(r.index)
    exports = _pct(book["Xi_FULL"], book["Xi_BLN"]).reindex(r.index)
    assert np.max(np.abs(r["real_gdp_pct"] - rgdp)) < 0.05
    assert np.max(np.abs(r["producer_price_pct"] - price)) < 0.15
    assert np.max(np.abs(r["exports_pct"] - exports)) < 0.5
    # the direction and ranking of the book's headline effects are the same
    for c in ("CAN", "MEX", "USA"):
        assert r.loc[c, "real_gdp_pct"] < 0 and rgdp[c] < 0
        assert r.loc[c, "exports_pct"] < -10


@pytest.mark.slow
def test_borders_estimation_and_conditional_ge_match_the_book(borders):
    res, (book, _) = borders
    for k, v in pub.BORDERS_COEF.items():
        assert res.provenance["estimation"]["coefficients"][k] == pytest.approx(v, abs=1e-5), k
    r = res.regions.set_index("region")
    np.testing.assert_allclose(
        r["exports_pct_conditional"],
        _pct(book["Xi_CDL"], book["Xi_BLN"]).reindex(r.index),
        rtol=1e-5,
        atol=1e-3,
    )
    # full endowment: a larger shock, so the book's early stop matters more (documented bound)
    inv = 1 / (1 - SIGMA)
    rgdp = _pct(book["Y_FULL"] / book["IMR_FULL"] ** inv, book["Y_BLN"] / book["IMR_BLN"] ** inv).reindex(
        r.index
    )
    assert np.max(np.abs(r["real_gdp_pct"] - rgdp)) < 1.0
    assert (r["real_gdp_pct"] > 0).all()  # everyone gains from removing borders


@pytest.mark.slow
def test_full_endowment_is_an_equilibrium(nafta, borders):
    """Independent of the book: kaifang's full-endowment flows satisfy the model's equations."""
    for res, _ in (nafta, borders):
        b = res.tables["bilateral"]
        n = int(np.sqrt(len(b)))
        X0 = b["trade_baseline"].to_numpy().reshape(n, n)
        X1 = b["trade_full"].to_numpy().reshape(n, n)
        r = res.regions
        p = 1 + r["producer_price_pct"].to_numpy() / 100
        E0, Y0 = X0.sum(0), X0.sum(1)
        np.testing.assert_allclose(X1.sum(0) / (p * Y0), E0 / Y0, rtol=1e-8)  # E/Y fixed (multiplicative)
        assert res.diagnostics["market_clearing_gap"] < 0.01
        assert r.loc[r["region"] == "DEU", "imr_pct"].abs().item() < 1e-9  # DEU is the numeraire


def test_json_document_of_a_gravity_run(tmp_path, capsys):
    require_dataset("wiod44")
    text = (SC / "eu-enlargement.toml").read_text().replace("draws = 1000", "draws = 50")
    f = tmp_path / "eu.toml"
    f.write_text(text)
    assert main(["run", str(f), "--json", "--no-save"]) == 0
    doc = json.loads(capsys.readouterr().out)
    row = doc["regions"][0]
    for col in ("exports_pct", "output_pct", "producer_price_pct", "imr_pct", "omr_pct", "welfare_pct"):
        assert col in row and f"{col}_conditional" in row and f"{col}_lo" in row and f"{col}_hi" in row
    for k in ("converged", "iterations", "residual", "solve_seconds"):
        assert k in doc["diagnostics"]
    prov = doc["provenance"]
    for k in (
        "dataset",
        "files",
        "scenario_sha256",
        "scenario_text",
        "parameters",
        "solver",
        "kaifang_version",
    ):
        assert k in prov
    assert prov["files"] == {
        "GE_gravity_example_data.dta": pytest.approx(prov["files"]["GE_gravity_example_data.dta"])
    }


@pytest.fixture(scope="module")
def eu():
    require_dataset("wiod44")
    text = (SC / "eu-enlargement.toml").read_text().replace("draws = 1000", "draws = 200")
    return run_scenario(parse_scenario(text, "eu.toml")), text


def test_eu_enlargement_partial_effect_matches_ge_gravity_help(eu):
    res, _ = eu
    assert res.provenance["estimation"]["coefficients"]["eu_enlargement"] == pytest.approx(
        pub.EU_ENLARGEMENT_COEF, abs=5e-4
    )
    assert res.diagnostics["estimation"]["n_clusters"] == 44 * 43


def test_eu_enlargement_ge_pattern_as_described_by_ge_gravity(eu):
    """ge_gravity help: new members gain most, old members gain, outsiders lose, Russia most."""
    res, _ = eu
    r = res.regions.set_index("region")
    # the help lists twelve; Cyprus (2004) is a new member in the data as well
    new = ["BGR", "HRV", "CZE", "EST", "HUN", "LVA", "LTU", "MLT", "POL", "ROU", "SVK", "SVN", "CYP"]
    outsiders = ["CHN", "TWN", "KOR", "JPN", "IND", "IDN", "RUS", "BRA", "MEX", "USA", "CAN", "TUR", "ROW"]
    w = r["welfare_pct"]
    assert w[new].min() > w.drop(new).max()
    assert (w[outsiders] < 0).all()
    assert w.idxmin() == "RUS"
    assert abs(res.diagnostics["world_output_change_pct"]) < 1e-10  # world output held fixed


def test_welfare_pct_is_real_expenditure_recomputed_from_the_flows(eu):
    """welfare_pct = 100 (E-hat / P-hat - 1): expenditure from the full-equilibrium flows into each
    importer, the CES price index P-hat_j = [sum_i lambda_ij B_ij p-hat_i^(1-sigma)]^(1/(1-sigma))
    from the baseline shares, the partial effects and the producer prices (Yotov et al. 2016,
    ch. 2); and the run says what it measures."""
    res, _ = eu
    bil = res.tables["bilateral"]
    regions = list(res.regions["region"])
    n = len(regions)
    x0 = (
        bil.pivot(index="exporter", columns="importer", values="trade_baseline")
        .loc[regions, regions]
        .to_numpy()
    )
    x1 = bil.pivot(index="exporter", columns="importer", values="trade_full").loc[regions, regions].to_numpy()
    bb = (
        bil.pivot(index="exporter", columns="importer", values="partial_effect")
        .loc[regions, regions]
        .to_numpy()
    )
    assert x0.shape == (n, n)
    sigma = res.provenance["parameters"]["sigma"]
    p_hat = 1 + res.regions["producer_price_pct"].to_numpy() / 100
    lam = x0 / x0.sum(axis=0, keepdims=True)
    price = ((lam * bb * (p_hat ** (1 - sigma))[:, None]).sum(axis=0)) ** (1 / (1 - sigma))
    e_hat = x1.sum(axis=0) / x0.sum(axis=0)
    np.testing.assert_allclose(res.regions["welfare_pct"], 100 * (e_hat / price - 1), rtol=1e-7, atol=1e-8)
    assert "exact change in real expenditure" in res.diagnostics["welfare_measure"]


def test_uncertainty_draws_are_seeded_and_bracket_the_point(eu):
    res, text = eu
    r = res.regions
    for c in ("welfare_pct", "exports_pct_conditional"):
        assert (r[f"{c}_lo"] <= r[c] + 1e-12).all() and (r[c] <= r[f"{c}_hi"] + 1e-12).all()
    again = run_scenario(parse_scenario(text, "eu.toml"))
    np.testing.assert_array_equal(again.regions["welfare_pct_lo"], r["welfare_pct_lo"])
    other = run_scenario(parse_scenario(text.replace("seed = 1", "seed = 2"), "eu.toml"))
    assert not np.array_equal(other.regions["welfare_pct_lo"], r["welfare_pct_lo"])


def test_eu_enlargement_multiplicative_variant_runs():
    require_dataset("wiod44")
    text = (SC / "eu-enlargement-multiplicative.toml").read_text().replace("draws = 1000", "draws = 0")
    res = run_scenario(parse_scenario(text, "eu-mult.toml"))
    assert res.provenance["parameters"]["imbalance"] == "multiplicative"
    r = res.regions.set_index("region")
    np.testing.assert_allclose(
        r["welfare_pct"], r["real_gdp_pct"], atol=1e-12
    )  # E/Y fixed: welfare = real GDP


# --- bad input: clear message, exit code 2 ------------------------------------------------------

BASE = """
name = "t"
model = "gravity"
dataset = "wiod44"
[baseline]
year = 2000
[parameters]
theta = 4
reference = "DEU"
"""


def _run(tmp_path, text: str, capsys) -> tuple[int, str]:
    f = tmp_path / "s.toml"
    f.write_text(text)
    code = main(["run", str(f), "--no-save"])
    return code, capsys.readouterr().err


def test_shock_naming_a_missing_estimate_exits_2(tmp_path, capsys):
    require_dataset("wiod44")
    text = (
        BASE
        + """
[estimation]
regressors = ["eu_enlargement", "other_fta"]
fixed_effects = ["exporter#year", "importer#year", "exporter#importer"]
international_only = true
[[shocks]]
type = "policy"
variable = "eu_enlargement"
from_year = 2014
coefficient = "eu_enlargment"
"""
    )
    code, err = _run(tmp_path, text, capsys)
    assert code == 2
    assert "names the estimate 'eu_enlargment', which does not exist" in err and "eu_enlargement" in err


def test_shock_size_from_estimate_without_estimation_exits_2(tmp_path, capsys):
    require_dataset("wiod44")
    text = (
        BASE
        + '[[shocks]]\ntype = "policy"\nvariable = "fta"\nvalue = 1\nexporter = "DEU"\nimporter = "FRA"\n'
    )
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "has no 'estimation' section" in err


def test_misspelled_shock_variable_lists_columns(tmp_path, capsys):
    require_dataset("wiod44")
    text = BASE + '[[shocks]]\ntype = "policy"\nvariable = "eu_enlargemnt"\nvalue = 1\ncoefficient = 0.2\n'
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "Did you mean 'eu_enlargement'" in err and "Columns of wiod44" in err


def test_numeric_shock_runs_without_estimation(tmp_path, capsys):
    require_dataset("wiod44")
    text = (
        BASE
        + '[[shocks]]\ntype = "policy"\nvariable = "fta"\nvalue = 1\ncoefficient = 0.3\nexporter = "CHN"\nimporter = "USA"\n'
    )
    res = run_scenario(parse_scenario(text, "t.toml"))
    assert res.diagnostics["pairs_shocked"] == 1
    assert res.tables["bilateral"].query("exporter == 'CHN' and importer == 'USA'")[
        "partial_effect"
    ].item() == pytest.approx(np.exp(0.3))


def test_iceberg_shock_from_the_shared_language(tmp_path):
    require_dataset("wiod44")
    text = BASE + '[[shocks]]\ntype = "iceberg"\nvalue = -10\nexporter = "DEU"\nimporter = "FRA"\n'
    res = run_scenario(parse_scenario(text, "t.toml"))
    b = res.tables["bilateral"].query("exporter == 'DEU' and importer == 'FRA'")
    assert b["partial_effect"].item() == pytest.approx(0.9 ** (1 - 5.0))  # (t'/t)^(1-sigma), theta = 4


def test_missing_domestic_flows_exit_2(tmp_path, capsys, monkeypatch):
    """Every registered data set has domestic flows; drop one to check the message."""
    require_dataset("wiod44")
    from kaifang.estimate import spec as spec_mod

    real = spec_mod.read_dataset

    def without_one_domestic_flow(*a, **k):
        d = real(*a, **k)
        return d[~((d["exporter"] == "FRA") & (d["importer"] == "FRA"))]

    monkeypatch.setattr(spec_mod, "read_dataset", without_one_domestic_flow)
    code, err = _run(tmp_path, BASE + '[[shocks]]\ntype = "iceberg"\nvalue = -10\n', capsys)
    assert code == 2 and "the domestic flow FRA->FRA (trade) is missing" in err and "square data set" in err


def test_non_convergence_exits_2(tmp_path, capsys):
    require_dataset("wiod44")
    text = BASE + '[solver]\nmaxiter = 2\n[[shocks]]\ntype = "iceberg"\nvalue = -30\nexporter = "DEU"\n'
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "did not converge in 2 iterations" in err


def test_bad_parameters_exit_2(tmp_path, capsys):
    require_dataset("wiod44")
    text = BASE.replace("theta = 4", "theta = 4\nsigma = 5") + '[[shocks]]\ntype = "iceberg"\nvalue = -10\n'
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "exactly one of 'sigma'" in err
    text = (
        BASE.replace('reference = "DEU"', 'reference = "DEX"') + '[[shocks]]\ntype = "iceberg"\nvalue = -10\n'
    )
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "unknown region 'DEX'" in err


@pytest.mark.parametrize(
    ("corrupt", "message"),
    [
        (lambda d: d.assign(trade=d["trade"].where(d.index != d.index[5], -1.0)), "negative value"),
        (
            lambda d: d.astype({"trade": object}).assign(
                trade=lambda x: x["trade"].where(x.index != x.index[3], "n/a")
            ),
            "must be numeric",
        ),
        (lambda d: __import__("pandas").concat([d, d.iloc[[10]]]), "each pair-year must appear once"),
        (lambda d: d.rename(columns={"trade": "flows"}), "names column(s) not in the data: 'trade'"),
    ],
    ids=["negative", "non-numeric", "duplicate", "missing-column"],
)
def test_bad_trade_data_exits_2(tmp_path, capsys, monkeypatch, corrupt, message):
    require_dataset("wiod44")
    from kaifang.estimate import spec as spec_mod

    real = spec_mod.read_dataset
    monkeypatch.setattr(spec_mod, "read_dataset", lambda *a, **k: corrupt(real(*a, **k)))
    code, err = _run(tmp_path, BASE + '[[shocks]]\ntype = "iceberg"\nvalue = -10\n', capsys)
    assert code == 2 and message in err


def test_estimated_costs_need_an_estimation_section(tmp_path, capsys):
    require_dataset("wiod44")
    text = (
        BASE.replace("year = 2000", 'year = 2000\ncosts = "estimated"')
        + '[[shocks]]\ntype = "iceberg"\nvalue = -10\n'
    )
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "'baseline.costs' is 'estimated' but the scenario has no 'estimation' section" in err


def test_draws_need_a_shock_sized_by_an_estimate(tmp_path, capsys):
    require_dataset("wiod44")
    text = BASE + '[output]\ndraws = 10\n[[shocks]]\ntype = "iceberg"\nvalue = -10\n'
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "'output.draws' needs at least one shock whose size comes from an estimate" in err


@pytest.mark.data
def test_progress_messages_reach_the_caller_during_estimation():
    """A run with an [estimation] section reports reading, estimating and solving to the
    caller's progress callback (the command line prints them while it works)."""
    require_dataset("agtpa")
    seen: list[str] = []
    run_scenario(load_scenario(SC / "agtpa-remove-nafta.toml"), progress=seen.append)
    assert seen[:2] == ["reading data set agtpa", "estimating the gravity equation (PPML)"]
    # the estimation's own step (rows, engine) comes through the same callback, before the solve
    assert any(m.startswith("estimating (PPML, 28,566 rows") for m in seen[2:-1])
    assert seen[-1] == "solving the general equilibrium"
