"""The Leontief system of a world input-output table, computed once and shared by every decomposition.

Notation follows ``docs/valuechains.md``: G regions, N industries, positions ``s * N + i``
(region first). Inside this module arrays are plain NumPy in documented axis orders; ``(G, N)``
arrays are indexed ``[s, i]`` (region, industry), ``(n, G)`` arrays (``n = G N``) have one
column per region.

Conventions (``docs/valuechains.md``, "Conventions"):

* gross output is the table's own ``x`` (use :meth:`InputOutputTable.balanced` to make every
  accounting identity exact);
* final demand is summed over categories, inventories included;
* the rest of the world is a region like any other, the world is closed;
* exports are all cross-border sales, intermediate and final, of every industry;
* an industry with zero output has zero input and value-added coefficients and may not export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.errors import UserInputError

__all__ = ["ValueChainError", "ValueChains", "prepare"]


class ValueChainError(UserInputError):
    """A table cannot be decomposed (an exporting industry without output, no Leontief inverse),
    or a decomposition was asked for with an invalid option."""


def _describe(table: InputOutputTable) -> str:
    ds = table.dataset or "table"
    return f"{ds} {table.year}" if table.year else ds


@dataclass(frozen=True, eq=False)
class ValueChains:
    """The Leontief system of one table: input and value-added coefficients, the global and the
    domestic Leontief inverses, value-added multipliers and exports.

    Build it with :func:`prepare`; every function of :mod:`kaifang.valuechains` accepts it in
    place of the table, so that several decompositions of one table share its one inverse.
    Immutable; the pieces only some decompositions need are computed on first use.

    Attributes
    ----------
    table
        The table decomposed.
    A
        Input coefficients ``Z diag(x)^-1``, ``(n, n)``; zero columns for zero-output industries.
    c
        Value-added coefficients ``v / x``, ``(n,)`` (zero where ``x = 0``).
    B
        Global Leontief inverse ``(I - A)^-1``, ``(n, n)``.
    L
        Domestic Leontief inverses ``(I - A_ss)^-1``, ``(G, N, N)``.
    M
        Value-added multipliers ``m_ts = c_t' B_ts`` as ``(G, G, N)`` indexed ``[t, s, i]``: value
        added created in region t per unit of output of industry i of region s.
    final
        Final demand by destination (categories summed), ``(n, G)``.
    exports_to
        Exports by destination ``E_{s,r}``, intermediate plus final, ``(n, G)`` (zero for r = s).
    intermediate_to, final_to
        Their intermediate and final parts, ``(n, G)``.
    """

    table: InputOutputTable
    A: np.ndarray = field(repr=False)
    c: np.ndarray = field(repr=False)
    B: np.ndarray = field(repr=False)
    L: np.ndarray = field(repr=False)
    M: np.ndarray = field(repr=False)
    final: np.ndarray = field(repr=False)
    exports_to: np.ndarray = field(repr=False)
    intermediate_to: np.ndarray = field(repr=False)
    final_to: np.ndarray = field(repr=False)
    #: Results of the decompositions, computed once per system (filled by kaifang.valuechains).
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    # ----------------------------------------------------------------- sizes and labels
    @property
    def G(self) -> int:
        """Number of regions."""
        return self.table.n_regions

    @property
    def N(self) -> int:
        """Number of industries."""
        return self.table.n_sectors

    @property
    def regions(self) -> tuple[str, ...]:
        return self.table.regions

    @property
    def sectors(self) -> tuple[str, ...]:
        return self.table.sectors

    # ----------------------------------------------------------------- masks and vectors
    @cached_property
    def home(self) -> np.ndarray:
        """``(n, G)`` boolean: row (t, k) belongs to region t = column s."""
        g, n = self.G, self.N
        return np.repeat(np.eye(g, dtype=bool), n, axis=0)

    @cached_property
    def exports(self) -> np.ndarray:
        """Total exports of each industry E_s = sum over r != s of E_{s,r}, ``(G, N)``."""
        return self.exports_to.sum(axis=1).reshape(self.G, self.N)

    @cached_property
    def gross_exports(self) -> np.ndarray:
        """Gross exports of each region GE_s, ``(G,)``."""
        return self.exports.sum(axis=1)

    @cached_property
    def home_final(self) -> np.ndarray:
        """y^d: each region's final use of its own goods, Y_{s,s}, ``(n,)``."""
        return np.where(self.home, self.final, 0.0).sum(axis=1)

    @cached_property
    def final_exports(self) -> np.ndarray:
        """F: final-goods exports of each industry, ``(n,)``."""
        return self.final_to.sum(axis=1)

    # ----------------------------------------------------------------- multipliers
    @cached_property
    def m_home(self) -> np.ndarray:
        """Domestic value-added multiplier m_ss, ``(G, N)``."""
        g = np.arange(self.G)
        return self.M[g, g]

    @cached_property
    def f_foreign(self) -> np.ndarray:
        """Foreign value-added multiplier f_s = sum over t != s of m_ts, ``(G, N)``."""
        g = np.arange(self.G)
        off = self.M.copy()
        off[g, g] = 0.0
        return off.sum(axis=0)

    @cached_property
    def l_home(self) -> np.ndarray:
        """Domestic-round multiplier l_s = c_s' L_ss, ``(G, N)``."""
        return np.einsum("sj,sji->si", self.c.reshape(self.G, self.N), self.L)

    @cached_property
    def returned(self) -> np.ndarray:
        """m_ss - l_s, the home value added that comes back in imported inputs, ``(G, N)``.

        Computed as ``l_s sum_{r != s} A_sr B_rs`` (no subtraction of two numbers near one:
        ``B_ss = L_ss + L_ss sum_{r != s} A_sr B_rs``).
        """
        g, n = self.G, self.N
        af_rows = self.A_foreign.reshape(g, n, g * n)
        out = np.empty((g, n))
        for s in range(g):
            cs = af_rows[s] @ self.B[:, s * n : (s + 1) * n]  # sum_r A_sr B_rs, (N, N)
            out[s] = self.l_home[s] @ cs
        return out

    # ----------------------------------------------------------------- block-masked matrices
    @cached_property
    def A_foreign(self) -> np.ndarray:
        """A^F: A with its diagonal (domestic) blocks set to zero, ``(n, n)``."""
        return _zero_diagonal_blocks(self.A, self.G, self.N)

    @cached_property
    def B_foreign(self) -> np.ndarray:
        """B^F: B with its diagonal blocks set to zero, ``(n, n)``."""
        return _zero_diagonal_blocks(self.B, self.G, self.N)

    @cached_property
    def B_home(self) -> np.ndarray:
        """The diagonal blocks B_ss of B, ``(G, N, N)``."""
        g, n = self.G, self.N
        b4 = self.B.reshape(g, n, g, n)
        idx = np.arange(g)
        return np.ascontiguousarray(b4[idx, :, idx, :])

    @cached_property
    def A_pairs(self) -> np.ndarray:
        """A^F as ``(G, G, N, N)`` indexed ``[s, r, i, j]`` = (A_sr)_ij (contiguous)."""
        g, n = self.G, self.N
        return np.ascontiguousarray(self.A_foreign.reshape(g, n, g, n).transpose(0, 2, 1, 3))

    # ----------------------------------------------------------------- helpers
    def home_blocks(self, blocks: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Apply block-diagonal ``blocks`` ``(G, N, N)`` to ``w``: ``(n,)`` or ``(n, K)``."""
        g, n = self.G, self.N
        if w.ndim == 1:
            return np.einsum("sij,sj->si", blocks, w.reshape(g, n)).reshape(-1)
        return np.einsum("sij,sjk->sik", blocks, w.reshape(g, n, -1)).reshape(g * n, -1)

    def times_home_columns(self, mat: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``mat`` ``(n, n)`` times the ``(n, G)`` matrix whose column s is ``w`` restricted to the
        rows of region s (a block-diagonal right-hand side), computed in ``n^2`` operations."""
        g, n = self.G, self.N
        return (mat.reshape(-1, g, n) * w.reshape(g, n)).sum(axis=2)


def _zero_diagonal_blocks(m: np.ndarray, g: int, n: int) -> np.ndarray:
    out = m.copy()
    v = out.reshape(g, n, g, n)
    idx = np.arange(g)
    v[idx, :, idx, :] = 0.0
    return out


def prepare(table: InputOutputTable | ValueChains) -> ValueChains:
    """The Leontief system of ``table`` (returned unchanged if it already is one).

    Costs one explicit ``GN x GN`` inverse (the global Leontief inverse; its diagonal blocks are
    needed, so a factorisation alone is not enough) and G inverses of ``N x N`` domestic blocks.

    Raises
    ------
    ValueChainError
        When an industry with zero output exports (its exports would have no value-added
        origin) or when ``I - A`` has no inverse; the message names the industry.
    """
    if isinstance(table, ValueChains):
        return table
    if not isinstance(table, InputOutputTable):
        raise TypeError(
            f"value-chain decompositions take an InputOutputTable (kaifang.baseline.InputOutputTable), "
            f"not {type(table).__name__}."
        )
    g, n = table.n_regions, table.n_sectors
    gn = g * n
    x = np.asarray(table.x, dtype=float)
    Z = np.asarray(table.Z, dtype=float)
    final = np.array(table.final_by_region, dtype=float)
    home = np.repeat(np.eye(g, dtype=bool), n, axis=0)

    inter_to = Z.reshape(gn, g, n).sum(axis=2)
    inter_to[home] = 0.0
    final_to = np.where(home, 0.0, final)
    exports_to = inter_to + final_to

    zero = x == 0
    if zero.any():
        sells = np.abs(exports_to[zero]).sum(axis=1)
        if (sells > 0).any():
            p = np.flatnonzero(zero)[int(np.argmax(sells))]
            raise ValueChainError(
                f"{_describe(table)}: {table.label(p)} has zero gross output but exports "
                f"{sells.max():.6g} {table.units or ''}".rstrip()
                + "; exports of an industry without output have no value-added origin. Give the "
                "industry its output (or rebuild output from the rows with InputOutputTable.balanced()) "
                "or remove its sales."
            )
    inv_x = np.divide(1.0, x, out=np.zeros_like(x), where=~zero)
    A = Z * inv_x[None, :]
    c = (x - Z.sum(axis=0)) * inv_x
    B = _leontief_inverse(A, table)
    L = _domestic_inverses(A, g, n, table)
    # M[t, s, i] = sum_j c_tj B[(t, j), (s, i)]
    M = np.einsum("tj,tjq->tq", c.reshape(g, n), B.reshape(g, n, gn)).reshape(g, g, n)
    for arr in (A, c, B, L, M, final, exports_to, inter_to, final_to):
        arr.setflags(write=False)
    return ValueChains(
        table=table,
        A=A,
        c=c,
        B=B,
        L=L,
        M=M,
        final=final,
        exports_to=exports_to,
        intermediate_to=inter_to,
        final_to=final_to,
    )


def _leontief_inverse(A: np.ndarray, table: InputOutputTable) -> np.ndarray:
    import scipy.linalg

    gn = A.shape[0]
    ima = -A
    ima[np.diag_indices(gn)] += 1.0
    try:
        B = scipy.linalg.inv(ima, overwrite_a=True, check_finite=False)
    except (np.linalg.LinAlgError, ValueError):
        B = None
    if B is None or not np.all(np.isfinite(B)):
        _no_inverse(A, table, "the world table")
    return B


def _domestic_inverses(A: np.ndarray, g: int, n: int, table: InputOutputTable) -> np.ndarray:
    a4 = A.reshape(g, n, g, n)
    idx = np.arange(g)
    blocks = np.eye(n)[None] - a4[idx, :, idx, :]
    try:
        L = np.linalg.inv(blocks)
    except np.linalg.LinAlgError:
        L = None
    if L is None or not np.all(np.isfinite(L)):
        _no_inverse(A, table, "a domestic block")
    return L


def _no_inverse(A: np.ndarray, table: InputOutputTable, where: str) -> None:
    colsum = A.sum(axis=0)
    q = int(np.argmax(colsum))
    raise ValueChainError(
        f"{_describe(table)}: the Leontief inverse of {where} does not exist (I - A is singular). "
        f"{table.label(q)} uses inputs worth {colsum[q]:.6g} times its output; every industry with "
        f"output must create some value added (inputs below output). Check the units of gross output."
    )
