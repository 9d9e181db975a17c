"""Diversion and diversification tables: invariants and a hand-computed case."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kaifang.results.diversion import diversification, diversion, diversion_tables

R = ["A", "B", "C"]


def test_hand_computed_case():
    # importer rows, exporter columns; A imports 10 from B and 30 from C; after: 20 and 20
    b = np.array([[0, 10, 30], [5, 0, 5], [1, 3, 0]], dtype=float)
    c = np.array([[0, 20, 20], [5, 0, 5], [1, 3, 0]], dtype=float)
    d = diversion(b, c, R).set_index(["region", "partner", "flow"])
    assert d.loc[("A", "B", "imports"), "share_baseline_pct"] == pytest.approx(25.0)
    assert d.loc[("A", "B", "imports"), "share_counterfactual_pct"] == pytest.approx(50.0)
    assert d.loc[("A", "B", "imports"), "share_change_pp"] == pytest.approx(25.0)
    assert d.loc[("A", "B", "imports"), "value_change_pct"] == pytest.approx(100.0)
    # B's exports: to A 10 -> 20, to C 3 -> 3
    assert d.loc[("B", "A", "exports"), "share_baseline_pct"] == pytest.approx(100 * 10 / 13)
    assert d.loc[("B", "A", "exports"), "share_counterfactual_pct"] == pytest.approx(100 * 20 / 23)
    h = diversification(b, c, R).set_index(["region", "flow"])
    assert h.loc[("A", "imports"), "hhi_baseline"] == pytest.approx(0.25**2 + 0.75**2)
    assert h.loc[("A", "imports"), "hhi_counterfactual"] == pytest.approx(0.5)
    assert h.loc[("A", "imports"), "partners_counterfactual"] == pytest.approx(2.0)


def test_domestic_sales_ignored_and_sector_axis_summed():
    b = np.ones((3, 3, 2))
    c = b.copy()
    c[0, 0] = 100.0  # domestic only
    d = diversion(b, c, R)
    assert np.allclose(d["share_change_pp"], 0.0)
    assert len(d) == 2 * 3 * 2
    assert list(diversion_tables(b, c, R)) == ["diversion", "diversification"]


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"expected \(3, 3\)"):
        diversion(np.ones((2, 2)), np.ones((2, 2)), R)


pos = arrays(float, (4, 4), elements=st.floats(0.01, 100.0))


@settings(max_examples=50, deadline=None)
@given(pos, pos)
def test_shares_sum_to_100_and_changes_to_zero(b, c):
    regions = list("ABCD")
    d = diversion(b, c, regions)
    g = d.groupby(["region", "flow"])
    assert np.allclose(g["share_baseline_pct"].sum(), 100.0)
    assert np.allclose(g["share_counterfactual_pct"].sum(), 100.0)
    assert np.allclose(g["share_change_pp"].sum(), 0.0, atol=1e-9)
    h = diversification(b, c, regions)
    assert np.all((h["hhi_baseline"] >= 1 / 3 - 1e-12) & (h["hhi_baseline"] <= 1 + 1e-12))


def test_no_change_gives_zero():
    b = np.random.default_rng(1).uniform(1, 2, (4, 4))
    d = diversion(b, b, list("ABCD"))
    assert np.allclose(d["share_change_pp"], 0.0) and np.allclose(d["value_change_pct"], 0.0)
