"""Compiled evaluation of the Caliendo–Parro equilibrium map (numba, single-threaded).

One call of :func:`evaluate` is one evaluation of the map G of
:mod:`kaifang.models.caliendo_parro.solver` (see that module for the equations and the state
layout). What makes it cheap at scale is the order of the loops over the (sector, importer,
exporter) arrays: for each row ``(j, n, .)`` the last price sweep computes
S_{jn} = sum_i pk_{jni} u_{ji} and, with the row still in the cache, the producer-price part
sum_i pk_f_{jni} u_{ji} and the row's contribution pk_f_{jni} X'_{nj} / S_{jn} to gross output of
every exporter i. So the last price sweep and the first expenditure sweep read each trade-share
array once from memory, where NumPy's matrix products read them once per product.

The tariff part of the shares, pk_t = pk tau' / (1 + tau') (so pk_f = pk - pk_t), comes either as a
dense array (``pk_f`` itself, for worlds with tariffs on most cells) or as a sparse row list
(``t_ptr``, ``t_idx``, ``t_val`` over the flat rows ``j * N + n``, for worlds with few or no
tariffs: then only ``pk`` is read densely).

Floating point: sums may be reassociated (``fastmath`` without the no-NaN/no-inf assumptions,
so a non-finite value still propagates to the solver, which restarts on it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["evaluate"]

#: Reassociation and fused multiply-add only: NaN and inf keep their IEEE meaning.
_FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _input_costs(K, k0, theta, wp, lc, ref, u):  # pragma: no cover - compiled
    """log c-hat of the traded sectors ``lc (N, JT)`` and u = exp(theta (ref - lc)) ``(JT, N)``."""
    n, jt, m = K.shape
    for r in range(n):
        for j in range(jt):
            acc = k0[r, j]
            for c in range(m):
                acc += K[r, j, c] * wp[r, c]
            lc[r, j] = acc
    for j in range(jt):
        acc = 0.0
        for r in range(n):
            acc += lc[r, j]
        ref[j] = acc / n  # shift for overflow safety
        for r in range(n):
            u[j, r] = math.exp(theta[j] * (ref[j] - lc[r, j]))


@njit(cache=True, nogil=True, fastmath=_FASTMATH)
def evaluate(
    v,
    out,
    K,
    k0,
    theta,
    pk,
    pk_f,
    dense,
    t_ptr,
    t_idx,
    t_val,
    E,
    H,
    h,
    va,
    deficit,
    comp,
    va_comp,
    price_sweeps,
    expenditure_sweeps,
):  # pragma: no cover - compiled
    """Write G(v) into ``out``; see the module docstring and :class:`.solver._EquilibriumMap`.

    ``pk`` ``(JT, N, N)``; ``pk_f`` the same shape when ``dense`` (else unused); ``comp`` the
    numeraire group of every region and ``va_comp`` each group's share of world value added.
    """
    jt, n, _ = pk.shape
    j = E.shape[1] - 1
    nt = j - jt
    k = n * (j + 1)
    wp = np.empty((n, jt + 1))
    for r in range(n):
        for c in range(jt + 1):
            wp[r, c] = v[r * (j + 1) + c]
    lc = np.empty((n, jt))
    ref = np.empty(jt)
    u = np.empty((jt, n))
    s = np.empty((jt, n))
    q = np.zeros((jt, n))  # tariff part of S: sum_i pk_t u
    yacc = np.empty((jt, n))
    z = np.empty((jt, n))
    x = np.empty((n, j))
    for r in range(n):
        for c in range(j):
            x[r, c] = math.exp(v[k + r * j + c])
    # price sweeps before the last: S only
    for _ in range(price_sweeps - 1):
        _input_costs(K, k0, theta, wp, lc, ref, u)
        for jj in range(jt):
            for r in range(n):
                acc = 0.0
                for i in range(n):
                    acc += pk[jj, r, i] * u[jj, i]
                wp[r, jj] = ref[jj] - math.log(acc) / theta[jj]
    # the last price sweep, fused with the first expenditure sweep's products
    _input_costs(K, k0, theta, wp, lc, ref, u)
    for jj in range(jt):
        for i in range(n):
            yacc[jj, i] = 0.0
        for r in range(n):
            a = 0.0
            if dense:
                b = 0.0
                for i in range(n):
                    a += pk[jj, r, i] * u[jj, i]
                    b += pk_f[jj, r, i] * u[jj, i]
                zz = x[r, jj] / a
                for i in range(n):
                    yacc[jj, i] += pk_f[jj, r, i] * zz
                q[jj, r] = a - b
            else:
                for i in range(n):
                    a += pk[jj, r, i] * u[jj, i]
                zz = x[r, jj] / a
                for i in range(n):
                    yacc[jj, i] += pk[jj, r, i] * zz
                row = jj * n + r
                b = 0.0
                for p in range(t_ptr[row], t_ptr[row + 1]):
                    i = t_idx[p]
                    b += t_val[p] * u[jj, i]
                    yacc[jj, i] -= t_val[p] * zz
                q[jj, r] = b
            s[jj, r] = a
            z[jj, r] = zz
    # the new traded prices
    wp_out = out[:k]
    for r in range(n):
        for jj in range(jt):
            wp_out[r * (j + 1) + jj] = ref[jj] - math.log(s[jj, r]) / theta[jj]
    # expenditure sweeps
    yi = np.empty(jt + 1)
    labour = np.empty(n)
    income_va = np.empty(n)
    for r in range(n):
        income_va[r] = math.exp(wp[r, jt]) * va[r] + deficit[r]
    for sweep in range(expenditure_sweeps):
        if sweep > 0:  # z from the new X', gross output from another pass over pk_f
            for jj in range(jt):
                for i in range(n):
                    yacc[jj, i] = 0.0
                for r in range(n):
                    zz = x[r, jj] / s[jj, r]
                    z[jj, r] = zz
                    if dense:
                        for i in range(n):
                            yacc[jj, i] += pk_f[jj, r, i] * zz
                    else:
                        for i in range(n):
                            yacc[jj, i] += pk[jj, r, i] * zz
                        row = jj * n + r
                        for p in range(t_ptr[row], t_ptr[row + 1]):
                            yacc[jj, t_idx[p]] -= t_val[p] * zz
        for r in range(n):
            rev = 0.0
            for jj in range(jt):
                yi[jj] = u[jj, r] * yacc[jj, r]  # gross output Y'
                rev += z[jj, r] * q[jj, r]  # tariff revenue R'
            yi[jt] = income_va[r] + rev  # income I'
            for c in range(j + 1):
                acc = 0.0
                for m in range(jt + 1):
                    acc += E[r, c, m] * yi[m]
                if c < j:
                    x[r, c] = acc
                else:
                    labour[r] = acc
    # labour-market clearing, with world (or each isolated group's) value added unchanged
    w_new = np.empty(n)
    total = np.zeros(va_comp.size)
    for r in range(n):
        w_new[r] = labour[r] / va[r]
        total[comp[r]] += w_new[r] * va[r]
    for r in range(n):
        w_new[r] *= va_comp[comp[r]] / total[comp[r]]
        wp_out[r * (j + 1) + jt] = math.log(w_new[r])
    # non-traded prices (returned for the record; the map does not read them)
    for r in range(n):
        base = r * (j + 1)
        for c in range(nt):
            acc = h[r, c]
            for m in range(jt + 1):
                acc += H[r, c, m] * wp_out[base + m]
            wp_out[base + jt + 1 + c] = acc
        for c in range(j):
            out[k + r * j + c] = math.log(x[r, c])
