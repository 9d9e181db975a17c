"""Invariants on random small tables (Hypothesis): the decompositions' accounting identities on
balanced tables, non-negative terms for non-negative tables, homogeneity of degree one in the
table's values, and equivariance under a reordering of the regions."""

from __future__ import annotations

import numpy as np
from gvc_worlds import random_table
from hypothesis import given, settings
from hypothesis import strategies as st

from kaifang import valuechains as vc
from kaifang.baseline import InputOutputTable

tables = st.builds(
    random_table,
    seed=st.integers(0, 10_000),
    G=st.integers(2, 4),
    N=st.integers(1, 3),
    sparse=st.sampled_from([0.0, 0.3, 0.7]),
)


@settings(max_examples=40, deadline=None)
@given(tables)
def test_identities_hold_exactly_on_balanced_tables(t):
    scale = float(t.x.max())
    w = vc.wwz(t, by="sector")
    # I2, I3: the sixteen terms add to bilateral sector exports, the final part to final exports
    np.testing.assert_allclose(w["texpdiff"], 0, atol=1e-11 * scale)
    np.testing.assert_allclose(w["texpfddiff"], 0, atol=1e-11 * scale)
    # I5: the closed-form KWW terms add to gross exports
    k = vc.kww(t, fdc="closed")
    np.testing.assert_allclose(k[list(vc.KWW_TERMS)].sum(axis=1), k["texp"], atol=1e-11 * scale)
    # I1: the origin of each industry's exports adds to its exports
    h = vc.origin_matrix(t).sum(dim=("source", "source_sector")).values.ravel()
    ex = w.groupby(["exporter", "sector"], observed=True)["texp"].sum().to_numpy()
    np.testing.assert_allclose(h, ex, atol=1e-11 * scale)
    # I6: KWW 1-6 is the domestic content, 7-9 the foreign content
    ind = vc.indicators(t)
    np.testing.assert_allclose(k[list(vc.KWW_TERMS[:6])].sum(axis=1), ind["dc"], atol=1e-11 * scale)
    # sector indicators add up to the country ones
    sec = vc.indicators(t, by="sector").groupby("country", observed=True).sum(numeric_only=True)
    for col in ("gross_exports", "vax", "dva", "dc", "fva", "dvx"):
        np.testing.assert_allclose(sec[col].to_numpy(), ind[col].to_numpy(), atol=1e-11 * scale)


@settings(max_examples=30, deadline=None)
@given(tables)
def test_every_term_is_non_negative_for_a_non_negative_table(t):
    # I7: Z, Y and value added are all non-negative here
    assert (t.Y >= 0).all() and (t.value_added >= 0).all()
    assert (vc.wwz_array(t).values >= -1e-12 * float(t.x.max())).all()
    assert (vc.kww(t, fdc="closed")[list(vc.KWW_TERMS)].to_numpy() >= -1e-12 * float(t.x.max())).all()


@settings(max_examples=20, deadline=None)
@given(tables, st.floats(0.01, 1000.0))
def test_levels_scale_with_the_table_and_shares_do_not(t, factor):
    scaled = t.replace(Z=t.Z * factor, Y=t.Y * factor, x=t.x * factor)
    a, b = vc.indicators(t), vc.indicators(scaled)
    for col in vc.COUNTRY_INDICATORS:
        ratio = col.endswith(("_share", "_ratio")) or col.startswith("gvc_")
        expect = a[col].to_numpy() * (1.0 if ratio else factor)
        np.testing.assert_allclose(b[col].to_numpy(), expect, rtol=1e-9, atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(tables, st.randoms(use_true_random=False))
def test_reordering_regions_reorders_the_results(t, rnd):
    G, N = t.n_regions, t.n_sectors
    perm = list(range(G))
    rnd.shuffle(perm)
    rows = np.concatenate([np.arange(s * N, (s + 1) * N) for s in perm])
    k = len(t.fd_categories)
    cols = np.concatenate([np.arange(s * k, (s + 1) * k) for s in perm])
    p = InputOutputTable.from_arrays(
        t.Z[np.ix_(rows, rows)],
        t.Y[np.ix_(rows, cols)],
        t.x[rows],
        regions=[t.regions[s] for s in perm],
        sectors=t.sectors,
        fd_categories=t.fd_categories,
    )
    a = vc.wwz(t, by="pair").set_index(["exporter", "importer"])
    b = vc.wwz(p, by="pair").set_index(["exporter", "importer"]).reindex(a.index)
    np.testing.assert_allclose(b.to_numpy(), a.to_numpy(), rtol=1e-9, atol=1e-10 * float(t.x.max()))
