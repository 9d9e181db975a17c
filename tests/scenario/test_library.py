"""Every file in scenarios/ runs with `kaifang run FILE --json` (exit 0), when its data is available."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from helpers import require_dataset
from kaifang.cli import main

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))


def test_library_is_not_empty():
    assert len(SCENARIOS) >= 10


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_file_runs(path, capsys):
    data = tomllib.loads(path.read_text())
    if data["dataset"] != "demo":
        require_dataset(data["dataset"])
    assert data.get("description"), f"{path.name} has no description saying what it assumes"
    rc = main(["run", str(path), "--json", "--no-save"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    doc = json.loads(out.strip().splitlines()[-1])
    assert doc["scenario"] == data["name"] and doc["regions"]
    assert doc["run_id"]  # recorded in the (per-test) results store
    assert doc["diagnostics"]["converged"] is True
