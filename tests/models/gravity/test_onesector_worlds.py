"""The gravity model on one-sector worlds that are not gravity panels: the 2023 world of the 2025
tariff model (liberation2025) and multi-sector worlds summed over sectors (wiod2013, demo).

Why the numbers are right:

* a zero shock changes nothing (an invariant);
* on one sector without input-output links and without tariffs, the Caliendo-Parro model with
  fixed deficits is the structural gravity model with additive imbalances and world output as
  numeraire (theta = sigma - 1): both reduce to CES demand, market clearing and the budget
  constraint ``E = Y + D``. The Caliendo-Parro world is built here from the flows its own loader
  gives, summed over sectors, and solved by its own solver -- an independent computation of the
  welfare change the gravity *runner* reports for the same data set;
* equilibrium conditions (CES demand, spending, market clearing, trade balance, the numeraire)
  recomputed from the solution's flows on the 194-economy world;
* the tariff-equivalent partial effect recomputed from the data file's announced rates and the
  tariff model's own USTR table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.cli import main
from kaifang.errors import KaifangWarning
from kaifang.models import run_scenario
from kaifang.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[3]
SC = ROOT / "scenarios"

HEAD = """
name = "t"
model = "gravity"
dataset = "{dataset}"
{baseline}
[parameters]
sigma = 5
imbalance = "{imbalance}"
normalisation = "world_output"
"""


def _text(dataset: str, shocks: str, *, year: int | None = None, imbalance: str = "additive") -> str:
    baseline = f"[baseline]\nyear = {year}" if year is not None else ""
    return HEAD.format(dataset=dataset, baseline=baseline, imbalance=imbalance) + shocks


def _flows(res, column: str) -> np.ndarray:
    """``(N, N)`` exporter x importer flows of the bilateral table, in the regions' order."""
    b = res.tables["bilateral"]
    n = len(res.regions)
    assert list(b["exporter"][::n]) == list(res.regions["region"])
    return b[column].to_numpy().reshape(n, n)


# --- (a) a zero shock changes nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "year", "shock"),
    [
        ("liberation2025", None, 'type = "tariff_equivalent"\nop = "set"\nimporter = "USA"\nvalue = 0'),
        ("wiod2013", 2011, 'type = "iceberg"\nimporter = "USA"\nexporter = "CHN"\nvalue = 0'),
        ("demo", None, 'type = "ntb"\nvalue = 0'),
    ],
    ids=["liberation2025", "wiod2013", "demo"],
)
def test_a_zero_shock_changes_nothing(dataset, year, shock):
    if dataset != "demo":
        require_dataset(dataset)
    sc = parse_scenario(_text(dataset, f"[[shocks]]\n{shock}\n", year=year), "zero.toml")
    with pytest.warns(KaifangWarning, match="changes nothing"):
        res = run_scenario(sc)
    X0 = _flows(res, "trade_baseline")
    for col in ("trade_full", "trade_conditional"):
        np.testing.assert_allclose(_flows(res, col), X0, rtol=1e-10, atol=1e-12 * X0.max())
    cols = [c for c in res.regions.columns if c.endswith("_pct") or c.endswith("_pct_conditional")]
    assert cols
    np.testing.assert_allclose(res.regions[cols].to_numpy(dtype=float), 0.0, atol=1e-8)
    assert res.diagnostics["converged"]


# --- (b) gravity GE = Caliendo-Parro collapsed to one sector, no IO, no tariffs ----------------


def _cp_one_sector(regions, flows_importer_exporter, theta):
    from kaifang.baseline import MultiSectorBaseline

    n = len(regions)
    return MultiSectorBaseline(
        regions=regions,
        sectors=("all",),
        flows=flows_importer_exporter[:, :, None],
        tariff=np.zeros((n, n, 1)),
        gamma_va=np.ones((n, 1)),
        gamma_io=np.zeros((n, 1, 1)),
        alpha=np.ones((n, 1)),
        theta=np.array([theta]),
        dataset="one sector, no input-output links",
    )


SHOCKS_B = """
[[shocks]]
type = "iceberg"
importer = "{a}"
exporter = "{b}"
value = 20
[[shocks]]
type = "ntb"
importer = "{b}"
exporter = "{a}"
value = 15
[[shocks]]
type = "tariff_equivalent"
op = "set"
importer = "{c}"
exporter = {{ except = "{c}" }}
value = 8
"""


