"""The decompositions as arrays: HIY origin, KWW nine terms, WWZ sixteen terms.

Every function takes a :class:`~kaifang.valuechains._system.ValueChains` and returns plain NumPy
arrays in the axis order its docstring states. Formulas and names: ``docs/valuechains.md``.

The computation never forms a ``GN x G GN`` array. Each WWZ intermediate term is
``weight_s # (A_sr w_{r|s})`` with an N-vector ``w_{r|s}``: the ``w`` of one term are the columns
of one ``GN x G`` matrix ``W`` (column s for exporter s), obtained from products of the masked
inverses ``B^F`` and ``B^D`` with ``GN x G`` matrices; the contraction with the blocks ``A_sr``
is one batched product over the ``G x G`` pairs (``(GN)^2`` multiply-adds per term).
"""

from __future__ import annotations

import numpy as np

from kaifang.valuechains._system import ValueChains

__all__ = ["KWW_TERMS", "WWZ_TERMS", "hiy_by_country", "hiy_matrix", "kww_terms", "wwz_terms"]

#: The nine KWW (2014) terms, in order.
KWW_TERMS: tuple[str, ...] = (
    "DVA_FIN",
    "DVA_INT",
    "DVA_INTrex",
    "RDV_FIN",
    "RDV_INT",
    "DDC",
    "FVA_FIN",
    "FVA_INT",
    "FDC",
)

#: The sixteen WWZ (2013) terms, in decompr's order.
WWZ_TERMS: tuple[str, ...] = (
    "DVA_FIN",
    "DVA_INT",
    "DVA_INTrexI1",
    "DVA_INTrexF",
    "DVA_INTrexI2",
    "RDV_INT",
    "RDV_FIN",
    "RDV_FIN2",
    "OVA_FIN",
    "MVA_FIN",
    "OVA_INT",
    "MVA_INT",
    "DDC_FIN",
    "DDC_INT",
    "ODC",
    "MDC",
)


# --------------------------------------------------------------------------- HIY / Leontief
def hiy_matrix(vc: ValueChains) -> np.ndarray:
    """H = diag(c) B diag(E): value added of source (t, j) in the exports of (s, i), ``(n, n)``."""
    return vc.c[:, None] * vc.B * vc.exports.reshape(-1)[None, :]


def hiy_by_country(vc: ValueChains) -> np.ndarray:
    """H_ts = m_ts E_s: value added of source region t in the exports of region s, ``(G, G)``
    indexed ``[t, s]``."""
    return np.einsum("tsi,si->ts", vc.M, vc.exports)


# --------------------------------------------------------------------------- KWW
def _memo(name: str):
    """Compute a decomposition once per system; later calls get the same read-only arrays."""

    def wrap(fn):
        def inner(vc: ValueChains):
            if name not in vc.memo:
                out = fn(vc)
                for a in out if isinstance(out, tuple) else (out,):
                    a.setflags(write=False)
                vc.memo[name] = out
            return vc.memo[name]

        inner.__doc__, inner.__name__ = fn.__doc__, fn.__name__
        return inner

    return wrap


@_memo("kww")
def kww_terms(vc: ValueChains) -> tuple[np.ndarray, np.ndarray]:
    """The nine KWW terms by region, ``(G, 9)`` in :data:`KWW_TERMS` order, with FDC the
    residual (gross exports less terms 1-8), and the closed form of FDC, ``(G,)``.

    Terms read the diagonal (s, s) of ``GN x G`` products (Koopman, Wang and Wei 2014, eq. 36):

    1. m_ss F_s; 2. c_s'(B^F y^d)_s; 3. c_s'(B^F Q)_{s,s} with Q_{t,s} = F_t - Y_{t,s} (t != s);
    4. c_s'(B^F Y^F)_{s,s}; 5. (m_ss - l_s) y^d_s and 6. (m_ss - l_s) E_s, since
    sum_r B_sr A_rs L_ss = B_ss - L_ss, with m_ss - l_s computed without cancellation; 7. f_s F_s;
    8. f_s (A^F L y^d)_s; 9. f_s (A^F L E)_s (closed form).
    """
    g, n = vc.G, vc.N
    c = vc.c.reshape(g, n)
    F = vc.final_exports.reshape(g, n)
    yd = vc.home_final
    E = vc.exports
    BF_rows = vc.B_foreign.reshape(g, n, g * n)
    q = _q_third(vc)
    t1 = vc.m_home * F
    t2 = c * (vc.B_foreign @ yd).reshape(g, n)
    t3 = c * np.einsum("sip,ps->si", BF_rows, q)
    t4 = c * np.einsum("sip,ps->si", BF_rows, vc.final_to)
    Lyd = vc.home_blocks(vc.L, yd)
    LE = vc.home_blocks(vc.L, E.reshape(-1))
    t5 = vc.returned * yd.reshape(g, n)
    t6 = vc.returned * E
    t7 = vc.f_foreign * F
    t8 = vc.f_foreign * (vc.A_foreign @ Lyd).reshape(g, n)
    t9 = vc.f_foreign * (vc.A_foreign @ LE).reshape(g, n)
    first8 = np.stack([t.sum(axis=1) for t in (t1, t2, t3, t4, t5, t6, t7, t8)], axis=1)
    fdc = vc.gross_exports - first8.sum(axis=1)
    return np.column_stack([first8, fdc]), t9.sum(axis=1)


