"""A deliberately naive, dense implementation of the decompositions, for tiny tables only.

Written straight from the textbook formulas (Koopman, Wang and Wei 2014, eq. 36; Wang, Wei and
Zhu 2013, eq. 37; Hummels, Ishii and Yi 2001), with explicit inverses, explicit N x N blocks and
explicit loops over every country index the formulas sum over. It shares no code with
:mod:`kaifang.valuechains`; the tests compare the two.
"""

from __future__ import annotations

import numpy as np


class Naive:
    """All pieces of the decompositions of one table, computed the slow, obvious way."""

    def __init__(self, Z: np.ndarray, Yfd: np.ndarray, x: np.ndarray, G: int, N: int):
        self.G, self.N = G, N
        n = G * N
        self.x = x
        A = np.zeros((n, n))
        for q in range(n):
            if x[q] != 0:
                A[:, q] = Z[:, q] / x[q]
        v = x - Z.sum(axis=0)
        self.c = np.array([v[q] / x[q] if x[q] != 0 else 0.0 for q in range(n)])
        self.A = A
        self.B = np.linalg.inv(np.eye(n) - A)
        self.Lss = [np.linalg.inv(np.eye(N) - self.blk(A, s, s)) for s in range(G)]
        self.Y = [[Yfd[s * N : (s + 1) * N, r] for r in range(G)] for s in range(G)]
        self.Z = Z
        # exports by destination, intermediate and final
        self.Eint = [
            [self.blk(Z, s, r).sum(axis=1) if r != s else np.zeros(N) for r in range(G)] for s in range(G)
        ]
        self.Efin = [[self.Y[s][r] if r != s else np.zeros(N) for r in range(G)] for s in range(G)]
        self.Esr = [[self.Eint[s][r] + self.Efin[s][r] for r in range(G)] for s in range(G)]
        self.E = [sum(self.Esr[s][r] for r in range(G)) for s in range(G)]
        self.F = [sum(self.Efin[s][r] for r in range(G)) for s in range(G)]
        cs = [self.c[s * N : (s + 1) * N] for s in range(G)]
        self.cs = cs
        # value-added multipliers m_ts = c_t' B_ts
        self.m = [[cs[t] @ self.blk(self.B, t, s) for s in range(G)] for t in range(G)]
        self.f = [sum(self.m[t][s] for t in range(G) if t != s) for s in range(G)]
        self.l = [cs[s] @ self.Lss[s] for s in range(G)]

    def blk(self, M: np.ndarray, s: int, r: int) -> np.ndarray:
        N = self.N
        return M[s * N : (s + 1) * N, r * N : (r + 1) * N]

    def xs(self, r: int) -> np.ndarray:
        return self.x[r * self.N : (r + 1) * self.N]

    # ------------------------------------------------------------------ HIY
    def hiy_matrix(self) -> np.ndarray:
        """H = diag(c) B diag(E) by two dense products."""
        Evec = np.concatenate(self.E)
        return np.diag(self.c) @ self.B @ np.diag(Evec)

    # ------------------------------------------------------------------ KWW
    def kww(self) -> dict[str, np.ndarray]:
        """KWW terms per country from eq. (36), closed-form FDC, explicit sums over r and t."""
        G = self.G
        B, A = self.B, self.A
        out = {
            k: np.zeros(G)
            for k in (
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
        }
        for s in range(G):
            c = self.cs[s]
            out["DVA_FIN"][s] = c @ self.blk(B, s, s) @ sum(self.Y[s][r] for r in range(G) if r != s)
            for r in range(G):
                if r == s:
                    continue
                out["DVA_INT"][s] += c @ self.blk(B, s, r) @ self.Y[r][r]
                out["DVA_INTrex"][s] += (
                    c
                    @ self.blk(B, s, r)
                    @ sum((self.Y[r][t] for t in range(G) if t not in (s, r)), np.zeros(self.N))
                )
                out["RDV_FIN"][s] += c @ self.blk(B, s, r) @ self.Y[r][s]
                brals = self.blk(B, s, r) @ self.blk(A, r, s) @ self.Lss[s]
                out["RDV_INT"][s] += c @ brals @ self.Y[s][s]
                out["DDC"][s] += c @ brals @ self.E[s]
                out["FVA_INT"][s] += self.f[s] @ (self.blk(A, s, r) @ self.Lss[r] @ self.Y[r][r])
                out["FDC"][s] += self.f[s] @ (self.blk(A, s, r) @ self.Lss[r] @ self.E[r])
            out["FVA_FIN"][s] = self.f[s] @ self.F[s]
        return out

    # ------------------------------------------------------------------ WWZ
    def wwz(self) -> np.ndarray:
        """The sixteen terms, ``[s, i, r, term]``, from the formulas one by one."""
        G, N = self.G, self.N
        B, A = self.B, self.A
        out = np.zeros((G, N, G, 16))
        for s in range(G):
            ls, mss = self.l[s], self.m[s][s]
            for r in range(G):
                if r == s:
                    continue
                Asr = self.blk(A, s, r)
                Brr = self.blk(B, r, r)
                third = [t for t in range(G) if t not in (s, r)]
                mrs = self.m[r][s]
                osr = sum(self.m[t][s] for t in range(G) if t not in (s, r)) if third else np.zeros(N)
                T = out[s, :, r]
                T[:, 0] = mss * self.Y[s][r]
                T[:, 1] = ls * (Asr @ Brr @ self.Y[r][r])
                T[:, 2] = ls * (Asr @ sum((self.blk(B, r, t) @ self.Y[t][t] for t in third), np.zeros(N)))
                T[:, 3] = ls * (Asr @ Brr @ sum((self.Y[r][t] for t in third), np.zeros(N)))
                acc = np.zeros(N)
                for t in third:
                    acc += self.blk(B, r, t) @ sum(
                        (self.Y[t][u] for u in range(G) if u not in (s, t)), np.zeros(N)
                    )
                T[:, 4] = ls * (Asr @ acc)
                T[:, 5] = ls * (Asr @ self.blk(B, r, s) @ self.Y[s][s])
                T[:, 6] = ls * (Asr @ Brr @ self.Y[r][s])
                T[:, 7] = ls * (Asr @ sum((self.blk(B, r, t) @ self.Y[t][s] for t in third), np.zeros(N)))
                T[:, 8] = osr * self.Y[s][r]
                T[:, 9] = mrs * self.Y[s][r]
                T[:, 10] = osr * (Asr @ self.Lss[r] @ self.Y[r][r])
                T[:, 11] = mrs * (Asr @ self.Lss[r] @ self.Y[r][r])
                T[:, 12] = ls * (Asr @ self.blk(B, r, s) @ self.F[s])
                T[:, 13] = (mss - ls) * (Asr @ self.xs(r))
                T[:, 14] = osr * (Asr @ self.Lss[r] @ self.E[r])
                T[:, 15] = mrs * (Asr @ self.Lss[r] @ self.E[r])
        return out

    def dvix(self) -> np.ndarray:
        """DViX_Fsr = c_s # (L_ss E_sr), ``[s, i, r]``."""
        G, N = self.G, self.N
        out = np.zeros((G, N, G))
        for s in range(G):
            for r in range(G):
                out[s, :, r] = self.cs[s] * (self.Lss[s] @ self.Esr[s][r])
        return out
