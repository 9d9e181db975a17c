"""The WIOD 2016 release reader, on a fixture R file in the release's layout.

Why the numbers are right: tests/io_tables.py writes known values into a data frame ``wiot``
laid out as the release's ``WIOT<year>_October16_ROW.RData`` (row fields IndustryCode,
IndustryDescription, Country, RNr, Year; columns <country>1-61 and TOT; the value-added block
below the industry rows) and the reader must return exactly those values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from io_tables import write_wiod2016_rdata
from kaifang.baseline import InputOutputTable
from kaifang.data.wiod2016 import read_wiod2016
from kaifang.errors import DataError, DataUnavailableError


def test_fixture_parses_to_the_numbers_written(tmp_path):
    path = tmp_path / "WIOT2014_October16_ROW.RData"
    want = write_wiod2016_rdata(path)
    raw = read_wiod2016(path=path)
    assert raw.regions == ("AUS", "CHN", "ROW") and len(raw.sectors) == 56
    assert raw.sectors[0] == "A01" and raw.sectors[-1] == "U"
    assert raw.fd_categories == ("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN")
    assert raw.year == 2014
    np.testing.assert_array_equal(raw.Z, want["Z"])
    np.testing.assert_array_equal(raw.Y, want["Y"])
    np.testing.assert_array_equal(raw.x, want["x"])
    t = InputOutputTable.from_raw(raw)
    np.testing.assert_allclose(t.row_gap, 0, atol=1e-9)


def test_rows_in_another_order_are_put_in_place(tmp_path):
    import rdata

    path = tmp_path / "WIOT2010_October16_ROW.RData"
    want = write_wiod2016_rdata(path, regions=("DEU", "ROW"), year=2010, seed=2)
    df = rdata.read_rda(path)["wiot"]
    shuffled = df.sample(frac=1.0, random_state=1).reset_index(drop=True)
    for c in ("IndustryCode", "IndustryDescription", "Country"):
        shuffled[c] = pd.Series(np.array(shuffled[c].tolist(), dtype=object), dtype=object)
    for c in ("RNr", "Year"):
        shuffled[c] = pd.array(shuffled[c].astype(int), dtype="Int32")
    rdata.write_rda(path, {"wiot": shuffled})
    raw = read_wiod2016(path=path)
    np.testing.assert_array_equal(raw.Z, want["Z"])
    np.testing.assert_array_equal(raw.x, want["x"])


def test_unknown_year_and_missing_file(tmp_path, monkeypatch):
    with pytest.raises(DataError, match=r"no year 2016; the 2016 release covers 2000-2014"):
        read_wiod2016(2016)
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KAIFANG_DATA_MIRROR", raising=False)
    with pytest.raises(DataUnavailableError, match=r"WIOT2014_October16_ROW.RData.*WIOTS_in_R.zip"):
        read_wiod2016(2014)


def test_not_a_wiod_file(tmp_path):
    bad = tmp_path / "WIOT2014_October16_ROW.RData"
    bad.write_bytes(b"not R")
    with pytest.raises(DataError, match=r"WIOT2014_October16_ROW.RData: not an R data file"):
        read_wiod2016(path=bad)
    import rdata

    other = tmp_path / "other.RData"
    rdata.write_rda(other, {"x": pd.DataFrame({"a": [1.0]})})
    with pytest.raises(DataError, match=r"holds no data frame 'wiot'"):
        read_wiod2016(path=other)
