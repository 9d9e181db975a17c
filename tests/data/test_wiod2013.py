"""The WIOD 2013 reader against facts about the published tables.

Expected values are properties of the published 2011 table (Timmer et al. 2015, WIOD 2013
release) counted independently of kaifang: integer millions of USD, 41 regions x 35 industries,
row gaps from rounding of at most 108 with sum(|d|)/sum(x) = 4.2e-4 and sum(d) = +59,212,
22 industries with zero output that sell nothing abroad, 352 negative final-demand cells (all in
inventories and gross fixed capital formation).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.baseline import InputOutputTable
from kaifang.errors import DataError


@pytest.fixture(scope="module")
def raw2011():
    require_dataset("wiod2013")
    from kaifang.data.wiod2013 import read_wiod2013

    return read_wiod2013(2011)


def test_labels_and_shapes(raw2011):
    assert len(raw2011.regions) == 41 and len(raw2011.sectors) == 35
    assert raw2011.regions[-1] == "RoW" and {"ROM", "TWN", "CHN", "USA"} <= set(raw2011.regions)
    assert raw2011.sectors[0] == "c1" and raw2011.sectors[-1] == "c35"
    assert raw2011.Z.shape == (1435, 1435) and raw2011.Y.shape == (1435, 205)
    assert raw2011.rounding == 1.0 and "wiot_2011.RData" in raw2011.files


def test_published_rounding_gaps(raw2011):
    d = raw2011.x - raw2011.Z.sum(axis=1) - raw2011.Y.sum(axis=1)
    assert np.abs(d).max() == 108
    assert d.sum() == 59212
    assert np.abs(d).sum() / raw2011.x.sum() == pytest.approx(4.2e-4, abs=0.05e-4)
    assert np.all(raw2011.Z == np.round(raw2011.Z))  # integer millions


def test_zero_output_industries_and_negative_final_cells(raw2011):
    zero = raw2011.x == 0
    assert zero.sum() == 22
    g, n = 41, 35
    region = np.repeat(np.arange(g), n)
    foreign = region[:, None] != region[None, :]
    assert raw2011.Z[zero][foreign[zero]].sum() == 0  # no intermediate exports
    assert (raw2011.Y < 0).sum() == 352
    cat = np.tile(np.arange(5), g)  # CONS_h, CONS_np, CONS_g, GFCF, INVEN
    neg_cats = set(cat[np.nonzero(raw2011.Y < 0)[1]])
    assert neg_cats <= {3, 4}


def test_every_year_reads_into_a_valid_table():
    require_dataset("wiod2013")
    from kaifang.data.wiod2013 import YEARS, read_wiod2013

    for year in YEARS:
        t = InputOutputTable.from_raw(read_wiod2013(year))
        assert t.year == year and t.x.sum() > 0


def test_unknown_year_lists_the_years():
    from kaifang.data.wiod2013 import read_wiod2013

    with pytest.raises(DataError, match=r"no year 2016; it covers 1995-2011"):
        read_wiod2013(2016)


def test_a_file_that_is_not_a_wiod_table(tmp_path):
    from kaifang.data.wiod2013 import read_wiod2013

    bad = tmp_path / "wiot_2011.RData"
    bad.write_bytes(b"not an R file")
    with pytest.raises(DataError, match=r"wiot_2011.RData: not a WIOD 2013 table for 2011"):
        read_wiod2013(2011, path=bad)


@pytest.mark.parametrize("year", [1995, 2011])
def test_the_tables_equal_the_rdata_packages_general_conversion(year):
    """kaifang walks the parsed R object itself; the ``rdata`` package's own conversion (to
    numpy and xarray) of the same file is the independent reference, element by element."""
    require_dataset("wiod2013")
    import warnings

    import rdata

    from kaifang.data.store import locate
    from kaifang.data.wiod2013 import read_wiod2013

    path = locate("wiod2013", f"wiot_{year}.RData")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = rdata.conversion.convert(rdata.parser.parse_file(path))[f"wiot_{year}"]
    got = read_wiod2013(year, path=path)
    assert got.regions == tuple(str(c) for c in np.asarray(ref["countries"]))
    assert got.sectors == tuple(str(c) for c in np.asarray(ref["industries"]))
    np.testing.assert_array_equal(got.Z, np.asarray(ref["inter"], dtype=float))
    np.testing.assert_array_equal(got.Y, np.asarray(ref["final"], dtype=float))
    np.testing.assert_array_equal(got.x, np.asarray(ref["output"], dtype=float).reshape(-1))


def test_an_r_file_without_the_years_list_names_what_it_holds(tmp_path):
    import rdata

    from kaifang.data.wiod2013 import read_wiod2013

    path = tmp_path / "wiot_2011.RData"
    rdata.write_rda(path, {"wiot_2010": {"countries": ["AUS"], "output": np.array([1.0])}})
    with pytest.raises(DataError, match=r"wiot_2011.RData: not a WIOD 2013 table for 2011 .*'wiot_2010'"):
        read_wiod2013(2011, path=path)


def test_an_r_list_missing_the_intermediate_block_says_so(tmp_path):
    import rdata

    from kaifang.data.wiod2013 import read_wiod2013

    path = tmp_path / "wiot_2011.RData"
    rdata.write_rda(
        path,
        {
            "wiot_2011": {
                "countries": ["AUS"],
                "industries": ["c1"],
                "final": np.ones((1, 5)),
                "output": np.ones(1),
            }
        },
    )
    with pytest.raises(DataError, match=r"has no inter"):
        read_wiod2013(2011, path=path)
