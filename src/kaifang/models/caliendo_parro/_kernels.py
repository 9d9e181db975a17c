"""Compiled kernel of the equilibrium map (numba), with the same arithmetic as the NumPy path.

``cp_map`` evaluates one step of the map G described in :mod:`.solver` with explicit loops, so
no temporaries are allocated; the solver uses it with ``[solver] engine = "numba"``. Importing
this module imports numba (the optional ``fast`` extra). The NumPy and numba engines are tested
against each other.
"""

from __future__ import annotations

import math

import numpy as np

from kaifang.errors import ScenarioError

try:  # pragma: no cover - exercised where numba is installed
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    numba = None
    HAVE_NUMBA = False
    raise ScenarioError(
        "[solver] engine = 'numba' needs numba, which is not installed; install it with "
        "`pip install 'kaifang[fast]'` or use engine = 'numpy'."
    ) from None

__all__ = ["HAVE_NUMBA", "cp_map", "warm_up"]


def _cp_map(v, out, n, j, tr, nt, gva, gio, gio_t, alpha, th, pk, pk_f, pk_r, lkappa_nt, va, dnew, lc, u, s):
    """Write G(v) into ``out``; ``lc`` (N, J), ``u`` and ``s`` (JT, N) are work arrays (filled)."""
    nw = n
    npj = n * j
    jt = tr.shape[0]
    # input costs: lc[n, j] = gva[n, j] lw[n] + sum_k gio[n, k, j] lp[n, k]  (gio_t[n, j, k])
    for a in range(n):
        lw = v[a]
        base = nw + a * j
        for b in range(j):
            acc = gva[a, b] * lw
            for k in range(j):
                acc += gio_t[a, b, k] * v[base + k]
            lc[a, b] = acc
    # traded sectors: u = c-hat^-theta (shifted), S = sum_i pk u, new log prices
    for q in range(jt):
        b = tr[q]
        ref = 0.0
        for i in range(n):
            ref += lc[i, b]
        ref /= n
        for i in range(n):
            u[q, i] = math.exp(-th[q] * (lc[i, b] - ref))
        for a in range(n):
            acc = 0.0
            for i in range(n):
                acc += pk[q, a, i] * u[q, i]
            s[q, a] = acc
            out[nw + a * j + b] = ref - math.log(acc) / th[q]
    for q in range(nt.shape[0]):
        b = nt[q]
        for a in range(n):
            out[nw + a * j + b] = lc[a, b] + lkappa_nt[a, q]
    # gross output and tariff revenue from current expenditure
    y = np.zeros((n, j))
    rev = np.zeros(n)
    yq = np.empty(n)
    for q in range(jt):
        b = tr[q]
        for i in range(n):
            yq[i] = 0.0
        for a in range(n):
            ratio = math.exp(v[nw + npj + a * j + b]) / s[q, a]
            accr = 0.0
            for i in range(n):
                yq[i] += pk_f[q, a, i] * ratio
                accr += pk_r[q, a, i] * u[q, i]
            rev[a] += accr * ratio
        for i in range(n):
            y[i, b] = yq[i] * u[q, i]
    for q in range(nt.shape[0]):
        b = nt[q]
        for a in range(n):
            y[a, b] = math.exp(v[nw + npj + a * j + b])
    # new expenditure and wages
    total = 0.0
    wn = np.empty(n)
    for a in range(n):
        inc = math.exp(v[a]) * va[a] + rev[a] + dnew[a]
        bill = 0.0
        for k in range(j):
            acc = alpha[a, k] * inc
            for b in range(j):
                acc += gio[a, k, b] * y[a, b]
            out[nw + npj + a * j + k] = math.log(acc)
            bill += gva[a, k] * y[a, k]
        wn[a] = bill / va[a]
        total += bill
    for a in range(n):
        out[a] = math.log(wn[a] / total)


cp_map = (
    numba.njit(cache=True, nogil=True, fastmath=False, error_model="numpy")(_cp_map)
    if HAVE_NUMBA
    else _cp_map
)


def warm_up() -> float:
    """Compile (or load from numba's cache) the kernel on a tiny problem; return the seconds taken.

    The runner calls it before timing the equilibrium solves, so ``solve_seconds`` measures
    solving, not compiling.
    """
    import time

    if not HAVE_NUMBA:
        return 0.0
    t0 = time.perf_counter()
    n, j = 2, 2
    tr, nt = np.array([0], dtype=np.intp), np.array([1], dtype=np.intp)
    f2, f3 = np.full((n, j), 0.5), np.full((n, j, j), 0.25)
    pk = np.full((1, n, n), 0.5)
    v = np.zeros(n + 2 * n * j)
    cp_map(
        v, np.empty_like(v), n, j, tr, nt, f2, f3, f3.copy(), f2.copy(), np.ones(1), pk, pk * 0.9, pk * 0.1,
        np.zeros((n, 1)), np.full(n, 0.5), np.zeros(n), np.empty((n, j)), np.empty((1, n)), np.empty((1, n)),
    )  # fmt: skip
    return time.perf_counter() - t0
