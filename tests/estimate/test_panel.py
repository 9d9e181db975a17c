"""Gravity data tools: square/balance, pair ids, border-year dummies, lags and leads, years."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kaifang.errors import DataError
from kaifang.estimate import (
    add_border_year_dummies,
    add_lags,
    add_pair_id,
    filter_years,
    keep_domestic,
    square_panel,
)


@pytest.fixture
def panel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "exporter": ["A", "A", "B", "B", "A", "B"],
            "importer": ["A", "B", "A", "B", "B", "A"],
            "year": [2000, 2000, 2000, 2000, 2004, 2004],
            "trade": [10.0, 2.0, 3.0, 8.0, 4.0, 5.0],
            "rta": [0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        }
    )


def test_square_panel_fills_missing_pairs_with_zero(panel):
    sq = square_panel(panel)
    assert len(sq) == 2 * 2 * 2
    filled = sq[(sq["year"] == 2004) & (sq["exporter"] == "A") & (sq["importer"] == "A")]
    assert filled["trade"].item() == 0.0
    assert np.isnan(filled["rta"].item())
    assert sq["trade"].sum() == panel["trade"].sum()


def test_keep_domestic_and_filter_years(panel):
    assert set(keep_domestic(panel)["exporter"] + keep_domestic(panel)["importer"]) == {"AA", "BB"}
    assert filter_years(panel, [2004])["year"].unique().tolist() == [2004]
    with pytest.raises(DataError, match=r"years \[1999\] are not in the data; it has \[2000, 2004\]"):
        filter_years(panel, [1999])


def test_pair_ids_symmetric_and_domestic(panel):
    p = add_pair_id(panel, domestic="0-intra")
    ab = p[(p["exporter"] == "A") & (p["importer"] == "B")]["pair"].iloc[0]
    ba = p[(p["exporter"] == "B") & (p["importer"] == "A")]["pair"].iloc[0]
    assert ab == ba == "A-B"
    assert set(p.loc[p["exporter"] == p["importer"], "pair"]) == {"0-intra"}
    q = add_pair_id(panel, symmetric=False)
    assert q.loc[1, "pair"] == "A-B" and q.loc[2, "pair"] == "B-A"


def test_border_year_dummies(panel):
    b = add_border_year_dummies(panel, years=[2000])
    assert b["intl_border_2000"].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    assert "intl_border_2004" not in b


def test_lags_and_leads(panel):
    out = add_lags(panel, "rta", [4, -4], fill=0.0)
    row = out[(out["exporter"] == "A") & (out["importer"] == "B") & (out["year"] == 2004)]
    assert row["rta_lag4"].item() == 0.0  # its 2000 value
    row0 = out[(out["exporter"] == "A") & (out["importer"] == "B") & (out["year"] == 2000)]
    assert row0["rta_lead4"].item() == 1.0  # its 2004 value
    assert list(out.index) == list(panel.index)
    unfilled = add_lags(panel, "rta", [4])
    assert unfilled["rta_lag4"].isna().sum() == 4  # 2000 rows have no 1996 and missing pairs stay missing
