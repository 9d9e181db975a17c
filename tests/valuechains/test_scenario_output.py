"""``[output] value_chains = true`` in a Caliendo–Parro scenario: the tables in the result, its
JSON document, the saved results, the results store and ``kaifang run --json``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kaifang.cli import main
from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.models import run_scenario
from kaifang.scenario import parse_scenario

DEMO = """
name = "demo-war-chains"
model = "caliendo_parro"
dataset = "demo"
[output]
value_chains = true
[[shocks]]
type = "tariff"
op = "add"
importer = "XAA"
exporter = "XBB"
value = 25
mirror = true
"""

ZERO = DEMO.replace("value = 25", "value = 0")
TABLES = ("value_chains", "value_chains_sectors", "value_added_origin")


@pytest.fixture(scope="module")
def demo_result():
    return run_scenario(parse_scenario(DEMO))


def test_value_chain_tables_are_in_the_result(demo_result):
    res = demo_result
    assert set(TABLES) <= set(res.tables)
    v = res.tables["value_chains"]
    assert list(v.columns[:2]) == ["region", "stage"] and len(v) == 5 * 3
    w = v.drop(columns="no_trade").set_index(["region", "stage"])
    for r in ("XAA", "XBB", "XCC"):
        np.testing.assert_allclose(
            w.loc[(r, "change")].to_numpy(),
            w.loc[(r, "counterfactual")].to_numpy() - w.loc[(r, "baseline")].to_numpy(),
            atol=1e-12,
        )
    # a 25-point tariff war between XAA and XBB cuts their gross exports
    assert w.loc[("XAA", "change"), "gross_exports"] < 0 and w.loc[("XBB", "change"), "gross_exports"] < 0
    o = res.tables["value_added_origin"]
    shares = o.groupby("exporter", observed=True)[["baseline_share", "counterfactual_share"]].sum()
    np.testing.assert_allclose(shares.to_numpy(), 1.0, rtol=1e-10)  # origins add up to exports
    assert res.diagnostics["value_chains"]["focus"] == ["XAA", "XBB"]
    # the non-traded service exports nothing: its shares are empty and flagged as no-trade cells
    sec = res.tables["value_chains_sectors"]
    services = sec[sec["sector"] == "Services"]
    assert services["no_trade"].all() and services["vax_ratio"].isna().all()
    assert not sec.loc[sec["sector"] != "Services", "no_trade"].any()
    assert not res.tables["value_chains"]["no_trade"].any()


def test_zero_shock_changes_no_value_chain_indicator():
    with pytest.warns(KaifangWarning, match="changes nothing"):
        res = run_scenario(parse_scenario(ZERO))
    for name in ("value_chains", "value_chains_sectors"):
        df = res.tables[name]
        change = df[df["stage"] == "change"].select_dtypes("number").fillna(0.0)
        base = df[df["stage"] == "baseline"].select_dtypes("number").abs().max().clip(lower=1.0)
        assert (change.abs() <= 1e-7 * base).all().all(), name
    assert res.tables["value_added_origin"]["change_share"].abs().max() < 1e-9


def test_json_document_carries_the_tables(demo_result):
    doc = json.loads(demo_result.to_json())
    assert set(doc["value_chains"]) == set(TABLES)
    rows = doc["value_chains"]["value_chains"]
    assert {"region", "stage", "vax_ratio", "gvc_participation"} <= set(rows[0])
    assert len(doc["value_chains"]["value_added_origin"]) == 25


def test_off_by_default_and_typos_are_caught():
    res = run_scenario(parse_scenario(DEMO.replace("value_chains = true", "")))
    assert not set(TABLES) & set(res.tables)
    assert "value_chains" not in res.to_document()
    with pytest.raises(ScenarioError, match=r"unknown field 'output.value_chain'.*value_chains"):
        run_scenario(parse_scenario(DEMO.replace("value_chains = true", "value_chain = true")))


def test_saved_results_and_store_keep_the_tables(demo_result, tmp_path):
    from kaifang.store import ResultsStore

    folder = demo_result.save(tmp_path / "out")
    for name in TABLES:
        assert (folder / f"{name}.csv").is_file()
    store = ResultsStore(tmp_path / "store.duckdb")
    rid = store.add(demo_result, parse_scenario(DEMO))
    back = store.get(rid)
    for name in TABLES:
        a, b = demo_result.tables[name], back.tables[name]
        assert list(a.columns) == list(b.columns)
        np.testing.assert_allclose(
            a.select_dtypes("number").to_numpy(), b.select_dtypes("number").to_numpy(), equal_nan=True
        )


def test_kaifang_run_json_prints_the_value_chains(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(DEMO)
    rc = main(["run", str(f), "--json", "--no-save", "--no-store"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    doc = json.loads(out.out)
    assert doc["synthetic"] is True and set(doc["value_chains"]) == set(TABLES)


@pytest.mark.data
def test_value_chains_of_a_wiod_scenario(scenarios_dir):
    """The 2011 world of WIOD (41 regions x 35 industries): a US-China goods embargo."""
    from helpers import require_dataset
    from kaifang.scenario import load_scenario

    require_dataset("wiod2013")
    sc = load_scenario(scenarios_dir / "wiod2011-us-china-decoupling-goods.toml")
    res = run_scenario(sc.model_copy(update={"output": {"value_chains": True}}))
    v = res.tables["value_chains"].drop(columns="no_trade").set_index(["region", "stage"])
    assert len(v) == 41 * 3 and res.diagnostics["value_chains"]["focus"] == ["CHN", "USA"]
    for r in ("USA", "CHN"):
        row = v.loc[(r, "counterfactual")]
        assert row["dc"] + row["fva"] == pytest.approx(row["gross_exports"], rel=1e-10)
        assert v.loc[(r, "change"), "gross_exports"] < 0  # they lose their largest goods partner
    o = res.tables["value_added_origin"].set_index(["exporter", "source"])
    # no goods trade left between them: almost no US value added in China's exports and back
    assert o.loc[("CHN", "USA"), "counterfactual_share"] < 0.5 * o.loc[("CHN", "USA"), "baseline_share"]
    assert o.loc[("USA", "CHN"), "counterfactual_share"] < 0.5 * o.loc[("USA", "CHN"), "baseline_share"]
