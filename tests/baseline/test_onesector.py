"""One-sector worlds by data set (:func:`kaifang.baseline.onesector_world`).

Why the numbers are right: each world is recomputed here from its source by another route -- a
panel's year pivoted with pandas, a table's flows summed straight from the raw file's cells (equal
up to the documented corrections of the table), a multi-sector world's gross output and spending
(properties of :class:`~kaifang.baseline.MultiSectorBaseline`), the data file's international
flows -- and the ``ustr2025`` table against the tariff model's own construction.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.baseline import TableSpec, multisector_world, onesector_world
from kaifang.baseline.worlds import collapse_sectors
from kaifang.errors import ScenarioError


def test_a_multi_sector_world_sums_to_its_output_and_spending():
    """Row sums of the collapsed flows are gross output summed over sectors; column sums the
    spending on all sectors at producer prices (demo: a world with tariffs)."""
    world, _ = multisector_world(TableSpec("demo"))
    bl, tables = onesector_world(TableSpec("demo"))
    assert bl.regions == world.regions and bl.year is None and tables == {}
    np.testing.assert_allclose(bl.X.sum(axis=1), world.gross_output.sum(axis=1), rtol=1e-12)
    tau = np.asarray(world.tariff)
    spending = (np.asarray(world.shares) * world.expenditure[:, None, :] / (1 + tau)).sum(axis=(1, 2))
    np.testing.assert_allclose(bl.X.sum(axis=0), spending, rtol=1e-10)
    assert (np.diagonal(bl.X) > 0).all()
    np.testing.assert_array_equal(collapse_sectors(world), bl.X)


def test_the_wiod_2011_world_is_the_tables_sales_summed_over_sectors():
    require_dataset("wiod2013")
    from kaifang.data.wiod2013 import read_wiod2013

    raw = read_wiod2013(2011)
    g, n = len(raw.regions), len(raw.sectors)
    k = raw.Y.shape[1] // g
    Z = np.asarray(raw.Z, dtype=float).reshape(g, n, g, n).sum(axis=(1, 3))
    F = np.asarray(raw.Y, dtype=float).reshape(g, n, g, k).sum(axis=(1, 3))
    direct = Z + F  # exporter x importer, before the table's corrections
    bl, _ = onesector_world(TableSpec("wiod2013", year=2011))
    assert bl.year == 2011 and len(bl.regions) == 41 and "ROU" in bl.regions
    assert bl.files == {"wiot_2011.RData": bl.files["wiot_2011.RData"]}
    corr = bl.notes["corrections"]
    # the corrections move flows by no more than their recorded sizes: negative net final purchases
    # set to zero (WIOD 2011: 43 cells, -11,248), inputs of a negative-value-added industry scaled
    # down (-4), token domestic sales where a region neither buys nor produces a sector
    bound = (
        abs(corr["negative_final_total"])
        + abs(corr["negative_value_added_total"])
        + len(corr["token_cells"]) * corr["token_value"]
    )
    assert corr["negative_final_cells"] == 43
    assert np.abs(bl.X - direct).sum() <= bound * (1 + 1e-9)
    assert np.abs(bl.X - direct).sum() >= abs(corr["negative_final_total"]) - abs(
        corr["negative_value_added_total"]
    )


def test_a_panel_year_is_the_panels_flows():
    require_dataset("wiod44")
    from kaifang.data.wiod44 import read_wiod44

    d = read_wiod44()
    year = d[d["year"] == 2000].pivot(index="exporter", columns="importer", values="trade")
    bl, _ = onesector_world(TableSpec("wiod44", year=2000))
    np.testing.assert_array_equal(bl.X, year.loc[list(bl.regions), list(bl.regions)].to_numpy())
    assert bl.data is not None and set(bl.files) == {"GE_gravity_example_data.dta"}


def test_the_2023_world_and_its_ustr_table():
    require_dataset("liberation2025")
    from kaifang.data.liberation2025 import load
    from kaifang.models.ims2025.policy import ustr_tariffs

    d = load()
    bl, tables = onesector_world(TableSpec("liberation2025"))
    assert bl.year == 2023 and bl.regions == d.regions and bl.data is None
    off = ~np.eye(d.n, dtype=bool)
    np.testing.assert_array_equal(bl.X[off], d.trade[off])
    assert "calibration of the 2025 tariff model" in str(bl.notes["flows"])
    t = tables["ustr2025"]()  # (importer, exporter, 1)
    np.testing.assert_array_equal(t[:, :, 0], ustr_tariffs(d.tariffs, d.regions.index("USA")).T)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        (TableSpec("liberation2025", year=2022), r"field 'baseline.year' has value 2022.*holds 2023 only"),
        (TableSpec("cp2015", year=2005), r"field 'baseline.year' has value 2005.*holds 1993 only"),
        (TableSpec("demo", year=2000), r"the synthetic demo world has no year"),
        (TableSpec("wiod44"), r"field 'baseline.year' is required but missing: data set 'wiod44' is a panel"),
    ],
    ids=["liberation2025", "cp2015", "demo", "panel-without-year"],
)
def test_years_a_data_set_does_not_hold_are_refused(spec, match):
    if spec.dataset in ("liberation2025", "cp2015", "wiod44"):
        require_dataset(spec.dataset)
    with pytest.raises(ScenarioError, match=match):
        onesector_world(spec)
