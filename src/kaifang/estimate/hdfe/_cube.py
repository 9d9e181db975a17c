"""Dense-cube sweeps for the gravity design: exporter-time, importer-time and pair effects.

When the three fixed-effect dimensions are exporter-time, importer-time and pair groups,
each row is a cell ``(t, i, j)`` of a period × exporter × importer cube, and every group is a
line of that cube: exporter-time ``(t, i)``, importer-time
``(t, j)``, pair ``(i, j)``. The block Gauss-Seidel sweep of ``_kernels.gauss_seidel_sweep``
then needs no codes at all: with the weights laid out as a dense array ``W[t, i, j]`` (zero for
absent cells), each dimension's update runs over contiguous lines of it, which the compiler
vectorises, instead of a gather of two coefficients and a scatter per row: the importer-time
and pair updates add whole rows ``W[t, i, :]`` (multiply-adds over the last axis), the
exporter-time update takes one dot product per row. Same sweep, same order of the dimensions,
so the same iterates up to rounding (one sweep at 200,000 rows: one column 0.64 to 0.22 ms,
four columns 1.4 to 0.85 ms). One array of weights serves all three updates: a transposed
copy for the exporter-time update would cost a pass as long as the sweep's own at 1,000,000
cells, in every solve.

The structure is recognised from the codes alone (``detect_cube``): the exporter-time and
importer-time groups linked by rows form the periods, the exporter-time groups and pairs linked
by rows the exporters, the importer-time groups and pairs the importers; the design is a cube
when no two groups of a dimension fall on the same line. Rows that share a cell (repeated
observations) add their weights. The dense arrays are used only when the cube has at most
``MAX_FILL`` times as many cells as the fit has rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit, prange

if TYPE_CHECKING:
    from ._demean import FEStructure

#: largest ratio of cube cells to rows for which the dense layout is used
MAX_FILL = 2.0


@dataclass(frozen=True)
class Cube:
    """The period × exporter × importer layout of a three-way fixed-effect design.

    Attributes
    ----------
    roles
        ``(dE, dI, dP)``: which fixed-effect dimension holds the exporter-time, the
        importer-time and the pair groups.
    cell
        ``(n,)`` flat cell index ``(t * NI + i) * NJ + j`` of every row.
    gE, gI, gP
        ``(T, NI)``, ``(T, NJ)`` and ``(NI, NJ)`` global group index of every line (``G``, one
        past the last group, where the line has no group).
    """

    roles: tuple[int, int, int]
    cell: np.ndarray
    gE: np.ndarray
    gI: np.ndarray
    gP: np.ndarray
    _buffers: list = field(default_factory=list, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.gE.shape[0], self.gE.shape[1], self.gI.shape[1])

    def weight_buffer(self) -> np.ndarray:
        """A flat array of the cube's size for the weights, allocated on the first call and the
        same one afterwards (one fit solves several times: fresh pages for every solve cost
        more than the pass that fills them)."""
        if not self._buffers:
            self._buffers.append(np.empty(int(np.prod(self.shape))))
        return self._buffers[0]


@njit(cache=True, nogil=True)
def _find(parent: np.ndarray, x: int) -> int:
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _label(ca: np.ndarray, cb: np.ndarray, lo_a: int, na: int, lo_b: int, nb: int) -> np.ndarray:
    """Connected components of the bipartite graph of groups ``a`` and ``b`` joined by rows.

    Returns ``(na + nb,)`` component labels ``0 .. K - 1`` (``a`` groups first).
    """
    parent = np.arange(na + nb)
    for r in range(ca.shape[0]):
        x = _find(parent, np.int64(ca[r]) - lo_a)
        y = _find(parent, na + np.int64(cb[r]) - lo_b)
        if x != y:
            parent[x] = y
    label = np.full(na + nb, -1, dtype=np.int64)
    root = np.full(na + nb, -1, dtype=np.int64)
    k = 0
    for g in range(na + nb):
        r = _find(parent, g)
        if root[r] < 0:
            root[r] = k
            k += 1
        label[g] = root[r]
    return label


@njit(cache=True, nogil=True)
def _lines(
    key_a: np.ndarray, key_b: np.ndarray, n_a: int, n_b: int, lo: int, G: int
) -> tuple[np.ndarray, bool]:
    """``(n_a, n_b)`` table of the group on each line ``(key_a[g], key_b[g])`` (``G`` where none);
    ``False`` when two groups share a line."""
    out = np.full((n_a, n_b), G, dtype=np.int64)
    for g in range(key_a.shape[0]):
        a = key_a[g]
        b = key_b[g]
        if out[a, b] != G:
            return out, False
        out[a, b] = lo + g
    return out, True


def detect_cube(fe: FEStructure) -> Cube | None:
    """The cube layout of ``fe`` when its three dimensions are exporter-time, importer-time and
    pair groups (in any order, the pairs being the dimension with the most groups), else
    ``None`` (also when the cube would be too sparse)."""
    if fe.n_dims != 3:
        return None
    n = fe.cg.shape[1]
    b = fe.bounds
    G = fe.n_groups
    size = [int(b[d + 1] - b[d]) for d in range(3)]
    # the pairs are the largest dimension of a gravity design (exporters x importers against
    # periods x exporters): only that assignment is tried, so a design that is not a cube
    # costs three passes over the codes
    for dP in [max(range(3), key=lambda d: (size[d], d))]:
        dE, dI = (d for d in range(3) if d != dP)
        cE, cI, cP = fe.cg[dE], fe.cg[dI], fe.cg[dP]
        nE, nI, nP = size[dE], size[dI], size[dP]
        period = _label(cE, cI, b[dE], nE, b[dI], nI)
        exporter = _label(cE, cP, b[dE], nE, b[dP], nP)
        importer = _label(cI, cP, b[dI], nI, b[dP], nP)
        # every pair has rows, hence exporter-time groups: the labels of the exporter-time and
        # pair graph number the exporters (the same for importers)
        T = int(period.max()) + 1
        NI = int(exporter.max()) + 1
        NJ = int(importer.max()) + 1
        if T * NI * NJ > MAX_FILL * n:
            continue
        ex_E, ex_P = exporter[:nE], exporter[nE:]
        im_I, im_P = importer[:nI], importer[nI:]
        gE, ok_e = _lines(period[:nE], ex_E, T, NI, int(b[dE]), G)
        gI, ok_i = _lines(period[nE:], im_I, T, NJ, int(b[dI]), G)
        gP, ok_p = _lines(ex_P, im_P, NI, NJ, int(b[dP]), G)
        if not (ok_e and ok_i and ok_p):
            continue
        cell = _cells(cE, cI, b[dE], b[dI], period[:nE], ex_E, im_I, NI, NJ)
        return Cube(roles=(dE, dI, dP), cell=cell, gE=gE, gI=gI, gP=gP)
    return None


@njit(cache=True, nogil=True)
def _cells(
    cE: np.ndarray,
    cI: np.ndarray,
    loE: int,
    loI: int,
    t_of_E: np.ndarray,
    i_of_E: np.ndarray,
    j_of_I: np.ndarray,
    NI: int,
    NJ: int,
) -> np.ndarray:
    n = cE.shape[0]
    cell = np.empty(n, dtype=np.int64)
    for r in range(n):
        e = np.int64(cE[r]) - loE
        cell[r] = (t_of_E[e] * NI + i_of_E[e]) * NJ + j_of_I[np.int64(cI[r]) - loI]
    return cell


@njit(cache=True, nogil=True)
def cube_weights(cell: np.ndarray, w: np.ndarray, Wc: np.ndarray) -> None:
    """Row weights summed into the flat cube ``Wc`` (``(T, NI, NJ)``, zero for absent cells)."""
    for c in range(Wc.shape[0]):
        Wc[c] = 0.0
    for r in range(w.shape[0]):
        Wc[cell[r]] += w[r]


@njit(cache=True, nogil=True)
def cube_sweep(
    Wc: np.ndarray,
    gE: np.ndarray,
    gI: np.ndarray,
    gP: np.ndarray,
    order: np.ndarray,
    S: np.ndarray,
    inv_w: np.ndarray,
    a_in: np.ndarray,
    a_out: np.ndarray,
    change: np.ndarray,
) -> None:
    """One block Gauss-Seidel sweep (``_kernels.gauss_seidel_sweep``) on the dense cube.

    ``Wc`` is the flat ``(T, NI, NJ)`` weight cube; ``order`` lists the roles (0 exporter-time,
    1 importer-time, 2 pair) in the order of their fixed-effect dimensions. ``change[c]``
    receives the largest relative change of column ``c``.
    """
    T, NI = gE.shape
    NJ = gI.shape[1]
    m = a_in.shape[1]
    aE, aI, aP, acc, accP = cube_planes(T, NI, NJ, m)
    cube_sweep_ws(Wc, gE, gI, gP, order, S, inv_w, a_in, a_out, change, aE, aI, aP, acc, accP, False)


@njit(cache=True, nogil=True)
def cube_planes(T: int, NI: int, NJ: int, m: int):
    """Fresh (zero) planes and scratch for :func:`cube_sweep_ws`."""
    return (
        np.zeros((m, T, NI)),
        np.zeros((m, T, NJ)),
        np.zeros((m, NI, NJ)),
        np.zeros(NJ),
        np.zeros((m, NJ)),
    )


@njit(cache=True, nogil=True)
def cube_sweep_ws(
    Wc: np.ndarray,
    gE: np.ndarray,
    gI: np.ndarray,
    gP: np.ndarray,
    order: np.ndarray,
    S: np.ndarray,
    inv_w: np.ndarray,
    a_in: np.ndarray,
    a_out: np.ndarray,
    change: np.ndarray,
    aE: np.ndarray,
    aI: np.ndarray,
    aP: np.ndarray,
    acc: np.ndarray,
    accP: np.ndarray,
    gathered: bool,
) -> None:
    """:func:`cube_sweep` in the caller's planes of line coefficients ``aE`` ``(m, T, NI)``,
    ``aI`` ``(m, T, NJ)`` and ``aP`` ``(m, NI, NJ)`` (zero where a line has no group, as from
    ``np.zeros``) and scratch ``acc`` ``(NJ,)`` and ``accP`` ``(m, NJ)``. After the sweep
    the planes hold ``a_out``; with ``gathered`` the caller says they hold ``a_in`` already
    (``a_in`` is the previous sweep's ``a_out``), and the gather of ``a_in`` into them is
    skipped (the same values: the same sweep).
    """
    G, m = a_in.shape
    for g in range(G):
        for c in range(m):
            a_out[g, c] = a_in[g, c]
    for c in range(m):
        change[c] = 0.0
    if not gathered:  # else the planes hold a_in already (the previous sweep's output)
        _gather_planes(gE, gI, gP, a_out, aE, aI, aP)
    _sweep_planes(Wc, gE, gI, gP, order, S, inv_w, a_out, change, aE, aI, aP, acc, accP)


@njit(cache=True, nogil=True)
def _gather_planes(gE, gI, gP, a_out, aE, aI, aP):
    """The coefficients on the cube's lines, one plane per column (lines without a group keep
    their value: 0 in fresh planes)."""
    T, NI = gE.shape
    NJ = gI.shape[1]
    G, m = a_out.shape
    for t in range(T):
        for i in range(NI):
            g = gE[t, i]
            if g < G:
                for c in range(m):
                    aE[c, t, i] = a_out[g, c]
        for j in range(NJ):
            g = gI[t, j]
            if g < G:
                for c in range(m):
                    aI[c, t, j] = a_out[g, c]
    for i in range(NI):
        for j in range(NJ):
            g = gP[i, j]
            if g < G:
                for c in range(m):
                    aP[c, i, j] = a_out[g, c]


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _exporter_update(W3, aI, aP, aE, gE, S, inv_w, a_out, change):
    """The exporter-time role of a plane sweep: for each period ``t`` and exporter ``i`` with a
    group, ``aE[c, t, i] = (S - sum_j W3[t, i, j] (aI[c, t, j] + aP[c, i, j])) / w``: one dot
    product along a contiguous row of the weights (summed in vector lanes: ``reassoc``)."""
    T, NI, NJ = W3.shape
    G, m = a_out.shape
    for t in range(T):  # one period's weights at a time, for every column (the block stays in cache)
        Wt = W3[t]
        for c in range(m):
            ai = aI[c, t]
            pc = aP[c]
            out = aE[c, t]
            gt = gE[t]
            most = change[c]  # in a register for the line
            for i in range(NI):
                g = gt[i]
                if g < G:
                    row = Wt[i]
                    pr = pc[i]
                    s = 0.0
                    for j in range(NJ):
                        s += row[j] * (ai[j] + pr[j])
                    v = (S[g, c] - s) * inv_w[g]
                    most = max(most, abs(a_out[g, c] - v) / (0.1 + abs(v)))
                    a_out[g, c] = v
                    out[i] = v
            change[c] = most


@njit(cache=True, nogil=True, inline="always")  # the loop as if written out in the caller
def _store_line(sums, groups, c, S, inv_w, a_out, out, most):
    """The new coefficients of one line: ``v = (S[g, c] - sums[k]) / w[g]`` for each cell ``k``
    with a group ``g``, written to ``a_out`` and the plane's line ``out``; returns ``most``
    raised to the line's largest relative change."""
    G = a_out.shape[0]
    for k in range(sums.shape[0]):
        g = groups[k]
        if g < G:
            v = (S[g, c] - sums[k]) * inv_w[g]
            most = max(most, abs(a_out[g, c] - v) / (0.1 + abs(v)))
            a_out[g, c] = v
            out[k] = v
    return most