@pytest.mark.parametrize("dataset", ["wiod2013", "demo"])
def test_gravity_runner_equals_caliendo_parro_on_one_sector_without_io(dataset):
    """Through the gravity runner on ``dataset`` (a multi-sector data set, collapsed to one sector):
    welfare equals the exact real-income change of the Caliendo-Parro model on the same flows with one
    sector, no input-output links, no tariffs and the observed deficits held fixed, to 1e-8."""
    from kaifang.models.caliendo_parro import solve
    from kaifang.models.caliendo_parro.runner import load_baseline
    from kaifang.models.caliendo_parro.solver import SolverSettings

    if dataset == "wiod2013":
        require_dataset(dataset)
        a, b, c, year = "USA", "CHN", "DEU", 2011
    else:
        a, b, c, year = "XAA", "XBB", "XCC", None
    sigma = 5.0
    res = run_scenario(parse_scenario(_text(dataset, SHOCKS_B.format(a=a, b=b, c=c), year=year), "b.toml"))

    # the Caliendo-Parro world: the flows its loader gives, summed over sectors by hand
    b0, _ = load_baseline(dataset)
    F = np.asarray(b0.flows).sum(axis=2)  # (importer, exporter)
    regions = b0.regions
    assert tuple(res.regions["region"]) == regions
    np.testing.assert_allclose(_flows(res, "trade_baseline"), F.T, rtol=1e-13)  # the same flows
    one = _cp_one_sector(regions, F, sigma - 1.0)
    n = len(regions)
    ia, ib, ic = (regions.index(r) for r in (a, b, c))
    d_hat = np.ones((n, n, 1))  # (importer, exporter)
    d_hat[ia, ib] = 1.20  # iceberg +20 %
    d_hat[ib, ia] = 1.15  # AVE 0 -> 15 %
    d_hat[ic, :] *= 1.08  # a tariff of 8 % as a trade cost, on every exporter but c itself
    d_hat[ic, ic] = 1.0
    settings = SolverSettings(tol=1e-13)
    e0 = solve(one, one.tariff, None, one.deficit, settings)  # the data is an equilibrium
    np.testing.assert_allclose(e0.real_income, 1.0, atol=1e-10)
    e = solve(one, one.tariff, d_hat, one.deficit, settings)
    welfare = 1.0 + res.regions["welfare_pct"].to_numpy() / 100.0
    np.testing.assert_allclose(welfare, e.real_income, rtol=1e-8)
    assert np.max(np.abs(e.real_income - 1.0)) > 1e-3  # the shock matters
    # and the counterfactual flows: CP's x'_{nij} are the gravity runner's X'_{ij}
    np.testing.assert_allclose(_flows(res, "trade_full"), e.flows[:, :, 0].T, rtol=1e-7, atol=1e-9 * F.max())


# --- (c) equilibrium conditions on the 194-economy world ---------------------------------------


@pytest.fixture(scope="module")
def ustr():
    require_dataset("liberation2025")
    from kaifang.scenario import load_scenario

    return run_scenario(load_scenario(SC / "liberation2025-gravity-us-tariff-equivalent.toml"))


def test_the_2023_world_is_the_tariff_models_calibration(ustr):
    """194 economies; international flows are the data file's; domestic sales are those of the world
    the ims2025 model solves from (its calibration on GDP)."""
    from kaifang.baseline.ims2025 import calibrate
    from kaifang.data.liberation2025 import load

    d = load()
    X0 = _flows(ustr, "trade_baseline")
    assert X0.shape == (194, 194) and tuple(ustr.regions["region"]) == d.regions
    off = ~np.eye(194, dtype=bool)
    np.testing.assert_array_equal(X0[off], d.trade[off])
    cal = calibrate(d.trade, d.gdp, d.regions)  # what the ims2025 runner calibrates
    np.testing.assert_allclose(np.diag(X0), np.diag(cal.X), rtol=1e-12)
    # X_ii = max(E_i - imports_i, 0) with E_i = Y_i + T_i of the calibration (docs/ims2025.md, step 3)
    assert (np.diag(X0) >= 0).all() and np.all(np.diag(X0)[np.diag(X0) > 0] > 0)
    assert sorted(ustr.diagnostics["baseline"]["no_domestic_sales"]) == ["GMB", "MHL"]
    assert ustr.provenance["world"]["year"] == 2023
    assert set(ustr.provenance["files"]) == {
        "country_labels.csv",
        "trade_cepii.csv",
        "gdp.csv",
        "tariffs.csv",
    }


