"""Helpers importable from any test module (``from helpers import require_dataset``)."""

from __future__ import annotations

import pytest


def have_dataset(name: str) -> bool:
    """True when every file of data set ``name`` is in the mirror or cache (no download)."""
    from kaifang.data import status

    return all(s.ok for s in status(name))


def require_dataset(name: str) -> None:
    """Skip the calling test, with instructions, when data set ``name`` is not available."""
    if not have_dataset(name):
        pytest.skip(
            f"data set {name!r} not available locally: set KAIFANG_DATA_MIRROR to a folder holding "
            f"{name}/ (a local copy of the data folder) or run `kaifang data fetch {name}` with internet access"
        )