def _q_third(vc: ValueChains) -> np.ndarray:
    """Q_{t,s} = F_t - Y_{t,s} for t != s (zero for t = s): final exports of t to countries other
    than s, ``(n, G)``."""
    return np.where(vc.home, 0.0, vc.final_exports[:, None] - vc.final)


# --------------------------------------------------------------------------- WWZ
@_memo("wwz")
def wwz_terms(vc: ValueChains) -> np.ndarray:
    """The sixteen WWZ terms, ``(G, N, G, 16)`` indexed ``[s, i, r, term]`` (exporter, exporting
    industry, importer; :data:`WWZ_TERMS` order). Rows with r = s are zero.

    Wang, Wei and Zhu (2013, revised 2018), eq. (37) and table E1; decompr's term order.
    """
    g, n = vc.G, vc.N
    BF = vc.B_foreign
    yd = vc.home_final
    F = vc.final_exports
    Yf = vc.final_to  # Y^F: final demand with the home blocks zeroed
    q = _q_third(vc)
    off = ~vc.home

    # W matrices (n, G): column s holds w_{r|s} in the rows of r
    q1 = np.where(vc.home, 0.0, yd[:, None])  # y^d without the block of s
    bf_q = BF @ np.hstack([q1, q, Yf])  # one (n, n) x (n, 3G) product
    w3, w5, w8 = bf_q[:, :g], bf_q[:, g : 2 * g], bf_q[:, 2 * g :]
    w2 = vc.home_blocks(vc.B_home, yd)  # B_rr Y_rr, the same for every s
    w4 = vc.home_blocks(vc.B_home, q)  # B_rr (F_r - Y_rs)
    w6 = np.where(off, vc.times_home_columns(vc.B, yd), 0.0)  # B_rs Y_ss
    w7 = vc.home_blocks(vc.B_home, Yf)  # B_rr Y_rs
    w13 = np.where(off, vc.times_home_columns(vc.B, F), 0.0)  # B_rs F_s
    w_ly = vc.home_blocks(vc.L, yd)  # L_rr Y_rr
    w_le = vc.home_blocks(vc.L, vc.exports.reshape(-1))  # L_rr E_r

    # stack as [s, r, j, k]: the k-th w_{r|s}
    def pairs(w: np.ndarray) -> np.ndarray:
        if w.ndim == 1:
            return np.broadcast_to(w.reshape(1, g, n), (g, g, n))
        return w.reshape(g, n, g).transpose(2, 0, 1)

    W = np.stack([pairs(w) for w in (w2, w3, w4, w5, w6, w7, w8, w13, w_ly, w_le)], axis=-1)
    P = np.matmul(vc.A_pairs, W)  # [s, r, i, k] = sum_j (A_sr)_ij w_k[r|s]_j

    ls = vc.l_home[:, None, :]  # (G, 1, N), weight of exporter s
    mss = vc.m_home[:, None, :]
    mrs = vc.M.transpose(1, 0, 2)  # [s, r, i] = m_rs,i
    o = vc.f_foreign[:, None, :] - mrs  # third-country multiplier o_sr
    y_sr = Yf.reshape(g, n, g).transpose(0, 2, 1)  # [s, r, i]
    eint_sr = vc.intermediate_to.reshape(g, n, g).transpose(0, 2, 1)

    out = np.empty((g, g, n, 16))
    out[..., 0] = mss * y_sr  # DVA_FIN
    for pos, k in ((1, 0), (2, 1), (3, 2), (4, 3), (5, 4), (6, 5), (7, 6), (12, 7)):
        out[..., pos] = ls * P[..., k]  # DVA_INT ... RDV_FIN2, DDC_FIN
    out[..., 8] = o * y_sr  # OVA_FIN
    out[..., 9] = mrs * y_sr  # MVA_FIN
    out[..., 10] = o * P[..., 8]  # OVA_INT
    out[..., 11] = mrs * P[..., 8]  # MVA_INT
    out[..., 13] = vc.returned[:, None, :] * eint_sr  # DDC_INT: (m_ss - l_s) # A_sr x_r
    out[..., 14] = o * P[..., 9]  # ODC
    out[..., 15] = mrs * P[..., 9]  # MDC
    idx = np.arange(g)
    out[idx, idx] = 0.0  # r = s is not an export (the factors above vanish there already)
    return np.ascontiguousarray(out.transpose(0, 2, 1, 3))


def domestic_forward(vc: ValueChains) -> np.ndarray:
    """DViX_Fsr = c_s # (L_ss E_{s,r}): home value added of industry i in the exports to r,
    allocated to the industry that creates it (domestic rounds only), ``(G, N, G)`` ``[s, i, r]``."""
    g, n = vc.G, vc.N
    le = np.einsum("sij,sjr->sir", vc.L, vc.exports_to.reshape(g, n, g))
    return vc.c.reshape(g, n)[:, :, None] * le