def test_equilibrium_conditions_hold_on_the_194_economy_world(ustr):
    sigma = 5.0
    r = ustr.regions
    X0, Xc, Xf = (_flows(ustr, c) for c in ("trade_baseline", "trade_conditional", "trade_full"))
    B = _flows(ustr, "partial_effect")
    Y0, E0 = X0.sum(axis=1), X0.sum(axis=0)
    D0 = E0 - Y0
    # conditional GE: output and expenditure unchanged
    np.testing.assert_allclose(Xc.sum(axis=1), Y0, rtol=1e-9)
    np.testing.assert_allclose(Xc.sum(axis=0), E0, rtol=1e-9)
    # full GE, additive imbalances: output sold exactly, spending = output + the fixed deficit
    p = 1.0 + r["producer_price_pct"].to_numpy() / 100.0
    np.testing.assert_allclose(Xf.sum(axis=1), p * Y0, rtol=1e-9)
    np.testing.assert_allclose(Xf.sum(axis=0), p * Y0 + D0, rtol=1e-9, atol=1e-9 * Y0.max())
    # trade balance of the world: deficits still sum to zero, world output unchanged (numeraire)
    assert abs((Xf.sum(axis=0) - Xf.sum(axis=1)).sum()) < 1e-9 * Y0.sum()
    assert (p * Y0).sum() == pytest.approx(Y0.sum(), rel=1e-12)
    # CES demand: X'_ij = X_ij B_ij p_i^(1-sigma) E_hat_j / P_j^(1-sigma)
    P = 1.0 + r["imr_pct"].to_numpy() / 100.0
    E_hat = Xf.sum(axis=0) / E0
    pred = X0 * B * (p ** (1 - sigma))[:, None] * (E_hat / P ** (1 - sigma))[None, :]
    np.testing.assert_allclose(Xf, pred, rtol=1e-8, atol=1e-12 * X0.max())
    # welfare is real expenditure E/P
    np.testing.assert_allclose(r["welfare_pct"], 100 * (E_hat / P - 1), atol=1e-9)
    # economies without domestic sales keep none
    for c in ("GMB", "MHL"):
        k = list(r["region"]).index(c)
        assert X0[k, k] == 0 and Xf[k, k] == 0 and Xc[k, k] == 0


def test_the_tariff_equivalent_is_the_ustr_table_as_a_trade_cost(ustr):
    """B_{j,USA} = (1 + t_j)^(1-sigma) with t_j the announced rate, at least 10 % -- the ims2025
    model's own USTR table -- on US imports only."""
    from kaifang.data.liberation2025 import load
    from kaifang.models.ims2025.policy import ustr_tariffs

    d = load()
    us = d.regions.index("USA")
    t = ustr_tariffs(d.tariffs, us)  # (exporter, importer)
    B = _flows(ustr, "partial_effect")
    np.testing.assert_allclose(B, (1.0 + t) ** (1.0 - 5.0), rtol=1e-13)
    assert t[:, us].min() == 0.0 and np.sort(t[:, us])[1] == pytest.approx(0.10)
    assert ustr.diagnostics["pairs_shocked"] == 193


def test_multiplicative_imbalances_keep_each_countrys_spending_to_output_ratio():
    require_dataset("liberation2025")
    text = (SC / "liberation2025-gravity-us-tariff-equivalent.toml").read_text()
    res = run_scenario(parse_scenario(text.replace('"additive"', '"multiplicative"'), "m.toml"))
    X0, Xf = _flows(res, "trade_baseline"), _flows(res, "trade_full")
    p = 1.0 + res.regions["producer_price_pct"].to_numpy() / 100.0
    Y0, E0 = X0.sum(axis=1), X0.sum(axis=0)
    np.testing.assert_allclose(Xf.sum(axis=0) / (p * Y0), E0 / Y0, rtol=1e-9)
    np.testing.assert_allclose(res.regions["welfare_pct"], res.regions["real_gdp_pct"], atol=1e-10)


# --- (d) what needs a gravity panel is refused elsewhere, with the data sets that have one ------


def _run(tmp_path, text: str, capsys) -> tuple[int, str]:
    f = tmp_path / "s.toml"
    f.write_text(text)
    code = main(["run", str(f), "--no-save", "--no-store"])
    return code, " ".join(capsys.readouterr().err.split())


ICEBERG = '[[shocks]]\ntype = "iceberg"\nimporter = "USA"\nexporter = "CHN"\nvalue = 10\n'


def test_an_estimation_on_the_2023_world_is_refused(tmp_path, capsys):
    require_dataset("liberation2025")
    text = _text(
        "liberation2025",
        '[estimation]\nregressors = ["rta"]\nfixed_effects = ["exporter#year", "importer#year"]\n' + ICEBERG,
    )
    code, err = _run(tmp_path, text, capsys)
    assert code == 2
    assert "field 'estimation'" in err and "data set 'liberation2025'" in err
    assert "data sets with a gravity panel: agtpa, wiod44" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ('[[shocks]]\ntype = "policy"\nvariable = "rta"\nvalue = 1\ncoefficient = 0.5\n', "shocks[0].type"),
        ("", "baseline.costs"),
    ],
    ids=["policy-shock", "estimated-costs"],
)
def test_panel_only_fields_are_refused_on_a_table(tmp_path, capsys, extra, field):
    """Refused before any data is read (so the message does not depend on the data set being here)."""
    text = _text("wiod2013", extra or ICEBERG, year=2011)
    if field == "baseline.costs":
        text = text.replace("year = 2011", 'year = 2011\ncosts = "estimated"')
    code, err = _run(tmp_path, text, capsys)
    assert code == 2
    assert f"field '{field}'" in err and "data sets with a gravity panel: agtpa, wiod44" in err


