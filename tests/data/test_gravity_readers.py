"""Readers of the gravity data sets (agtpa, wiod44): shapes and columns as documented."""

from __future__ import annotations

import pytest

from helpers import require_dataset
from kaifang.errors import DataError


def test_agtpa_chapter2_panel():
    require_dataset("agtpa")
    from kaifang.data.agtpa import read_agtpa

    d = read_agtpa("Chapter2Application2.dta")
    assert d.shape == (99_981, 10)
    assert list(d.columns) == [
        "exporter",
        "importer",
        "pair_id",
        "year",
        "trade",
        "dist",
        "cntg",
        "lang",
        "clny",
        "rta",
    ]
    assert d["year"].dtype == "int64" and d["pair_id"].dtype == "int64"
    assert d["pair_id"].nunique() == 2415
    assert (d["exporter"] == d["importer"]).sum() == 69 * 21  # domestic flows included


def test_agtpa_applications_has_lags():
    require_dataset("agtpa")
    from kaifang.data.agtpa import read_agtpa

    d = read_agtpa()
    assert {"rta_lag4", "rta_lag8", "rta_lag12", "rta_lead4"} <= set(d.columns)
    with pytest.raises(DataError, match="agtpa has no file"):
        read_agtpa("Chapter3.dta")  # type: ignore[arg-type]


def test_wiod44():
    require_dataset("wiod44")
    from kaifang.data.wiod44 import read_wiod44

    d = read_wiod44()
    assert d.shape == (7744, 9)
    assert sorted(d["year"].unique()) == [2000, 2005, 2010, 2014]
    assert d["exporter"].nunique() == 44
    assert {"eu_enlargement", "other_fta", "fta"} <= set(d.columns)
