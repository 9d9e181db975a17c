"""Shared test settings: the data mirror and a per-test cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_DEFAULT_MIRROR = ROOT.parent / "shared" / "data"

if "KAIFANG_DATA_MIRROR" not in os.environ and _DEFAULT_MIRROR.is_dir():
    os.environ["KAIFANG_DATA_MIRROR"] = str(_DEFAULT_MIRROR)


@pytest.fixture
def scenarios_dir() -> Path:
    return ROOT / "scenarios"


@pytest.fixture(autouse=True)
def _isolated_results_store(tmp_path, monkeypatch):
    """Every test gets its own results store, so `kaifang run` in tests never writes into the
    working directory's kaifang-results/."""
    monkeypatch.setenv("KAIFANG_STORE", str(tmp_path / "kaifang-store.duckdb"))
