"""The example sweep files (scenarios/sweeps/): each expands and validates; the synthetic one
is solved end to end, and at a zero retaliation rate the coalition makes no difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import require_dataset
from kaifang.cli import main
from kaifang.scenario.sweep import load_sweep
from kaifang.sweep import run_sweep, validate_sweep

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "scenarios" / "sweeps").glob("*.toml"))


def test_there_are_examples():
    assert {p.stem for p in EXAMPLES} >= {
        "sweep-demo-tariff-war",
        "sweep-liberation-retaliation",
        "sweep-cp2015-china-ftz-rollout",
    }


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_expands_and_validates(path):
    sw = load_sweep(path)
    assert sw.description or sw.base.description, f"{path.name} says what it assumes"
    assert 2 <= len(sw) <= 100
    if sw.base.dataset != "demo":
        require_dataset(sw.base.dataset)
    validate_sweep(sw)


def test_demo_example_runs_end_to_end(capsys):
    path = next(p for p in EXAMPLES if p.stem == "sweep-demo-tariff-war")
    assert main(["sweep", str(path), "--serial", "--json", "--no-save"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert doc["n_points"] == 18 and doc["n_failed"] == 0
    at_zero = [p["regions"] for p in doc["points"] if p["values"]["tariff_points"] == 0]
    assert len(at_zero) == 3 and all(abs(r["welfare_pct"]) < 1e-8 for regions in at_zero for r in regions)


@pytest.mark.slow
def test_liberation_example_zero_retaliation_is_the_same_for_every_coalition():
    require_dataset("liberation2025")
    sw = load_sweep(next(p for p in EXAMPLES if p.stem == "sweep-liberation-retaliation"))
    zero = [p.index for p in sw.points if p.values["retaliation_pct"] == 0]
    sub = type(sw)(**{**sw.__dict__, "points": tuple(sw.points[i] for i in zero)})
    res = run_sweep(sub, engine="serial")
    assert res.n_failed == 0
    frames = [
        g.drop(columns=["point", "coalition"]).reset_index(drop=True) for _, g in res.summary.groupby("point")
    ]
    # a 0 % tariff set by more importers is still no tariff: identical equilibria
    for f in frames[1:]:
        assert (f["welfare_pct"] - frames[0]["welfare_pct"]).abs().max() < 1e-10
