"""Reference implementation of the decompositions along the route of the R package decompr.

decompr (Quast and Kummritz; KWW by Krantz) cannot run here (no R). This module follows its
route in NumPy, written independently of kaifang: two full ``GN x GN`` inverses (the global
Leontief inverse B and the full ``(I - A^D)^-1``), block-masked copies of A and B, and each term
formed with dense ``GN x GN x GN`` matrix products whose blocks are masked afterwards, then
reduced block by block. It is deliberately straightforward; ``bench_gvc.py`` times it against
:mod:`kaifang.valuechains` on the same table and checks that both agree.

Products of this route (dense, ``GN x GN`` by ``GN x GN``): Leontief 2 (diag(c) B diag(E));
KWW 4 (diag(c) B, B^F A^F, (B^F A^F) L, A^F L); WWZ 9 (A^F B^D, B^F Z1, B^D Z4, B^F Z4, B^F Z6,
B^D Z7, B^F Z7, B^F Z13, A^F L).
"""

from __future__ import annotations

import numpy as np


def _blocks_zero(m: np.ndarray, g: int, n: int, keep_diagonal: bool) -> np.ndarray:
    out = np.zeros_like(m) if keep_diagonal else m.copy()
    for s in range(g):
        sl = slice(s * n, (s + 1) * n)
        if keep_diagonal:
            out[sl, sl] = m[sl, sl]
        else:
            out[sl, sl] = 0.0
    return out


def _block_colsum(m: np.ndarray, g: int, n: int) -> np.ndarray:
    """(GN, G): row p, column r = sum of m[p, columns of r]."""
    return m.reshape(m.shape[0], g, n).sum(axis=2)