@njit(cache=True, nogil=True)
def _importer_update(W3, aE, aP, aI, gI, S, inv_w, a_out, change, acc):
    """The importer-time role of a plane sweep: for each period ``t`` and importer ``j``,
    ``aI[c, t, j] = (S - sum_i W3[t, i, j] (aE[c, t, i] + aP[c, i, j])) / w``, the sum taken
    as multiply-adds of whole rows ``W3[t, i, :]`` into ``acc``."""
    T, NI, NJ = W3.shape
    m = a_out.shape[1]
    for t in range(T):  # one period's weights at a time, for every column (the block stays in cache)
        Wt = W3[t]
        for c in range(m):
            xo = aE[c, t]
            pc = aP[c]
            for k in range(NJ):
                acc[k] = 0.0
            for i in range(NI):
                x = xo[i]
                row = Wt[i]
                pr = pc[i]
                for k in range(NJ):
                    acc[k] += row[k] * (x + pr[k])
            change[c] = _store_line(acc, gI[t], c, S, inv_w, a_out, aI[c, t], change[c])


@njit(cache=True, nogil=True)
def _pair_update(W3, aE, aI, aP, gP, S, inv_w, a_out, change, accP):
    """The pair role of a plane sweep: ``aP[c, i, j] = (S - sum_t W3[t, i, j] (aE[c, t, i] +
    aI[c, t, j])) / w``, summed over the periods into ``accP`` ``(m, NJ)``, one exporter's row
    at a time (its rows of sums, one per column, stay in the first-level cache while the
    periods' rows of weights are added)."""
    T, NI, NJ = W3.shape
    m = a_out.shape[1]
    for i in range(NI):
        for c in range(m):
            ap = accP[c]
            for j in range(NJ):
                ap[j] = 0.0
        for t in range(T):
            row = W3[t, i]
            for c in range(m):
                x = aE[c, t, i]
                ai = aI[c, t]
                ap = accP[c]
                for j in range(NJ):
                    ap[j] += row[j] * (x + ai[j])
        for c in range(m):  # the exporter's pairs, while their sums are in cache
            change[c] = _store_line(accP[c], gP[i], c, S, inv_w, a_out, aP[c, i], change[c])


