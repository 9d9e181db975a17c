"""The fields of a run's JSON that the results view shows: warnings, uncertainty bands and their
diagnostics, value-chain tables, columns not applicable, cells without baseline trade.

Each run goes through the API (validated, queued, solved in a worker, saved in the store) and is
read back as the browser reads it (``GET /api/runs/{id}``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from conftest import wait_job

ROOT = Path(__file__).resolve().parents[2]
DEMO = (ROOT / "scenarios" / "demo-tariff.toml").read_text()
BANDS = DEMO.replace(
    "[baseline]",
    "[uncertainty]\ndraws = 16\nseed = 3\nlevel = 0.9\ncv = 0.2\n\n[output]\nvalue_chains = true\n\n[baseline]",
    1,
)


def _run(client, text: str) -> dict:
    job = wait_job(client, client.post("/api/runs", json={"text": text}).json(), timeout=120)
    assert job["state"] == "done", job
    return client.get(f"/api/runs/{job['run_id']}").json()


@pytest.fixture(scope="module")
def bands_run(client) -> dict:
    return _run(client, BANDS)


def test_a_run_with_bands_carries_lo_and_hi_and_the_caption_facts(bands_run):
    doc = bands_run["document"]
    # docs/uncertainty.md: each outcome column x of the regions table gets x_lo and x_hi
    for col in ("welfare_pct", "exports_pct", "imports_pct", "real_wage_pct"):
        for r in doc["regions"]:
            lo, hi = r[f"{col}_lo"], r[f"{col}_hi"]
            assert lo is not None and hi is not None and lo <= hi, (col, r["region"])
    # a 25-point tariff on XAA's imports from XBB cuts XAA's imports in every draw: the band is
    # below zero and has width
    xaa = next(r for r in doc["regions"] if r["region"] == "XAA")
    assert xaa["imports_pct_hi"] < 0 and xaa["imports_pct_lo"] < xaa["imports_pct_hi"]
    unc = doc["diagnostics"]["uncertainty"]
    # what the caption states: level, draws, failed draws, distribution (as the scenario asked)
    assert unc["draws"] == 16 and unc["level"] == 0.9 and unc["seed"] == 3
    assert (
        unc["failed_draws"] == 0 and "log-normal" in unc["distribution"] and "cv 0.2" in unc["distribution"]
    )
    assert doc["warnings"] == []


def test_value_chain_tables_are_in_the_document(bands_run):
    rows = bands_run["document"]["value_chains"]["value_chains"]
    regions = sorted({r["region"] for r in rows})
    assert regions == ["XAA", "XBB", "XCC", "XDD", "XEE"]
    by = {(r["region"], r["stage"]): r for r in rows}
    assert {s for _, s in by} == {"baseline", "counterfactual", "change"}
    for reg in regions:
        for stage in ("baseline", "counterfactual"):
            r = by[(reg, stage)]
            # docs/valuechains.md: participation = backward (fva share) + forward (dvx share)
            assert math.isclose(r["gvc_participation"], r["gvc_backward"] + r["gvc_forward"], rel_tol=1e-12)
            assert 0 < r["vax_ratio"] <= 1
        for c in ("vax_ratio", "fva_share", "dvx_share", "gvc_participation", "gvc_position"):
            change = by[(reg, "counterfactual")][c] - by[(reg, "baseline")][c]
            assert math.isclose(by[(reg, "change")][c], change, rel_tol=1e-9, abs_tol=1e-15), (reg, c)
    focus = bands_run["document"]["diagnostics"]["value_chains"]["focus"]
    assert focus == ["XAA", "XBB"]  # the regions the shocks name


def test_warnings_of_the_run_reach_the_document(client):
    noop = DEMO.replace('value = 25\nlabel = "XBB retaliates"', 'value = 0\nlabel = "XBB retaliates"', 1)
    doc = _run(client, noop)["document"]
    assert (
        len(doc["warnings"]) == 1
        and "shocks[1]" in doc["warnings"][0]
        and "changes nothing" in doc["warnings"][0]
    )


def test_columns_not_applicable_are_listed_and_empty(client):
    """Without the decomposition ([solver] welfare_steps = []) its parts cannot be defined: the
    run lists them in diagnostics.not_applicable and leaves them empty; welfare_pct stays."""
    text = DEMO.replace("[baseline]", "[solver]\nwelfare_steps = []\n\n[baseline]", 1)
    doc = _run(client, text)["document"]
    na = doc["diagnostics"]["not_applicable"]["regions"]
    assert {"terms_of_trade_pct", "volume_of_trade_pct", "welfare_residual_pct"} <= set(na)
    for r in doc["regions"]:
        assert all(r.get(c) is None for c in na)
        assert isinstance(r["welfare_pct"], float)


def test_cells_without_baseline_trade_are_null_and_flagged(bands_run, client):
    """The demo world has no trade in services: sector rows of Services are flagged no_trade,
    their relative changes are null, and the document lists them."""
    doc = bands_run["document"]
    flagged = doc["no_trade"]["sectors"]
    assert {r["sector"] for r in flagged} == {"Services"} and len(flagged) == 5
    table = client.get(
        f"/api/runs/{bands_run['run_id']}/tables/sectors", params={"where": "sector=Services"}
    ).json()
    assert table["total_rows"] == 5
    for r in table["rows"]:
        assert r["no_trade"] is True and r["exports_pct"] is None and r["imports_pct"] is None
