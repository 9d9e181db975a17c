"""Aggregation of input-output tables: sums by hand, shares of merged units, and bad mappings.

Why the numbers are right: the aggregated cells are checked against sums written out by hand on a
small table, against invariants (world totals of every flow, output and value added unchanged;
merging nothing changes nothing), and the messages against the mapping at fault.
"""

from __future__ import annotations

import numpy as np
import pytest

from io_tables import random_table
from kaifang.baseline import aggregate, concordance
from kaifang.errors import BaselineError


def test_regions_merged_by_hand():
    t = random_table(1, 3, 2)  # regions R0, R1, R2; sectors s0, s1
    a = aggregate(t, regions={"AB": ["R0", "R1"]})
    assert a.regions == ("AB", "ROW") and a.sectors == ("s0", "s1")
    Z4 = t.Z.reshape(3, 2, 3, 2)
    # AB/s0 -> AB/s1 = sum over origins R0, R1 and destinations R0, R1
    assert a.Z[0, 1] == pytest.approx(Z4[:2, 0, :2, 1].sum())
    # AB/s1 -> ROW/s0 = R0/s1 -> R2/s0 + R1/s1 -> R2/s0
    assert a.Z[1, 2] == pytest.approx(Z4[0, 1, 2, 0] + Z4[1, 1, 2, 0])
    Y4 = t.Y.reshape(3, 2, 3, 2)  # two categories kept
    assert a.Y[3, 0] == pytest.approx(Y4[2, 1, :2, 0].sum())
    np.testing.assert_allclose(a.x, [t.x[[0, 2]].sum(), t.x[[1, 3]].sum(), t.x[4], t.x[5]])
    assert any("regions aggregated: AB = R0 + R1; ROW = R2" in n for n in a.notes)


def test_totals_are_kept_and_identity_changes_nothing():
    t = random_table(2, 4, 3, k=3)
    a = aggregate(t, regions={"X": ["R3", "R1"], "Y": "R0"}, sectors={"m": ["s0", "s2"]}, rest_sector="rest")
    assert a.regions == ("X", "Y", "ROW") and a.sectors == ("m", "rest")
    for name in ("Z", "Y", "x", "value_added"):
        assert getattr(a, name).sum() == pytest.approx(getattr(t, name).sum(), rel=1e-12)
    # value added of a merged unit is the sum of its members'
    va = t.value_added.reshape(4, 3)
    assert a.value_added[0] == pytest.approx(va[[1, 3]][:, [0, 2]].sum())
    same = aggregate(t)
    np.testing.assert_array_equal(same.Z, t.Z)
    assert same.regions == t.regions


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        ({"A": ["R0", "X0"]}, r"field 'baseline.regions.A': unknown region 'X0'\. Did you mean 'R0'\?"),
        ({"A": ["R0", "R1"], "B": ["R1"]}, r"region 'R1' is put into both 'A' and 'B'"),
        ({"A": []}, r"field 'baseline.regions.A' is an empty list"),
    ],
)
def test_bad_region_mappings(regions, message):
    t = random_table(3, 3, 2)
    with pytest.raises(BaselineError, match=message):
        aggregate(t, regions=regions, source="s.toml")


def test_bad_sector_mapping_names_the_field():
    t = random_table(3, 3, 2)
    with pytest.raises(BaselineError, match=r"s.toml: field 'baseline.sectors.x': unknown sector 's7'"):
        aggregate(t, sectors={"x": "s7"}, source="s.toml")


def test_rest_named_explicitly_takes_the_unlisted():
    c = concordance(["a", "b", "c", "d"], {"ROW": ["a"], "B": ["b"]}, rest="ROW")
    assert c.labels == ("ROW", "B") and c.members == (("a", "c", "d"), ("b",))
