"""The dense-cube sweeps of the exporter-time x importer-time x pair design.

The cube path must be the same block Gauss-Seidel sweep as the row kernels (checked against a
sweep written with numpy), must be recognised only on designs that are such a cube, and the
fixed effects it converges to must be those of the dummy-variable least-squares problem
(solved densely with numpy).
"""

from __future__ import annotations

import numpy as np
import pytest

from hdfe_reference import sweep_reference
from kaifang.estimate.hdfe import _kernels as K
from kaifang.estimate.hdfe import ppml_hdfe
from kaifang.estimate.hdfe._cube import (
    cube_ipf_sweep,
    cube_planes,
    cube_sweep,
    cube_sweep_par,
    cube_sweep_ws,
    cube_weights,
    detect_cube,
)
from kaifang.estimate.hdfe._demean import FEStructure, solve_fe


def _panel(T: int, NI: int, NJ: int, seed: int, drop: float = 0.0, repeat: int = 0):
    """Rows ``(t, i, j)`` of a cube with a share ``drop`` of cells missing and ``repeat`` rows
    repeated; returns the exporter-time, importer-time and pair codes."""
    rng = np.random.default_rng(seed)
    t, i, j = (a.ravel() for a in np.meshgrid(np.arange(T), np.arange(NI), np.arange(NJ), indexing="ij"))
    keep = rng.random(t.shape[0]) >= drop
    t, i, j = t[keep], i[keep], j[keep]
    if repeat:
        extra = rng.integers(0, t.shape[0], repeat)
        t, i, j = np.concatenate([t, t[extra]]), np.concatenate([i, i[extra]]), np.concatenate([j, j[extra]])
    order = rng.permutation(t.shape[0])  # rows in no particular order
    t, i, j = t[order], i[order], j[order]
    codes = [np.unique(k, return_inverse=True)[1] for k in (t * NI + i, t * NJ + j, i * NJ + j)]
    return codes


@pytest.mark.parametrize("perm", [(0, 1, 2), (2, 0, 1), (1, 2, 0)])
@pytest.mark.parametrize(("drop", "repeat"), [(0.0, 0), (0.3, 0), (0.1, 25)])
@pytest.mark.parametrize("m", [1, 3])
def test_cube_sweep_matches_numpy(perm, drop, repeat, m):
    codes = _panel(4, 6, 5, seed=3, drop=drop, repeat=repeat)
    fe = FEStructure.from_codes([codes[p] for p in perm])
    cube = detect_cube(fe)
    assert cube is not None
    assert sorted(cube.roles) == [0, 1, 2]
    rng = np.random.default_rng(4)
    n = fe.cg.shape[1]
    w = rng.uniform(0.5, 2.0, n)
    V = np.ascontiguousarray(rng.normal(size=(n, m)))
    S, inv_w = K.group_sums_and_inverse_weights(fe.cg, w, V, fe.n_groups)
    a = rng.normal(size=(fe.n_groups, m))
    T, NI, NJ = cube.shape
    Wc = np.empty(T * NI * NJ)
    cube_weights(cube.cell, w, Wc)
    order = np.array([cube.roles.index(d) for d in range(3)])
    out = np.empty_like(a)
    change = np.empty(m)
    cube_sweep(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, a, out, change)
    ref = sweep_reference(fe, w, S, inv_w, a)
    np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(change, (np.abs(a - ref) / (0.1 + np.abs(ref))).max(axis=0), rtol=1e-9)


