"""Dense-cube sweeps for the gravity design: exporter-time, importer-time and pair effects.

When the three fixed-effect dimensions are exporter-time, importer-time and pair groups,
each row is a cell ``(t, i, j)`` of a period × exporter × importer cube, and every group is a
line of that cube: exporter-time ``(t, i)``, importer-time
``(t, j)``, pair ``(i, j)``. The block Gauss-Seidel sweep of ``_kernels.gauss_seidel_sweep``
then needs no codes at all: with the weights laid out as dense arrays ``W[t, i, j]`` (and their
transpose ``W[t, j, i]``, zero for absent cells), each dimension's update is a sum of
contiguous multiply-adds over the last axis, which the compiler vectorises, instead of a
gather of two coefficients and a scatter per row. Same sweep, same order of the dimensions,
so the same iterates up to rounding (one sweep at 200,000 rows: one column 0.64 to 0.2 ms,
four columns 1.4 to 0.75 ms).

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

    def weight_buffers(self) -> tuple[np.ndarray, np.ndarray]:
        """Two flat arrays of the cube's size for the weights and their transpose, allocated
        on the first call and the same ones afterwards (one fit solves several times: fresh
        pages for every solve cost more than the pass that fills them)."""
        if not self._buffers:
            size = int(np.prod(self.shape))
            self._buffers.extend((np.empty(size), np.empty(size)))
        return self._buffers[0], self._buffers[1]


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
def cube_weights(cell: np.ndarray, w: np.ndarray, NI: int, NJ: int, Wc: np.ndarray, WcT: np.ndarray) -> None:
    """Row weights summed into the flat cube ``Wc`` (``(T, NI, NJ)``) and its transposed copy
    ``WcT`` (``(T, NJ, NI)``, one period's block at a time: cache-friendly)."""
    for c in range(Wc.shape[0]):
        Wc[c] = 0.0
    for r in range(w.shape[0]):
        Wc[cell[r]] += w[r]
    T = Wc.shape[0] // (NI * NJ)
    for t in range(T):
        base = t * NI * NJ
        for i in range(NI):
            row = base + i * NJ
            for j in range(NJ):
                WcT[base + j * NI + i] = Wc[row + j]


@njit(cache=True, nogil=True)
def cube_sweep(
    Wc: np.ndarray,
    WcT: np.ndarray,
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

    ``Wc`` is the flat ``(T, NI, NJ)`` weight cube and ``WcT`` its ``(T, NJ, NI)`` transpose;
    ``order`` lists the roles (0 exporter-time, 1 importer-time, 2 pair) in the order of their
    fixed-effect dimensions. ``change[c]`` receives the largest relative change of column ``c``.
    """
    T, NI = gE.shape
    NJ = gI.shape[1]
    m = a_in.shape[1]
    aE, aI, aP, aPT, acc, accP = cube_planes(T, NI, NJ, m)
    cube_sweep_ws(
        Wc, WcT, gE, gI, gP, order, S, inv_w, a_in, a_out, change, aE, aI, aP, aPT, acc, accP, False
    )


@njit(cache=True, nogil=True)
def cube_planes(T: int, NI: int, NJ: int, m: int):
    """Fresh (zero) planes and scratch for :func:`cube_sweep_ws`."""
    return (
        np.zeros((m, T, NI)),
        np.zeros((m, T, NJ)),
        np.zeros((m, NI, NJ)),
        np.zeros((m, NJ, NI)),
        np.zeros(max(NI, NJ)),
        np.zeros((m, NI, NJ)),
    )


@njit(cache=True, nogil=True)
def cube_sweep_ws(
    Wc: np.ndarray,
    WcT: np.ndarray,
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
    aPT: np.ndarray,
    acc: np.ndarray,
    accP: np.ndarray,
    gathered: bool,
) -> None:
    """:func:`cube_sweep` in the caller's planes of line coefficients ``aE`` ``(m, T, NI)``,
    ``aI`` ``(m, T, NJ)``, ``aP`` ``(m, NI, NJ)``, ``aPT`` ``(m, NJ, NI)`` (zero where a line
    has no group, as from ``np.zeros``) and scratch ``acc`` ``(max(NI, NJ),)`` and ``accP``
    ``(m, NI, NJ)``. After the sweep the planes hold ``a_out``; with ``gathered`` the caller
    says they hold ``a_in`` already (``a_in`` is the previous sweep's ``a_out``), and the
    gather of ``a_in`` into them is skipped (the same values: the same sweep).
    """
    G, m = a_in.shape
    for g in range(G):
        for c in range(m):
            a_out[g, c] = a_in[g, c]
    for c in range(m):
        change[c] = 0.0
    if not gathered:  # else the planes hold a_in already (the previous sweep's output)
        _gather_planes(gE, gI, gP, a_out, aE, aI, aP, aPT)
    _sweep_planes(Wc, WcT, gE, gI, gP, order, S, inv_w, a_out, change, aE, aI, aP, aPT, acc, accP)


@njit(cache=True, nogil=True)
def _gather_planes(gE, gI, gP, a_out, aE, aI, aP, aPT):
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
                    aPT[c, j, i] = a_out[g, c]


@njit(cache=True, nogil=True, inline="always")  # the loops as if written out in the caller
def _time_update(W3, a_other, a_pair, a_self, g_self, S, inv_w, a_out, change, acc):
    """One time role of a plane sweep: for each period ``t`` and line ``k`` of the updated role,
    ``a_self[c, t, k] = (S - sum_l W3[t, l, k] (a_other[c, t, l] + a_pair[c, l, k])) / w``.
    Exporter-time runs it on the transposed weights (lines: exporters, summed over importers),
    importer-time on the weights as they are."""
    T, n_other, n_self = W3.shape
    G, m = a_out.shape
    for t in range(T):  # one period's weights at a time, for every column (the block stays in cache)
        Wt = W3[t]
        for c in range(m):
            xo = a_other[c, t]
            pc = a_pair[c]
            for k in range(n_self):
                acc[k] = 0.0
            for ell in range(n_other):
                x = xo[ell]
                row = Wt[ell]
                pr = pc[ell]
                for k in range(n_self):
                    acc[k] += row[k] * (x + pr[k])
            out = a_self[c, t]
            for k in range(n_self):
                g = g_self[t, k]
                if g < G:
                    v = (S[g, c] - acc[k]) * inv_w[g]
                    ch = abs(a_out[g, c] - v) / (0.1 + abs(v))
                    if ch > change[c]:
                        change[c] = ch
                    a_out[g, c] = v
                    out[k] = v


@njit(cache=True, nogil=True)
def _sweep_planes(Wc, WcT, gE, gI, gP, order, S, inv_w, a_out, change, aE, aI, aP, aPT, acc, accP):
    T, NI = gE.shape
    NJ = gI.shape[1]
    G, m = a_out.shape
    W3 = Wc.reshape((T, NI, NJ))
    W3T = WcT.reshape((T, NJ, NI))
    for role in order:
        if role == 0:  # exporter-time: sum over importers of W (a_I + a_P)
            _time_update(W3T, aI, aPT, aE, gE, S, inv_w, a_out, change, acc)
        elif role == 1:  # importer-time: sum over exporters of W (a_E + a_P)
            _time_update(W3, aE, aP, aI, gI, S, inv_w, a_out, change, acc)
        else:  # pairs: sum over periods of W (a_E + a_I)
            for c in range(m):
                for i in range(NI):
                    for j in range(NJ):
                        accP[c, i, j] = 0.0
            for t in range(T):
                Wt = W3[t]
                for c in range(m):
                    aEc = aE[c, t]
                    aIc = aI[c, t]
                    ac = accP[c]
                    for i in range(NI):
                        x = aEc[i]
                        row = Wt[i]
                        ap = ac[i]
                        for j in range(NJ):
                            ap[j] += row[j] * (x + aIc[j])
            for c in range(m):
                ac = accP[c]
                aPc = aP[c]
                aPTc = aPT[c]
                for i in range(NI):
                    for j in range(NJ):
                        g = gP[i, j]
                        if g < G:
                            v = (S[g, c] - ac[i, j]) * inv_w[g]
                            ch = abs(a_out[g, c] - v) / (0.1 + abs(v))
                            if ch > change[c]:
                                change[c] = ch
                            a_out[g, c] = v
                            aPc[i, j] = v
                            aPTc[j, i] = v


@njit(cache=True, nogil=True, parallel=True)
def cube_sweep_par(
    Wc: np.ndarray,
    WcT: np.ndarray,
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
                Wc, WcT, gE, gI, gP, order, S[:, c0:c1], inv_w, a_in[:, c0:c1], a_out[:, c0:c1], change[c0:c1]
            )


@njit(cache=True, nogil=True, inline="always")  # the loops as if written out in the caller
def _ipf_time_update(B3, a_other, a_pair, a_self, g_self, sy, A_out, acc):
    """One time role of :func:`cube_ipf_sweep`: ``A[g] = sy[g] / sum_l B3[t, l, k] a_other[t, l]
    a_pair[l, k]`` for each period ``t`` and line ``k`` of the updated role (0 where the sum is 0)."""
    T, n_other, n_self = B3.shape
    G = A_out.shape[0]
    for t in range(T):
        for k in range(n_self):
            acc[k] = 0.0
        for ell in range(n_other):
            x = a_other[t, ell]
            row = B3[t, ell]
            pr = a_pair[ell]
            for k in range(n_self):
                acc[k] += row[k] * (x * pr[k])
        for k in range(n_self):
            g = g_self[t, k]
            if g < G:
                v = sy[g] / acc[k] if acc[k] > 0.0 else 0.0
                A_out[g] = v
                a_self[t, k] = v


@njit(cache=True, nogil=True)
def cube_ipf_sweep(
    Bc: np.ndarray,
    BcT: np.ndarray,
    gE: np.ndarray,
    gI: np.ndarray,
    gP: np.ndarray,
    order: np.ndarray,
    sy: np.ndarray,
    A_in: np.ndarray,
    A_out: np.ndarray,
) -> None:
    """One sweep of iterative proportional fitting (``_kernels.ipf_sweep``) on the dense cube.

    ``Bc`` (``(T, NI, NJ)``, flat) and ``BcT`` hold the rows' base rates ``base_i`` (weights
    times the exponentiated offset); each dimension in turn gets ``A[g] = sy[g] / sum_{i in g}
    base_i prod_{e != d} A_e[g_e(i)]`` (0 where that sum is 0).
    """
    T, NI = gE.shape
    NJ = gI.shape[1]
    G = A_in.shape[0]
    B3 = Bc.reshape((T, NI, NJ))
    B3T = BcT.reshape((T, NJ, NI))
    for g in range(G):
        A_out[g] = A_in[g]
    aE = np.zeros((T, NI))
    aI = np.zeros((T, NJ))
    aP = np.zeros((NI, NJ))
    aPT = np.zeros((NJ, NI))
    acc = np.zeros(max(NI, NJ))
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
                aPT[j, i] = A_out[g]
    for role in order:
        if role == 0:  # exporter-time, on the transposed base rates
            _ipf_time_update(B3T, aI, aPT, aE, gE, sy, A_out, acc)
        elif role == 1:  # importer-time
            _ipf_time_update(B3, aE, aP, aI, gI, sy, A_out, acc)
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
                        aPT[j, i] = v
