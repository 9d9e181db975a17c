"""`RunResult.to_xarray()` and `RunResult.summary()`: the labelled forms carry the tables' numbers.

Independent checks: every cell of the Dataset against the DataFrame row it came from (looked up
by its labels), sums over a dimension against pandas group sums of the tidy table, and the
summary's largest gain and loss against a sort of the per-region table.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import kaifang
from kaifang.results import RunResult


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> RunResult:
    return kaifang.run("scenarios/demo-tariff.toml")


def test_dimensions_and_attributes(demo):
    ds = demo.to_xarray()
    assert ds["welfare_pct"].dims == ("region",)
    assert ds["sectors_gross_output_pct"].dims == ("region", "sector")
    assert ds["bilateral_exports_pct"].dims == ("region", "partner")
    assert ds["flows_baseline"].dims == ("importer", "exporter", "sector")
    assert list(ds["region"].values) == list(demo.regions["region"])
    assert list(ds["sector"].values) == list(pd.unique(demo.tables["sectors"]["sector"]))
    assert ds.attrs["scenario"] == "demo-tariff"
    assert ds.attrs["model"] == "caliendo_parro"
    assert ds.attrs["dataset"] == "demo"
    assert ds.attrs["welfare_measure"] == demo.diagnostics["welfare_measure"]
    assert ds.attrs["synthetic"] == 1
    assert ds["sectors_gross_output_pct"].attrs == {"table": "sectors", "column": "gross_output_pct"}


def test_every_cell_equals_the_table(demo):
    ds = demo.to_xarray()
    for col in demo.regions.columns.drop("region"):
        for _, row in demo.regions.iterrows():
            assert ds[col].sel(region=row["region"]).item() == pytest.approx(row[col], nan_ok=True)
    for name, dims in (("sectors", ("region", "sector")), ("bilateral", ("region", "partner"))):
        df = demo.tables[name]
        for col in df.columns.drop(list(dims)):
            var = ds[f"{name}_{col}"]
            for _, row in df.iterrows():
                got = var.sel({d: row[d] for d in dims}).item()
                if isinstance(row[col], (bool, np.bool_)):
                    assert bool(got) is bool(row[col])
                else:
                    assert got == pytest.approx(row[col], nan_ok=True), (name, col, row[list(dims)])


def test_sums_over_a_dimension_match_group_sums(demo):
    ds = demo.to_xarray()
    flows = demo.tables["flows"]
    by_importer = flows.groupby("importer", sort=False)["counterfactual"].sum()
    got = ds["flows_counterfactual"].sum(["exporter", "sector"])
    for region, value in by_importer.items():
        assert got.sel(importer=region).item() == pytest.approx(value, rel=1e-12)
    sectors = demo.tables["sectors"]
    by_sector = sectors.groupby("sector", sort=False)["terms_of_trade_pct"].sum()
    got = ds["sectors_terms_of_trade_pct"].sum("region")
    for sector, value in by_sector.items():
        assert got.sel(sector=sector).item() == pytest.approx(value, rel=1e-12, abs=1e-15)


def test_selected_tables_and_unknown_table(demo):
    ds = demo.to_xarray(tables=["regions"])
    assert set(ds.dims) == {"region"}
    assert "sectors_gross_output_pct" not in ds
    with pytest.raises(KeyError, match="no table 'sektors'"):
        demo.to_xarray(tables=["sektors"])


def test_missing_combinations_are_nan_and_gappy_booleans_float():
    regions = pd.DataFrame({"region": ["AAA", "BBB"], "welfare_pct": [1.0, -2.0]})
    bilateral = pd.DataFrame(
        {
            "region": ["AAA", "AAA", "BBB"],
            "partner": ["AAA", "BBB", "AAA"],
            "exports_pct": [0.5, 1.5, 2.5],
            "no_trade": [False, True, False],
        }
    )
    res = RunResult(model="m", scenario="s", regions=regions, tables={"bilateral": bilateral})
    ds = res.to_xarray()
    assert np.isnan(ds["bilateral_exports_pct"].sel(region="BBB", partner="BBB").item())
    assert ds["bilateral_exports_pct"].sel(region="BBB", partner="AAA").item() == 2.5
    assert ds["bilateral_no_trade"].sel(region="AAA", partner="BBB").item() == 1.0
    assert np.isnan(ds["bilateral_no_trade"].sel(region="BBB", partner="BBB").item())
    assert ds.attrs["dataset"] == "" and ds.attrs["synthetic"] == 0


def test_summary(demo):
    text = demo.summary()
    reg = demo.regions.sort_values("welfare_pct")
    loser, winner = reg.iloc[0], reg.iloc[-1]
    assert f"largest gain {winner['region']} {winner['welfare_pct']:+.3f} %" in text
    assert f"largest loss {loser['region']} {loser['welfare_pct']:+.3f} %" in text
    assert "model caliendo_parro, data demo (5 regions)" in text
    assert "SYNTHETIC" in text
    assert f"{demo.diagnostics['iterations']} iterations" in text
    assert "Warnings: none" in text
    warned = dataclasses.replace(demo, warnings=("scenario.toml, shocks[0]: the shock changes nothing.",))
    assert "Warnings (1):\n  - scenario.toml, shocks[0]: the shock changes nothing." in warned.summary()
    unconverged = dataclasses.replace(demo, diagnostics={**demo.diagnostics, "converged": False})
    assert "NOT converged" in unconverged.summary()