@njit(cache=True, nogil=True)
def _sweep_planes(Wc, gE, gI, gP, order, S, inv_w, a_out, change, aE, aI, aP, acc, accP):
    T, NI = gE.shape
    NJ = gI.shape[1]
    W3 = Wc.reshape((T, NI, NJ))
    for role in order:
        if role == 0:  # exporter-time: sum over importers of W (a_I + a_P)
            _exporter_update(W3, aI, aP, aE, gE, S, inv_w, a_out, change)
        elif role == 1:  # importer-time: sum over exporters of W (a_E + a_P)
            _importer_update(W3, aE, aP, aI, gI, S, inv_w, a_out, change, acc)
        else:  # pairs: sum over periods of W (a_E + a_I)
            _pair_update(W3, aE, aI, aP, gP, S, inv_w, a_out, change, accP)


@njit(cache=True, nogil=True, parallel=True)
def cube_sweep_par(
    Wc: np.ndarray,
    gE: np.ndarray,
    gI: np.ndarray,
    gP: np.ndarray,
    order: np.ndarray,
    S: np.ndarray,
    inv_w: np.ndarray,
    a_in: np.ndarray,
    a_out: np.ndarray,
    change: np.ndarray,
    nt: int,
) -> None:
    """:func:`cube_sweep` with the columns split into ``nt`` blocks, one per thread.

    The columns of a sweep are independent (each reads only its own coefficients), so every
    column gets exactly the values of the one-thread sweep. A thread's work is a whole sweep
    of its columns (a few hundred microseconds on a 200,000-cell cube): one barrier per sweep.
    """
    m = a_in.shape[1]
    for t in prange(nt):
        c0 = t * m // nt
        c1 = (t + 1) * m // nt
        if c1 > c0:
            cube_sweep(
                Wc, gE, gI, gP, order, S[:, c0:c1], inv_w, a_in[:, c0:c1], a_out[:, c0:c1], change[c0:c1]
            )


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _ipf_exporter_update(B3, aI, aP, aE, gE, sy, A_out):
    """The exporter-time role of :func:`cube_ipf_sweep`: ``A[g] = sy[g] / sum_j B3[t, i, j]
    aI[t, j] aP[i, j]`` for each period ``t`` and exporter ``i`` (0 where the sum is 0)."""
    T, NI, NJ = B3.shape
    G = A_out.shape[0]
    for t in range(T):
        ai = aI[t]
        for i in range(NI):
            g = gE[t, i]
            if g < G:
                row = B3[t, i]
                pr = aP[i]
                s = 0.0
                for j in range(NJ):
                    s += row[j] * (ai[j] * pr[j])
                v = sy[g] / s if s > 0.0 else 0.0
                A_out[g] = v
                aE[t, i] = v