@pytest.mark.parametrize("dataset", ["demo", "cp2015"])
@pytest.mark.parametrize(
    ("line", "field"),
    [('file = "flows.csv"', "file"), ('[baseline.regions]\nNORTH = ["USA", "CAN"]', "regions")],
    ids=["file", "regions"],
)
def test_table_fields_are_refused_on_a_multisector_world(tmp_path, capsys, dataset, line, field):
    """A table's [baseline] field on cp2015 or demo (built from their own files) is an error,
    not ignored."""
    if dataset == "cp2015":
        require_dataset("cp2015")
    text = HEAD.format(dataset=dataset, baseline=f"[baseline]\n{line}", imbalance="additive") + ICEBERG
    code, err = _run(tmp_path, text, capsys)
    assert code == 2
    assert f"field 'baseline.{field}'" in err and f"data set '{dataset}'" in err and "Remove the field" in err


def test_a_tariff_shock_points_to_the_tariff_equivalent(tmp_path, capsys):
    text = _text("demo", '[[shocks]]\ntype = "tariff"\nop = "set"\nvalue = 10\n')
    code, err = _run(tmp_path, text, capsys)
    assert code == 2 and "field 'shocks[0].type' has value 'tariff'" in err and "tariff_equivalent" in err


def test_a_year_the_data_set_does_not_hold_is_refused(tmp_path, capsys):
    require_dataset("liberation2025")
    code, err = _run(tmp_path, _text("liberation2025", ICEBERG, year=2024), capsys)
    assert code == 2 and "field 'baseline.year' has value 2024" in err and "holds 2023 only" in err


def test_an_unknown_table_for_a_tariff_equivalent_names_the_tables(tmp_path, capsys):
    require_dataset("liberation2025")
    shock = '[[shocks]]\ntype = "tariff_equivalent"\nop = "set"\nimporter = "USA"\nfrom_table = "ustr"\n'
    code, err = _run(tmp_path, _text("liberation2025", shock), capsys)
    assert code == 2 and "ustr2025" in err


def test_every_one_sector_data_set_is_a_gravity_data_set():
    from kaifang.data.registry import DATASETS, providers
    from kaifang.models.gravity import runner

    assert runner.WORLD_KIND == "onesector"
    assert set(runner.DATASETS) == set(DATASETS) == set(providers("onesector"))
    assert set(providers(runner.PANEL_KIND)) == {"agtpa", "wiod44"}


def test_a_users_own_table_file_relative_to_the_scenario(tmp_path):
    """``dataset = "mrio"`` with ``[baseline] file`` beside the scenario: the world is the file's
    sales summed over sectors (intermediate plus final), computed here from the arrays written."""
    from io_tables import random_table
    from kaifang.data.usertable import write_long_table
    from kaifang.scenario import load_scenario

    t = random_table(5, 3, 2)
    write_long_table(
        tmp_path / "own.csv", t.Z, t.Y, regions=t.regions, sectors=t.sectors, fd_categories=t.fd_categories
    )
    shock = '[[shocks]]\ntype = "ntb"\nimporter = "R0"\nexporter = "R1"\nvalue = 10\n'
    f = tmp_path / "s.toml"
    f.write_text(
        _text("mrio", shock).replace('dataset = "mrio"\n', 'dataset = "mrio"\n[baseline]\nfile = "own.csv"\n')
    )
    res = run_scenario(load_scenario(f))
    g, n, k = 3, 2, len(t.fd_categories)
    direct = np.asarray(t.Z).reshape(g, n, g, n).sum(axis=(1, 3)) + np.asarray(t.Y).reshape(g, n, g, k).sum(
        axis=(1, 3)
    )
    np.testing.assert_allclose(_flows(res, "trade_baseline"), direct, rtol=1e-12)
    assert res.diagnostics["converged"] and res.provenance["world"]["kind"] == "onesector"
    b = res.tables["bilateral"].query("exporter == 'R1' and importer == 'R0'")
    assert b["partial_effect"].item() == pytest.approx(1.1 ** (1 - 5.0))
