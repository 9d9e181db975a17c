"""InputOutputTable: derived quantities on a hand-written table, and each validation error."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.baseline import InputOutputTable
from kaifang.errors import BaselineError

# Two regions (A, B) x two industries (g, s); rows sell to columns.
Z = np.array(
    [
        [10.0, 5.0, 2.0, 0.0],
        [4.0, 8.0, 1.0, 1.0],
        [3.0, 0.0, 12.0, 6.0],
        [0.0, 2.0, 5.0, 9.0],
    ]
)
# final demand: destination A (two categories), destination B (two categories)
Y = np.array(
    [
        [20.0, 1.0, 5.0, 0.0],
        [30.0, 0.0, 2.0, 0.0],
        [4.0, 0.0, 25.0, -1.0],
        [1.0, 0.0, 40.0, 2.0],
    ]
)
LABELS = {"regions": ("A", "B"), "sectors": ("g", "s"), "fd_categories": ("cons", "inv")}


def table(**kw):
    args = {"Z": Z, "Y": Y, **LABELS, **kw}
    return InputOutputTable.from_arrays(**args)


def test_derived_quantities_by_hand():
    t = table()
    # x = row sums: 43, 46, 49, 59
    np.testing.assert_array_equal(t.x, [43, 46, 49, 59])
    # v = x - column sums of Z: 43-17, 46-15, 49-20, 59-16
    np.testing.assert_array_equal(t.value_added, [26, 31, 29, 43])
    np.testing.assert_array_equal(t.final_by_region, [[21, 5], [30, 2], [4, 24], [1, 42]])
    np.testing.assert_array_equal(t.row_gap, 0)
    assert t.label(2) == "B/g"


def test_balanced_sets_output_to_row_sums_and_records_it():
    t = table(x=np.array([43.3, 46.0, 49.0, 58.5]))  # within 1% of output
    b = t.balanced()
    np.testing.assert_allclose(b.row_gap, 0, atol=1e-12)
    assert "gross output set to row sums" in b.notes[-1]
    np.testing.assert_array_equal(t.x, [43.3, 46, 49, 58.5])  # the original is unchanged


def test_xarray_view_has_named_dimensions():
    ds = table().to_xarray()
    assert ds["Z"].dims == ("region", "sector", "to_region", "to_sector")
    assert float(ds["Z"].sel(region="B", sector="g", to_region="A", to_sector="g")) == 3.0
    assert float(ds["Y"].sel(region="B", sector="g", to_region="B", category="inv")) == -1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"Z": np.where(Z == 8.0, -1.0, Z)},
            r"intermediate flow from A/s to A/s is -1 .*must be non-negative",
        ),
        ({"x": np.array([43.0, -46.0, 49.0, 59.0])}, r"gross output of A/s is -46"),
        ({"x": np.array([43.0, 46.0, 60.0, 59.0])}, r"does not balance: B/g sells 49 .* gross output is 60"),
        ({"Y": Y[:, :3]}, r"Y has shape \(4, 3\), but 2 regions x 2 sectors x 2 final-demand"),
        ({"regions": ("A", "A")}, r"duplicate region labels \['A'\]"),
        ({"Z": np.where(Z == 10.0, np.nan, Z)}, r"Z at \(A/g -> A/g\) is nan"),
    ],
)
def test_invalid_tables_are_refused_with_the_cell(change, message):
    with pytest.raises(BaselineError, match=message):
        table(**change)


def test_zero_output_industry_that_buys_inputs_is_refused():
    z = Z.copy()
    z[0, 3] = 0.0  # keep row sums consistent below
    x = z.sum(axis=1) + Y.sum(axis=1)
    x[3] = 0.0
    with pytest.raises(BaselineError, match=r"B/s has zero gross output but buys"):
        InputOutputTable.from_arrays(z, Y, x, **LABELS, balance_rtol=1e9)


def test_rounding_is_allowed_for():
    x = Z.sum(axis=1) + Y.sum(axis=1)
    x[0] += 3.0  # 3 units off on a row of 43: more than 1%, less than the rounding of 8 cells
    with pytest.raises(BaselineError, match="does not balance"):
        table(x=x)
    assert table(x=x, rounding=1.0).row_gap[0] == 3.0