@njit(cache=True, nogil=True)
def cube_ipf_sweep(
    Bc: np.ndarray,
    gE: np.ndarray,
    gI: np.ndarray,
    gP: np.ndarray,
    order: np.ndarray,
    sy: np.ndarray,
    A_in: np.ndarray,
    A_out: np.ndarray,
) -> None:
    """One sweep of iterative proportional fitting (``_kernels.ipf_sweep``) on the dense cube.

    ``Bc`` (``(T, NI, NJ)``, flat) holds the rows' base rates ``base_i`` (weights times the
    exponentiated offset); each dimension in turn gets ``A[g] = sy[g] / sum_{i in g} base_i
    prod_{e != d} A_e[g_e(i)]`` (0 where that sum is 0).
    """
    T, NI = gE.shape
    NJ = gI.shape[1]
    G = A_in.shape[0]
    B3 = Bc.reshape((T, NI, NJ))
    for g in range(G):
        A_out[g] = A_in[g]
    aE = np.zeros((T, NI))
    aI = np.zeros((T, NJ))
    aP = np.zeros((NI, NJ))
    acc = np.zeros(NJ)
    accP = np.zeros((NI, NJ))
    for t in range(T):
        for i in range(NI):
            g = gE[t, i]
            if g < G:
                aE[t, i] = A_out[g]
        for j in range(NJ):
            g = gI[t, j]
            if g < G:
                aI[t, j] = A_out[g]
    for i in range(NI):
        for j in range(NJ):
            g = gP[i, j]
            if g < G:
                aP[i, j] = A_out[g]
    for role in order:
        if role == 0:  # exporter-time: one dot product per row of the base rates
            _ipf_exporter_update(B3, aI, aP, aE, gE, sy, A_out)
        elif role == 1:  # importer-time: rows of the base rates added up
            for t in range(T):
                for k in range(NJ):
                    acc[k] = 0.0
                for i in range(NI):
                    x = aE[t, i]
                    row = B3[t, i]
                    pr = aP[i]
                    for k in range(NJ):
                        acc[k] += row[k] * (x * pr[k])
                for k in range(NJ):
                    g = gI[t, k]
                    if g < G:
                        v = sy[g] / acc[k] if acc[k] > 0.0 else 0.0
                        A_out[g] = v
                        aI[t, k] = v
        else:
            for i in range(NI):
                for j in range(NJ):
                    accP[i, j] = 0.0
            for t in range(T):
                for i in range(NI):
                    x = aE[t, i]
                    row = B3[t, i]
                    ai = aI[t]
                    ap = accP[i]
                    for j in range(NJ):
                        ap[j] += row[j] * (x * ai[j])
            for i in range(NI):
                for j in range(NJ):
                    g = gP[i, j]
                    if g < G:
                        v = sy[g] / accP[i, j] if accP[i, j] > 0.0 else 0.0
                        A_out[g] = v
                        aP[i, j] = v
