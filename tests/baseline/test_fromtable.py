"""A multi-sector world from an input-output table: corrections, calibration, writing back.

Why the numbers are right: the corrections are checked on a hand-written table against values
worked out by hand; the calibration against the accounting identities of a table (row sums =
gross output, columns = inputs + value added, shares summing to one) at 1e-10, and against the
defining property of an exact calibration -- the model's own equilibrium with the observed
deficits and no shock is the table itself; writing the world back must give the table's
bilateral flows, output and value added (and, for a table that satisfies the model's import
proportionality by construction, every cell).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from io_tables import random_table
from kaifang.baseline import InputOutputTable, calibrate, from_table, prepare, to_table
from kaifang.baseline.fromtable import TOKEN
from kaifang.errors import BaselineError
from kaifang.models.caliendo_parro import solve

# Two regions (A, B) x two sectors (g, s); final demand of each destination in two categories.
Z = np.array(
    [
        [10.0, 5.0, 2.0, 0.0],
        [4.0, 8.0, 1.0, 1.0],
        [3.0, 0.0, 12.0, 6.0],
        [0.0, 2.0, 5.0, 9.0],
    ]
)
Y = np.array(
    [
        [20.0, 1.0, 5.0, 0.0],
        [30.0, 0.0, 2.0, 0.0],
        [4.0, 0.0, 25.0, -1.0],
        [1.0, -3.0, 1.0, 2.0],  # B/s sells A's final demand 1 - 3 = -2 net: set to zero
    ]
)


def hand_table(**kw):
    return InputOutputTable.from_arrays(
        Z, Y, regions=("A", "B"), sectors=("g", "s"), fd_categories=("cons", "inv"), **kw
    )


def test_corrections_by_hand():
    t = hand_table()
    fixed, rec = prepare(t)
    assert fixed.fd_categories == ("final",)
    # categories summed; the one net negative cell (B/s -> A: 1 - 3) set to zero
    np.testing.assert_array_equal(fixed.Y, [[21, 5], [30, 2], [4, 24], [0, 3]])
    assert rec.negative_final_cells == 1 and rec.negative_final_total == -2.0
    # output = row sums: 17+26, 14+32, 21+28, 16+3
    np.testing.assert_array_equal(fixed.x, [43, 46, 49, 19])
    assert rec.output_change_abs == 2.0  # B/s: 17 -> 19 (the negative sale removed)
    np.testing.assert_allclose(fixed.row_gap, 0, atol=1e-12)
    assert rec.token_cells == () and rec.negative_value_added_cells == 0


def test_negative_value_added_is_removed_by_scaling_inputs():
    Zn = Z.copy()
    Zn[0, 3] = 40.0  # B/s buys 40 + 1 + 6 + 9 = 56 of inputs but sells only 16 + 1 = 17
    t = InputOutputTable.from_arrays(Zn, Y, regions=("A", "B"), sectors=("g", "s"), fd_categories=("c", "i"))
    assert (t.value_added < 0).any()
    fixed, rec = prepare(t)
    assert rec.negative_value_added_cells >= 1 and rec.negative_value_added_total < 0
    assert (fixed.value_added >= -1e-9).all()
    np.testing.assert_allclose(fixed.row_gap, 0, atol=1e-12)
    np.testing.assert_allclose(fixed.value_added.min(), 0.0, atol=1e-9)


def test_token_sale_where_a_region_neither_buys_nor_produces():
    Zt, Yt = Z.copy(), Y.copy()
    Zt[3] = Yt[3] = 0.0  # B/s sells nothing ...
    Zt[:, 3] = 0.0  # ... buys nothing (no output) ...
    Zt[1, 2:] = Yt[1, 2:] = 0.0  # ... and B buys no s from A either
    t = InputOutputTable.from_arrays(Zt, Yt, regions=("A", "B"), sectors=("g", "s"), fd_categories=("c", "i"))
    fixed, rec = prepare(t)
    assert rec.token_cells == ("B/s",)
    world_output = fixed.x.sum()
    assert rec.token_value == pytest.approx(TOKEN * (world_output - rec.token_value), rel=1e-9)
    w = calibrate(fixed, np.array([5.0, 5.0]))
    assert w.shares[1, 1, 1] == 1.0  # B buys its token of s at home


def _identities(world, table):
    """Row sums = output, columns = inputs + value added, shares sum to one."""
    b = world
    y = b.gross_output
    np.testing.assert_allclose(y.reshape(-1), table.x, rtol=1e-10)
    np.testing.assert_allclose(b.gamma_va + b.gamma_io.sum(axis=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(b.alpha.sum(axis=1), 1.0, atol=1e-10)
    np.testing.assert_allclose(b.shares.sum(axis=1), 1.0, atol=1e-10)
    # value added = gamma_va Y equals the table's output less inputs
    np.testing.assert_allclose((b.gamma_va * y).reshape(-1), table.value_added, rtol=1e-10, atol=1e-9)
    # income = final use; deficits = final use less value added
    final = table.Y.reshape(b.n_regions * b.n_sectors, b.n_regions).sum(axis=0)
    np.testing.assert_allclose(b.income, final, rtol=1e-10)
    np.testing.assert_allclose(b.deficit, final - b.value_added, rtol=1e-9, atol=1e-9 * final.max())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_calibration_identities_and_write_back(seed):
    t = random_table(seed, 4, 3, negative_final=True)
    world, rec = from_table(t, np.array([4.0, 6.0, 8.0]))
    fixed, _ = prepare(t)
    _identities(world, fixed)
    back = to_table(world)
    g, n = 4, 3
    sales = lambda T: T.Z.reshape(g, n, g, n).sum(axis=3) + T.Y.reshape(g, n, g)  # noqa: E731
    np.testing.assert_allclose(sales(back), sales(fixed), rtol=1e-10)  # bilateral sector flows
    np.testing.assert_allclose(back.x, fixed.x, rtol=1e-10)
    np.testing.assert_allclose(back.value_added, fixed.value_added, rtol=1e-10, atol=1e-9)
    # inputs of each industry summed over origins
    np.testing.assert_allclose(
        back.Z.reshape(g, n, g, n).sum(axis=0), fixed.Z.reshape(g, n, g, n).sum(axis=0), rtol=1e-10
    )
    assert world.provenance["corrections"]["negative_final_cells"] == rec.negative_final_cells > 0


def test_a_proportional_table_is_given_back_cell_by_cell():
    """A table whose every user buys a good from each origin in the same proportions (the model's
    assumption) is reproduced exactly, intermediate and final cells included."""
    t = random_table(5, 3, 2)
    w, _ = from_table(t, np.array([5.0, 7.0]))
    proportional = to_table(w)  # a table satisfying proportionality
    w2, _ = from_table(proportional, w.theta)
    again = to_table(w2)
    np.testing.assert_allclose(again.Z, proportional.Z, rtol=1e-10)
    np.testing.assert_allclose(again.Y, proportional.Y, rtol=1e-10)


def test_the_table_is_an_equilibrium_with_its_observed_deficits():
    t = random_table(8, 4, 3)
    w, _ = from_table(t, np.array([3.0, 5.0, 9.0]))
    e = solve(w, w.tariff, None, w.deficit)
    np.testing.assert_allclose(e.w_hat, 1.0, atol=1e-12)
    np.testing.assert_allclose(e.p_hat, 1.0, atol=1e-12)
    np.testing.assert_allclose(e.flows, w.flows, rtol=1e-10)


def test_tariffs_enter_buyer_prices():
    t = random_table(9, 3, 2)
    fixed, _ = prepare(t)
    tau = np.zeros((3, 3, 2))
    tau[0, 1, 0] = 0.2
    w = calibrate(fixed, np.array([5.0, 5.0]), tariff=tau)
    np.testing.assert_allclose(w.flows, calibrate(fixed, np.array([5.0, 5.0])).flows)  # basic prices
    assert w.tariff[0, 1, 0] == 0.2 and w.tariff_revenue[0] == pytest.approx(0.2 * w.flows[0, 1, 0])
    np.testing.assert_allclose(w.gamma_va + w.gamma_io.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(w.alpha.sum(axis=1), 1.0, atol=1e-12)


def test_uncorrected_table_is_refused():
    with pytest.raises(BaselineError, match=r"has 2 final-demand categories; correct it first"):
        calibrate(hand_table(), np.ones(2))


def test_real_wiod_2011_identities_and_write_back():
    require_dataset("wiod2013")
    from kaifang.baseline.elasticities import default_theta
    from kaifang.data.wiod2013 import read_wiod2013

    raw = read_wiod2013(2011)
    t = InputOutputTable.from_raw(raw)
    world, rec = from_table(t, default_theta(t.sectors)[0])
    fixed, _ = prepare(t)
    _identities(world, fixed)
    # the corrections, counted here independently from the published arrays
    g, k = 41, 5
    net = raw.Y.reshape(-1, g, k).sum(axis=2)
    assert rec.negative_final_cells == int((net < 0).sum()) == 43
    assert rec.negative_final_total == net[net < 0].sum() == -11248.0
    row_sums = raw.Z.sum(axis=1) + np.maximum(net, 0).sum(axis=1)
    # one industry (LUX water transport) has inputs of 36 but row sums of 32 once rebalanced: its
    # inputs are scaled down by 4, which lowers its suppliers' row sums by 4 in all
    assert rec.negative_value_added_cells == 1 and rec.negative_value_added_total == -4.0
    assert abs(rec.output_change_abs - np.abs(row_sums - raw.x).sum()) <= 4.0 + 16 * rec.token_value + 1e-6
    assert len(rec.token_cells) == 16 and "CHN/c35" in rec.token_cells
    back = to_table(world)
    np.testing.assert_allclose(back.x, fixed.x, rtol=1e-10)
    np.testing.assert_allclose(back.value_added, fixed.value_added, rtol=1e-9, atol=1e-6)
    # against the published table: flows to rounding (a few millions: the corrections are that small)
    sales_pub = raw.Z.reshape(g, 35, g, 35).sum(axis=3) + np.maximum(net, 0).reshape(g, 35, g)
    sales_back = back.Z.reshape(g, 35, g, 35).sum(axis=3) + back.Y.reshape(g, 35, g)
    assert np.abs(sales_back - sales_pub).max() <= 4.0 + 1e-3  # the LUX inputs; tokens are 1.4e-4
    assert np.abs(back.x - row_sums).max() <= 4.0 + 1e-3