class DecomprRoute:
    """Set-up like decompr's ``load_tables_vectors``: every matrix of the route, dense."""

    def __init__(self, Z: np.ndarray, Yfd: np.ndarray, x: np.ndarray, g: int, n: int):
        gn = g * n
        self.g, self.n, self.gn = g, n, gn
        self.x = x
        with np.errstate(divide="ignore", invalid="ignore"):
            A = Z / x[None, :]
            vc = (x - Z.sum(axis=0)) / x
        A[~np.isfinite(A)] = 0.0
        vc[~np.isfinite(vc)] = 0.0
        eye = np.eye(gn)
        self.A, self.Vc = A, vc
        self.B = np.linalg.inv(eye - A)  # inverse 1
        self.Ad = _blocks_zero(A, g, n, keep_diagonal=True)
        self.Am = _blocks_zero(A, g, n, keep_diagonal=False)
        self.Bd = _blocks_zero(self.B, g, n, keep_diagonal=True)
        self.Bm = _blocks_zero(self.B, g, n, keep_diagonal=False)
        self.L = np.linalg.inv(eye - self.Ad)  # inverse 2 (full GN x GN)
        self.Y = Yfd
        home = np.repeat(np.eye(g, dtype=bool), n, axis=0)
        self.Yd = np.where(home, Yfd, 0.0)
        self.Ym = np.where(home, 0.0, Yfd)
        Eint = _block_colsum(Z, g, n)
        Eint[home] = 0.0
        self.Eint, self.Efd = Eint, self.Ym.copy()
        self.ESR = Eint + self.Efd
        self.E = self.ESR.sum(axis=1)
        self.home = home

    # ------------------------------------------------------------------ Leontief
    def leontief(self) -> np.ndarray:
        """diag(c) B diag(E) as two dense products."""
        return (np.diag(self.Vc) @ self.B) @ np.diag(self.E)

    # ------------------------------------------------------------------ KWW
    def kww(self) -> np.ndarray:
        """Nine terms by country ``(G, 9)``; FDC as the residual."""
        g, n, gn = self.g, self.n, self.gn
        B, Vc = self.B, self.Vc
        Xc = B @ self.Y
        _VB = np.diag(Vc) @ B  # decompr forms it (a dense product) before using its elements
        VBY = Xc * Vc[:, None]
        VBY[self.home] = 0.0
        vae = VBY.sum(axis=1)
        T1 = Vc * (self.Bd @ self.Ym).sum(axis=1)
        yd = self.Yd.sum(axis=1)
        T2 = Vc * (self.Bm @ yd)
        T3 = vae - (T1 + T2)
        T4 = Vc * (self.Bm @ self.Ym)[self.home]
        tmp = (self.Bm @ self.Am) @ self.L
        T5 = Vc * (tmp @ self.Yd)[self.home]
        Ediag = self.Yd.copy()
        Ediag[self.home] = self.E
        T6 = Vc * (tmp @ Ediag)[self.home]
        Yms = self.Ym.sum(axis=1)
        AmLYds = ((self.Am @ self.L) @ self.Yd).sum(axis=1)
        T7, T8 = np.zeros(gn), np.zeros(gn)
        for s in range(g):
            rows = np.r_[0 : s * n, (s + 1) * n : gn]
            cols = slice(s * n, (s + 1) * n)
            part = Vc[rows, None] * B[rows, cols]  # foreign value added per unit of s's output
            by_industry = part.reshape(g - 1, n, n).sum(axis=0)  # rowsum over countries
            T7[cols] = by_industry @ Yms[cols]
            T8[cols] = by_industry @ AmLYds[cols]
        T9 = self.E - (vae + T4 + T5 + T6 + T7 + T8)
        terms = np.stack([T1, T2, T3, T4, T5, T6, T7, T8, T9], axis=1)
        return terms.reshape(g, n, 9).sum(axis=1)

    # ------------------------------------------------------------------ WWZ
    def wwz(self) -> np.ndarray:
        """Sixteen terms ``(G, N, G, 16)`` [exporter, industry, importer, term]."""
        g, n, gn = self.g, self.n, self.gn
        Am, Bd, Bm, L, Vc = self.Am, self.Bd, self.Bm, self.L, self.Vc
        ALL = np.zeros((gn, g, 16))
        mss = (Bd * Vc[:, None]).sum(axis=0)
        ls = (Vc[:, None] * L).sum(axis=0)
        ALL[:, :, 0] = self.Ym * mss[:, None]
        ALL[:, :, 1] = (Am @ Bd) @ self.Yd * ls[:, None]

        def by_block(mat: np.ndarray) -> np.ndarray:
            return ls[:, None] * _block_colsum(mat, g, n)

        # term 3: y^d in every column, blocks on the diagonal zeroed
        z1 = np.repeat(self.Yd.sum(axis=1)[:, None], gn, axis=1)
        z1 = _blocks_zero(z1, g, n, keep_diagonal=False)
        z2 = _blocks_zero(Bm @ z1, g, n, keep_diagonal=False)
        ALL[:, :, 2] = by_block(Am * z2.T)
        # terms 4 and 5: column block r holds F - Y_{., r}, diagonal blocks zeroed
        F = self.Ym.sum(axis=1)
        z = np.zeros((gn, gn))
        for r in range(g):
            z[:, r * n : (r + 1) * n] = (F - self.Ym[:, r])[:, None]
        z = _blocks_zero(z, g, n, keep_diagonal=False)
        ALL[:, :, 3] = by_block(Am * (Bd @ z).T)
        ALL[:, :, 4] = by_block(Am * _blocks_zero((Bm @ z).T, g, n, keep_diagonal=False))
        # term 6: column block r holds Y_{., r} of home final use
        z = np.zeros((gn, gn))
        for r in range(g):
            z[:, r * n : (r + 1) * n] = self.Yd[:, r][:, None]
        ALL[:, :, 5] = by_block(Am * (Bm @ z).T)
        # terms 7 and 8: column block r holds final exports to r
        z = np.zeros((gn, gn))
        for r in range(g):
            z[:, r * n : (r + 1) * n] = self.Ym[:, r][:, None]
        ALL[:, :, 6] = by_block(Am * (Bd @ z).T)
        ALL[:, :, 7] = by_block(Am * _blocks_zero(Bm @ z, g, n, keep_diagonal=False).T)
        # term 13: diagonal block r holds F_r
        z = np.zeros((gn, gn))
        for r in range(g):
            sl = slice(r * n, (r + 1) * n)
            z[sl, sl] = F[sl][:, None]
        ALL[:, :, 12] = by_block(Am * (Bm @ z).T)
        # term 14
        ALL[:, :, 13] = (mss - ls)[:, None] * _block_colsum(Am * self.x[None, :], g, n)
        # terms 9-12, 15-16
        VrBrs = Vc[:, None] * Bm
        AmL = Am @ L
        for r in range(g):
            sl = slice(r * n, (r + 1) * n)
            not_r = np.r_[0 : r * n, (r + 1) * n : gn]
            z = VrBrs * self.Ym[:, r][None, :]
            ALL[:, r, 8] = z[not_r].sum(axis=0)
            ALL[:, r, 9] = z[sl].sum(axis=0)
            zz = AmL @ self.Yd[:, r]
            z = VrBrs * zz[None, :]
            ALL[:, r, 10] = z[not_r].sum(axis=0)
            ALL[:, r, 11] = z[sl].sum(axis=0)
            Er = np.zeros(gn)
            Er[sl] = self.E[sl]
            zz = AmL @ Er
            z = VrBrs * zz[None, :]
            ALL[:, r, 14] = z[not_r].sum(axis=0)
            ALL[:, r, 15] = z[sl].sum(axis=0)
        return ALL.reshape(g, n, g, 16)