@pytest.mark.parametrize("perm", [(0, 1, 2), (2, 0, 1)])
def test_cube_sweeps_in_kept_planes_match_numpy(perm):
    """Two sweeps in a row in the caller's planes, the second without gathering its input
    (the first one's output, already in the planes): numpy's two sweeps, and bit for bit the
    sweeps that gather every time."""
    codes = _panel(4, 6, 5, seed=15, drop=0.25, repeat=5)
    fe = FEStructure.from_codes([codes[p] for p in perm])
    cube = detect_cube(fe)
    assert cube is not None
    rng = np.random.default_rng(16)
    n, m = fe.cg.shape[1], 3
    w = rng.uniform(0.5, 2.0, n)
    V = np.ascontiguousarray(rng.normal(size=(n, m)))
    S, inv_w = K.group_sums_and_inverse_weights(fe.cg, w, V, fe.n_groups)
    a = rng.normal(size=(fe.n_groups, m))
    T, NI, NJ = cube.shape
    Wc = cube.weight_buffer()
    cube_weights(cube.cell, w, Wc)
    order = np.array([cube.roles.index(d) for d in range(3)])
    planes = cube_planes(T, NI, NJ, m)
    g1, g2, ch = np.empty_like(a), np.empty_like(a), np.empty(m)
    cube_sweep_ws(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, a, g1, ch, *planes, False)
    cube_sweep_ws(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, g1, g2, ch, *planes, True)
    r1 = sweep_reference(fe, w, S, inv_w, a)
    r2 = sweep_reference(fe, w, S, inv_w, r1)
    np.testing.assert_allclose(g2, r2, rtol=1e-10, atol=1e-10)
    f1, f2, chf = np.empty_like(a), np.empty_like(a), np.empty(m)
    cube_sweep(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, a, f1, chf)
    cube_sweep(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, f1, f2, chf)
    np.testing.assert_array_equal(g2, f2)
    np.testing.assert_array_equal(ch, chf)
    # planes that do not hold the input must be gathered: a third sweep from another start
    b = rng.normal(size=a.shape)
    cube_sweep_ws(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, b, g1, ch, *planes, False)
    np.testing.assert_allclose(g1, sweep_reference(fe, w, S, inv_w, b), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("nt", [2, 3])
@pytest.mark.parametrize("m", [2, 5])
def test_cube_sweep_split_over_columns_matches_numpy(nt, m):
    """The sweep with its columns split over threads: numpy's sweep, and bit for bit the
    one-thread sweep (the columns are independent)."""
    codes = _panel(4, 6, 5, seed=13, drop=0.2, repeat=7)
    fe = FEStructure.from_codes(codes)
    cube = detect_cube(fe)
    assert cube is not None
    rng = np.random.default_rng(14)
    n = fe.cg.shape[1]
    w = rng.uniform(0.5, 2.0, n)
    V = np.ascontiguousarray(rng.normal(size=(n, m)))
    S, inv_w = K.group_sums_and_inverse_weights(fe.cg, w, V, fe.n_groups)
    a = rng.normal(size=(fe.n_groups, m))
    Wc = cube.weight_buffer()
    assert cube.weight_buffer() is Wc  # one buffer per cube
    cube_weights(cube.cell, w, Wc)
    order = np.array([cube.roles.index(d) for d in range(3)])
    one, par = np.empty_like(a), np.empty_like(a)
    ch1, chp = np.empty(m), np.empty(m)
    cube_sweep(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, a, one, ch1)
    cube_sweep_par(Wc, cube.gE, cube.gI, cube.gP, order, S, inv_w, a, par, chp, nt)
    ref = sweep_reference(fe, w, S, inv_w, a)
    np.testing.assert_allclose(par, ref, rtol=1e-11, atol=1e-11)
    np.testing.assert_array_equal(par, one)
    np.testing.assert_array_equal(chp, ch1)


@pytest.mark.parametrize("perm", [(0, 1, 2), (1, 2, 0)])
def test_cube_ipf_sweep_matches_numpy(perm):
    """Iterative proportional fitting of the fixed-effects start on the cube against numpy."""
    codes = _panel(4, 6, 5, seed=12, drop=0.2, repeat=10)
    fe = FEStructure.from_codes([codes[p] for p in perm])
    cube = detect_cube(fe)
    assert cube is not None
    rng = np.random.default_rng(13)
    n = fe.cg.shape[1]
    base = rng.uniform(0.5, 2.0, n)
    sy = rng.uniform(1.0, 3.0, fe.n_groups)
    A = rng.uniform(0.5, 1.5, fe.n_groups)
    T, NI, NJ = cube.shape
    Bc = np.empty(T * NI * NJ)
    cube_weights(cube.cell, base, Bc)
    out = np.empty_like(A)
    cube_ipf_sweep(
        Bc, cube.gE, cube.gI, cube.gP, np.array([cube.roles.index(d) for d in range(3)]), sy, A, out
    )
    ref = A.copy()
    cg = fe.cg.astype(np.int64)
    for d in range(3):
        prod = base * np.prod([ref[cg[e]] for e in range(3) if e != d], axis=0)
        acc = np.zeros_like(ref)
        np.add.at(acc, cg[d], prod)
        lo, hi = fe.bounds[d], fe.bounds[d + 1]
        ref[lo:hi] = sy[lo:hi] / acc[lo:hi]
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_designs_that_are_not_cubes_are_not_detected():
    rng = np.random.default_rng(5)
    n = 400
    # random codes: groups of one dimension meet groups of the others at random
    codes = [rng.integers(0, k, n) for k in (9, 11, 30)]
    for c, k in zip(codes, (9, 11, 30), strict=True):
        c[:k] = np.arange(k)
    assert detect_cube(FEStructure.from_codes(codes)) is None
    # symmetric pair codes (i, j) and (j, i) share a pair: not one exporter per pair
    t, i, j = (a.ravel() for a in np.meshgrid(np.arange(3), np.arange(5), np.arange(5), indexing="ij"))
    off = i != j
    t, i, j = t[off], i[off], j[off]
    sym = np.minimum(i, j) * 5 + np.maximum(i, j)
    codes = [np.unique(k, return_inverse=True)[1] for k in (t * 5 + i, t * 5 + j, sym)]
    assert detect_cube(FEStructure.from_codes(codes)) is None
    # two dimensions only
    assert detect_cube(FEStructure.from_codes(codes[:2])) is None


def test_cube_solve_gives_the_dummy_variable_least_squares_fit():
    """Partialling out on the cube path against ``numpy.linalg.lstsq`` of ``v`` on all dummies."""
    codes = _panel(3, 5, 4, seed=8, drop=0.2, repeat=6)
    fe = FEStructure.from_codes(codes)
    cube = detect_cube(fe)
    assert cube is not None
    rng = np.random.default_rng(9)
    n = fe.cg.shape[1]
    w = rng.uniform(0.2, 3.0, n)
    V = np.ascontiguousarray(rng.normal(size=(n, 2)))
    D = np.zeros((n, fe.n_groups))
    for d in range(3):
        D[np.arange(n), fe.cg[d].astype(np.int64)] = 1.0
    # twice with other weights (the cube's weight buffers are reused), on one and two threads
    for w_, threads in ((w, 1), (rng.uniform(0.2, 3.0, n), 2), (w, 2)):
        res = solve_fe(fe, w_, V, None, tol=1e-13, maxiter=10_000, cube=cube, threads=threads)
        assert res.converged
        sw = np.sqrt(w_)
        coef = np.linalg.lstsq(D * sw[:, None], V * sw[:, None], rcond=None)[0]
        fitted = np.stack([K.fe_sum(fe.cg, np.ascontiguousarray(res.alpha[:, c])) for c in range(2)], axis=1)
        np.testing.assert_allclose(fitted, D @ coef, rtol=1e-9, atol=1e-9)


def test_ppml_fit_is_the_same_with_and_without_the_cube():
    """A fit with the cube sweeps against the same fit with the cube switched off (row
    kernels): the same estimates."""
    from kaifang.estimate.hdfe import _core
    from kaifang.estimate.synthetic import gravity_panel

    d = gravity_panel(6_000, n_years=6, zero_share=0.3, seed=11).data
    xs = ["rta", "ln_tariff", "x1", "x2"]
    fe = [d["exp_year"].to_numpy(), d["imp_year"].to_numpy(), d["pair"].to_numpy()]
    args = (d["trade"].to_numpy(), d[xs].to_numpy(), fe)
    a = ppml_hdfe(*args, cluster=d["pair"].to_numpy())
    original = _core.detect_cube
    try:
        _core.detect_cube = lambda fes: None
        b = ppml_hdfe(*args, cluster=d["pair"].to_numpy())
    finally:
        _core.detect_cube = original
    assert a.diagnostics["cube_sweeps"] and not b.diagnostics["cube_sweeps"]
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-10)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-8)
