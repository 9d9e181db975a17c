"""Fixtures for the sweep tests: small sweep files on the synthetic demo world and one local
Dask cluster (2 workers, loopback only, no dashboard) shared by the tests of a module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sweep_helpers import DEMO_BASE, GRID


@pytest.fixture
def write_sweep(tmp_path):
    """Write ``DEMO_BASE`` with the given [sweep] section (or a whole text) and return its path."""

    def write(sweep: str = GRID, *, text: str | None = None, name: str = "sweep.toml") -> Path:
        path = tmp_path / name
        path.write_text(text if text is not None else DEMO_BASE.format(sweep=sweep))
        return path

    return write


@pytest.fixture(scope="module")
def dask_cluster():
    """A local cluster started by kaifang's own code path (2 worker processes, one thread each,
    127.0.0.1 only, no dashboard); yields the connected client."""
    from kaifang._dask import cluster_client, forwarded_env

    with cluster_client(n_workers=2, env=forwarded_env(), timeout=60) as (client, _desc):
        yield client
