"""Compiled loops of the HDFE engine (numba, no Python objects) and their thread dispatch.

Layout used throughout: ``cg`` is a ``(D, n)`` uint16 or uint32 array of *global* group indices
(the codes of dimension ``d`` are shifted by the number of groups of dimensions
``0 .. d-1``), so the fixed-effect coefficients of all dimensions live in one array
``alpha`` of shape ``(G, m)``, one column per variable being partialled out. ``V`` is an
``(n, m)`` C-ordered array of the variables, ``w`` the ``(n,)`` weights.

Every one-pass kernel exists twice: a single-threaded loop over a block of rows
(``_*_rows``) and a row-parallel version (``_*_par``: each of ``nt`` threads sums a block of
rows into its own copy). The public functions below take ``nt`` and call the
single-threaded loop directly when ``nt == 1``: a fit that uses one thread never enters a
parallel region (whose thread team would wait for busy cores on a loaded machine) and never
compiles a parallel kernel. Numba compiles every kernel lazily, on its first call, and caches
it on disk (``cache=True``). The kernels avoid whole-array expressions (``a[:] = b``,
``x += y``) because numba compiles a shape-checking error path for each of them, which more
than doubled the first-run compile time.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from . import _unrolled as U
from ._threads import max_threads, use_threads

__all__ = [
    "cluster_score_sums",
    "fe_sum",
    "gauss_seidel_sweep",
    "group_inverse_weights",
    "group_sums",
    "group_sums_and_inverse_weights",
    "group_totals",
    "ipf_sweep",
    "ipf_sweep_par",
    "irons_tuck",
    "mark_singletons_and_fe_separated",
    "max_threads",
    "nested_in",
    "poisson_deviance",
    "poisson_irls_update",
    "poisson_loglik",
    "poisson_working_residual",
    "residualise_columns",
    "residualise_gram_and_scores",
    "step_and_deviance",
    "weighted_centred_squares",
    "weighted_resid_gram",
    "weighted_resid_score",
    "weighted_score_partialled",
    "ylogy_minus_y",
]


@njit(cache=True, nogil=True)
def group_inverse_weights(cg: np.ndarray, w: np.ndarray, n_groups: int) -> np.ndarray:
    """``1 / sum_{i in g} w_i`` for every group ``g`` of every dimension (0 for empty groups)."""
    D, n = cg.shape
    sw = np.zeros(n_groups)
    for i in range(n):
        wi = w[i]
        for d in range(D):
            sw[cg[d, i]] += wi
    for g in range(n_groups):
        sw[g] = 1.0 / sw[g] if sw[g] > 0.0 else 0.0
    return sw


@njit(cache=True, nogil=True)
def group_totals(cg: np.ndarray, v: np.ndarray, n_groups: int) -> np.ndarray:
    """``sum_{i in g} v_i`` for every group ``g`` of every dimension."""
    D, n = cg.shape
    out = np.zeros(n_groups)
    for i in range(n):
        vi = v[i]
        for d in range(D):
            out[cg[d, i]] += vi
    return out


@njit(cache=True, nogil=True)
def group_sums(cg: np.ndarray, w: np.ndarray, V: np.ndarray, n_groups: int) -> np.ndarray:
    """``S[g, c] = sum_{i in g} w_i V[i, c]`` for every group of every dimension."""
    D, n = cg.shape
    m = V.shape[1]
    S = np.zeros((n_groups, m))
    for i in range(n):
        wi = w[i]
        for d in range(D):
            g = cg[d, i]
            for c in range(m):
                S[g, c] += wi * V[i, c]
    return S


# ---------------------------------------------------------------- Gauss-Seidel sweeps


@njit(cache=True, nogil=True)
def _accumulate(
    cg: np.ndarray, d: int, w: np.ndarray, a: np.ndarray, acc: np.ndarray, lo: int, i0: int, i1: int
) -> None:
    """``acc[g_d(i) - lo] += w_i sum_{e != d} a[g_e(i)]`` over rows ``i0 .. i1 - 1``.

    The general loop (any number of dimensions and columns); two and three dimensions with up
    to ``U.MAX_WIDTH`` columns use the unrolled kernels of ``_unrolled.py`` instead.
    """
    D = cg.shape[0]
    m = a.shape[1]
    gd = cg[d]
    for i in range(i0, i1):
        wi = w[i]
        g = gd[i] - lo
        for c in range(m):
            s = 0.0
            for e in range(D):
                if e != d:
                    s += a[cg[e, i], c]
            acc[g, c] += wi * s


@njit(cache=True, nogil=True)
def _sweep_general(
    cg: np.ndarray,
    w: np.ndarray,
    S: np.ndarray,
    inv_w: np.ndarray,
    bounds: np.ndarray,
    a_in: np.ndarray,
    a_out: np.ndarray,
    acc: np.ndarray,
    change: np.ndarray,
) -> None:
    D, n = cg.shape
    G, m = a_in.shape
    for g in range(G):
        for c in range(m):
            a_out[g, c] = a_in[g, c]
    for c in range(m):
        change[c] = 0.0
    for d in range(D):
        lo = bounds[d]
        hi = bounds[d + 1]
        for g in range(lo, hi):
            for c in range(m):
                acc[g, c] = 0.0
        _accumulate(cg, d, w, a_out, acc, 0, 0, n)
        for g in range(lo, hi):
            ig = inv_w[g]
            for c in range(m):
                v = (S[g, c] - acc[g, c]) * ig
                a_out[g, c] = v
                ch = abs(a_in[g, c] - v) / (0.1 + abs(v))
                if ch > change[c]:
                    change[c] = ch


@njit(cache=True, nogil=True, parallel=True)
def _sweep_general_par(
    cg: np.ndarray,
    w: np.ndarray,
    S: np.ndarray,
    inv_w: np.ndarray,
    bounds: np.ndarray,
    a_in: np.ndarray,
    a_out: np.ndarray,
    acc: np.ndarray,
    change: np.ndarray,
    nt: int,
) -> None:
    D, n = cg.shape
    G, m = a_in.shape
    for g in range(G):
        for c in range(m):
            a_out[g, c] = a_in[g, c]
    for c in range(m):
        change[c] = 0.0
    for d in range(D):
        lo = bounds[d]
        hi = bounds[d + 1]
        priv = np.zeros((nt, hi - lo, m))
        for t in prange(nt):
            _accumulate(cg, d, w, a_out, priv[t], lo, t * n // nt, (t + 1) * n // nt)
        for g in range(hi - lo):
            ig = inv_w[lo + g]
            for c in range(m):
                s = 0.0
                for t in range(nt):
                    s += priv[t, g, c]
                v = (S[lo + g, c] - s) * ig
                a_out[lo + g, c] = v
                ch = abs(a_in[lo + g, c] - v) / (0.1 + abs(v))
                if ch > change[c]:
                    change[c] = ch


def gauss_seidel_sweep(
    cg: np.ndarray,
    w: np.ndarray,
    S: np.ndarray,
    inv_w: np.ndarray,
    bounds: np.ndarray,
    a_in: np.ndarray,
    a_out: np.ndarray,
    acc: np.ndarray,
    threads: int = 1,
    change: np.ndarray | None = None,
) -> np.ndarray:
    """One sweep of alternating weighted projections on the coefficients (``a_out = F(a_in)``).

    ``cg`` is ``(D, n)`` here (one contiguous row of global codes per dimension). For each
    dimension ``d`` in turn, the coefficients of ``d`` are set to the weighted group means of the
    variable minus the (current) coefficients of the other dimensions:
    ``a_d[g] = (S[g] - sum_{i in g} w_i sum_{e != d} a_e[g_e(i)]) / sum_{i in g} w_i``.
    This is the block Gauss-Seidel step on the normal equations ``D'WD a = D'WV``.

    Two and three dimensions with up to ``U.MAX_WIDTH`` columns run the unrolled kernel of
    their width (compiled the first time that width occurs); anything else the general loop.
    ``acc`` is ``(G, m)`` scratch space. Returns ``change`` (filled in place when given): the
    largest relative change ``|a_in - a_out| / (0.1 + |a_out|)`` of every column, fixest's
    stopping rule, computed in the same pass.
    """
    if change is None:
        change = np.empty(a_in.shape[1])
    key = (cg.shape[0], a_in.shape[1])
    if threads > 1:
        use_threads(threads)
        fn = U.SWEEP_PAR.get(key)
        if fn is None:
            _sweep_general_par(cg, w, S, inv_w, bounds, a_in, a_out, acc, change, threads)
        else:
            fn(cg, w, S, inv_w, bounds, a_in, a_out, acc, change, threads)
        return change
    fn = U.SWEEP.get(key)
    if fn is None:
        _sweep_general(cg, w, S, inv_w, bounds, a_in, a_out, acc, change)
    else:
        fn(cg, w, S, inv_w, bounds, a_in, a_out, acc, change)
    return change


# ---------------------------------------------------------------- one-pass row kernels


#: rows per block of the Gram kernels: residuals of a block are written to a small buffer,
#: then every pair of columns is summed over the block in registers
_BLOCK = 256


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _block_gram(buf: np.ndarray, wb: np.ndarray, nb: int, loc: np.ndarray) -> None:
    """``loc[a, b] += sum_{i < nb} wb[i] buf[a, i] buf[b, i]`` for ``a <= b``.

    Each sum runs in vector lanes (``reassoc``: the order of the additions within a block is
    the compiler's, the same on every run).
    """
    m = buf.shape[0]
    for a in range(m):
        ba = buf[a]
        for b in range(a, m):
            bb = buf[b]
            s = 0.0
            for i in range(nb):
                s += wb[i] * ba[i] * bb[i]
            loc[a, b] += s


@njit(cache=True, nogil=True)
def _gram_rows(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha: np.ndarray, out: np.ndarray, i0: int, i1: int
) -> None:
    D = cg.shape[0]
    m = V.shape[1]
    buf = np.empty((m, _BLOCK))
    wb = np.empty(_BLOCK)
    loc = np.zeros((m, m))  # thread-local: no false sharing with the other threads' blocks
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for s0 in range(i0, i1, _BLOCK):
        nb = min(_BLOCK, i1 - s0)
        for ii in range(nb):
            i = s0 + ii
            if D == 3:  # the codes of a row read once (the usual three-way specification)
                p = c0[i]
                q = c1[i]
                t = c2[i]
                for c in range(m):
                    buf[c, ii] = V[i, c] - alpha[p, c] - alpha[q, c] - alpha[t, c]
            elif D == 2:
                p = c0[i]
                q = c1[i]
                for c in range(m):
                    buf[c, ii] = V[i, c] - alpha[p, c] - alpha[q, c]
            else:
                for c in range(m):
                    v = V[i, c]
                    for d in range(D):
                        v -= alpha[cg[d, i], c]
                    buf[c, ii] = v
            wb[ii] = w[i]
        _block_gram(buf, wb, nb, loc)
    for a in range(m):
        for b in range(m):
            out[a, b] += loc[a, b]


@njit(cache=True, nogil=True, parallel=True)
def _gram_par(cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha: np.ndarray, nt: int) -> np.ndarray:
    n = cg.shape[1]
    m = V.shape[1]
    parts = np.zeros((nt, m, m))
    for t in prange(nt):
        _gram_rows(cg, w, V, alpha, parts[t], t * n // nt, (t + 1) * n // nt)
    out = np.zeros((m, m))
    for t in range(nt):
        for a in range(m):
            for b in range(m):
                out[a, b] += parts[t, a, b]
    return out


def weighted_resid_gram(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha: np.ndarray, nt: int = 1
) -> np.ndarray:
    """``sum_i w_i r_i r_i'`` where ``r_i = V_i - sum_d alpha[cg[d, i]]`` (residualised rows).

    ``nt`` threads each sum a block of rows.
    """
    if nt > 1:
        use_threads(nt)
        upper = _gram_par(cg, w, V, alpha, nt)
    else:
        m = V.shape[1]
        upper = np.zeros((m, m))
        _gram_rows(cg, w, V, alpha, upper, 0, cg.shape[1])
    return np.triu(upper) + np.triu(upper, 1).T


@njit(cache=True, nogil=True)
def _residualise_gram_and_scores(
    cg: np.ndarray,
    X: np.ndarray,
    alpha: np.ndarray,
    W: np.ndarray,
    w_user: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    out: np.ndarray,
    i0: int,
    i1: int,
) -> None:
    """Rows ``i0 .. i1 - 1`` of the covariance pass; adds the upper triangle of ``H`` to ``out``."""
    D = cg.shape[0]
    k = X.shape[1]
    buf = np.empty((k, _BLOCK))
    wb = np.empty(_BLOCK)
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for s0 in range(i0, i1, _BLOCK):
        nb = min(_BLOCK, i1 - s0)
        for ii in range(nb):
            i = s0 + ii
            u = w_user[i] * (y[i] - mu[i])
            if D == 3:
                p = c0[i]
                q = c1[i]
                t = c2[i]
                for c in range(k):
                    v = X[i, c] - alpha[p, c] - alpha[q, c] - alpha[t, c]
                    buf[c, ii] = v
                    X[i, c] = u * v
            else:
                for c in range(k):
                    v = X[i, c]
                    for d in range(D):
                        v -= alpha[cg[d, i], c]
                    buf[c, ii] = v
                    X[i, c] = u * v
            wb[ii] = W[i]
        _block_gram(buf, wb, nb, out)


@njit(cache=True, nogil=True, parallel=True)
def _residualise_gram_and_scores_par(
    cg: np.ndarray,
    X: np.ndarray,
    alpha: np.ndarray,
    W: np.ndarray,
    w_user: np.ndarray,
    y: np.ndarray,
    mu: np.ndarray,
    nt: int,
) -> np.ndarray:
    n = cg.shape[1]
    k = X.shape[1]
    parts = np.zeros((nt, k, k))
    for t in prange(nt):
        _residualise_gram_and_scores(cg, X, alpha, W, w_user, y, mu, parts[t], t * n // nt, (t + 1) * n // nt)
    out = np.zeros((k, k))
    for t in range(nt):
        for a in range(k):
            for b in range(k):
                out[a, b] += parts[t, a, b]
    return _symmetrise(out)


@njit(cache=True, nogil=True)
def _symmetrise(upper: np.ndarray) -> np.ndarray:
    """Copy the upper triangle into the lower one (in place) and return the matrix."""
    k = upper.shape[0]
    for a in range(k):
        for b in range(a):
            upper[a, b] = upper[b, a]
    return upper


def residualise_gram_and_scores(
    cg: np.ndarray,
    X: np.ndarray,
    alpha: np.ndarray,
    W: np.ndarray,
    w_user: np.ndarray,
    y: np.ndarray,
    eta: np.ndarray,
    mu_out: np.ndarray,
    nt: int = 1,
) -> np.ndarray:
    """The covariance stage's pass: ``X~ = X - sum_d alpha[g_d]``, ``H = sum_i W_i x~_i x~_i'``,
    ``mu = exp(eta)`` (numpy's vectorised ``exp``, into ``mu_out``) and, in place of ``X``, the
    scores ``w_i (y_i - mu_i) x~_i``. Returns ``H``.
    """
    np.exp(eta, out=mu_out)
    if nt > 1:
        use_threads(nt)
        return _residualise_gram_and_scores_par(cg, X, alpha, W, w_user, y, mu_out, nt)
    out = np.zeros((X.shape[1], X.shape[1]))
    _residualise_gram_and_scores(cg, X, alpha, W, w_user, y, mu_out, out, 0, cg.shape[1])
    return _symmetrise(out)


@njit(cache=True, nogil=True)
def fe_sum(cg: np.ndarray, fe: np.ndarray) -> np.ndarray:
    """``sum_d fe[cg[d, i]]`` for every observation (``fe`` is one coefficient per group)."""
    D, n = cg.shape
    out = np.empty(n)
    if D == 3:  # the usual three-way specification: one row of codes per dimension, no inner loop
        c0 = cg[0]
        c1 = cg[1]
        c2 = cg[2]
        for i in range(n):
            out[i] = fe[c0[i]] + fe[c1[i]] + fe[c2[i]]
        return out
    for i in range(n):
        s = 0.0
        for d in range(D):
            s += fe[cg[d, i]]
        out[i] = s
    return out


@njit(cache=True, nogil=True)
def _irls_update_rows(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    offset: np.ndarray,
    w_user: np.ndarray,
    z_out: np.ndarray,
    mu_w: np.ndarray,
) -> float:
    dev = 0.0
    for i in range(y.shape[0]):
        e = eta[i]
        mu = mu_w[i]
        yi = y[i]
        z_out[i] = e - offset[i] + (yi - mu) / mu
        mu_w[i] = w_user[i] * mu
        dev += w_user[i] * (ylogy[i] - yi * e + mu)
    return dev


def poisson_irls_update(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    offset: np.ndarray,
    w_user: np.ndarray,
    z_out: np.ndarray,
    w_out: np.ndarray,
) -> float:
    """IRLS working variable and weights of the Poisson log link, and the deviance at ``eta``.

    ``mu = exp(eta)``, ``z = eta - offset + (y - mu) / mu``, ``W = w_user * mu``
    (McCullagh and Nelder 1989, sec. 2.5; Correia, Guimarães and Zylkin 2020, eq. 8); returns
    the deviance as :func:`poisson_deviance` (numpy's vectorised ``exp`` into ``w_out``, then
    one compiled pass for all three).
    """
    np.exp(eta, out=w_out)
    return 2.0 * _irls_update_rows(y, ylogy, eta, offset, w_user, z_out, w_out)


@njit(cache=True, nogil=True)
def _deviance_rows(
    y: np.ndarray, ylogy: np.ndarray, eta: np.ndarray, w_user: np.ndarray, i0: int, i1: int
) -> float:
    s = 0.0
    for i in range(i0, i1):
        s += w_user[i] * (ylogy[i] - y[i] * eta[i] + np.exp(eta[i]))
    return s


@njit(cache=True, nogil=True, parallel=True)
def _deviance_par(y: np.ndarray, ylogy: np.ndarray, eta: np.ndarray, w_user: np.ndarray, nt: int) -> float:
    n = y.shape[0]
    parts = np.zeros(nt)
    for t in prange(nt):
        parts[t] = _deviance_rows(y, ylogy, eta, w_user, t * n // nt, (t + 1) * n // nt)
    s = 0.0
    for t in range(nt):
        s += parts[t]
    return s


def poisson_deviance(
    y: np.ndarray, ylogy: np.ndarray, eta: np.ndarray, w_user: np.ndarray, nt: int = 1
) -> float:
    """Poisson deviance ``2 sum_i w_i [y_i log(y_i / mu_i) - (y_i - mu_i)]`` with ``mu = exp(eta)``.

    ``ylogy = y log y - y`` (``ylogy_minus_y``), so a row costs one ``exp`` and no ``log``.
    """
    if nt > 1:
        use_threads(nt)
        return 2.0 * _deviance_par(y, ylogy, eta, w_user, nt)
    return 2.0 * _deviance_rows(y, ylogy, eta, w_user, 0, y.shape[0])


@njit(cache=True, nogil=True)
def cluster_score_sums(scores: np.ndarray, cluster: np.ndarray, n_clusters: int) -> np.ndarray:
    """Sum of the score rows within every cluster, ``(n_clusters, k)``."""
    n, k = scores.shape
    out = np.zeros((n_clusters, k))
    for i in range(n):
        g = cluster[i]
        for j in range(k):
            out[g, j] += scores[i, j]
    return out


@njit(cache=True, nogil=True)
def _working_rows(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    w_user: np.ndarray,
    W_out: np.ndarray,
    r_out: np.ndarray,
    i0: int,
    i1: int,
) -> float:
    s = 0.0
    for i in range(i0, i1):
        mu = np.exp(eta[i])
        yi = y[i]
        W_out[i] = w_user[i] * mu
        r_out[i] = (yi - mu) / mu
        s += w_user[i] * (ylogy[i] - yi * eta[i] + mu)
    return s


@njit(cache=True, nogil=True, parallel=True)
def _working_par(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    w_user: np.ndarray,
    W_out: np.ndarray,
    r_out: np.ndarray,
    nt: int,
) -> float:
    n = y.shape[0]
    parts = np.zeros(nt)
    for t in prange(nt):
        parts[t] = _working_rows(y, ylogy, eta, w_user, W_out, r_out, t * n // nt, (t + 1) * n // nt)
    s = 0.0
    for t in range(nt):
        s += parts[t]
    return s


def poisson_working_residual(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    w_user: np.ndarray,
    W_out: np.ndarray,
    r_out: np.ndarray,
    nt: int = 1,
) -> float:
    """Weights ``W = w mu``, working residual ``r = (y - mu) / mu`` and the deviance, in one pass.

    The Newton (IRLS) increment of the Poisson log link is the weighted least-squares fit of
    ``r`` on the regressors and fixed effects with weights ``W`` (McCullagh and Nelder 1989,
    sec. 2.5). ``r_out`` may be a strided column view; ``ylogy = y log y - y`` (0 where
    ``y = 0``) is precomputed once.
    """
    if nt > 1:
        use_threads(nt)
        return 2.0 * _working_par(y, ylogy, eta, w_user, W_out, r_out, nt)
    return 2.0 * _working_rows(y, ylogy, eta, w_user, W_out, r_out, 0, y.shape[0])


@njit(cache=True, nogil=True)
def _score_rows(
    cg: np.ndarray,
    w: np.ndarray,
    V: np.ndarray,
    alpha_r: np.ndarray,
    alpha_x: np.ndarray,
    g: np.ndarray,
    i0: int,
    i1: int,
) -> None:
    D = cg.shape[0]
    k = V.shape[1] - 1
    loc = np.zeros(k)  # thread-local: no false sharing with the other threads' blocks
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for i in range(i0, i1):
        if D == 3:  # the codes of a row read once (the usual three-way specification)
            p = c0[i]
            q = c1[i]
            t = c2[i]
            wr = w[i] * (V[i, 0] - alpha_r[p] - alpha_r[q] - alpha_r[t])
            for j in range(k):
                loc[j] += wr * (V[i, 1 + j] - alpha_x[p, j] - alpha_x[q, j] - alpha_x[t, j])
        elif D == 2:
            p = c0[i]
            q = c1[i]
            wr = w[i] * (V[i, 0] - alpha_r[p] - alpha_r[q])
            for j in range(k):
                loc[j] += wr * (V[i, 1 + j] - alpha_x[p, j] - alpha_x[q, j])
        else:
            r = V[i, 0]
            for d in range(D):
                r -= alpha_r[cg[d, i]]
            wr = w[i] * r
            for j in range(k):
                x = V[i, 1 + j]
                for d in range(D):
                    x -= alpha_x[cg[d, i], j]
                loc[j] += wr * x
    for j in range(k):
        g[j] += loc[j]


@njit(cache=True, nogil=True, parallel=True)
def _score_par(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha_r: np.ndarray, alpha_x: np.ndarray, nt: int
) -> np.ndarray:
    n = cg.shape[1]
    k = V.shape[1] - 1
    parts = np.zeros((nt, k))
    for t in prange(nt):
        _score_rows(cg, w, V, alpha_r, alpha_x, parts[t], t * n // nt, (t + 1) * n // nt)
    g = np.zeros(k)
    for t in range(nt):
        for j in range(k):
            g[j] += parts[t, j]
    return g


def weighted_resid_score(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha_r: np.ndarray, alpha_x: np.ndarray, nt: int = 1
) -> np.ndarray:
    """``g = X~' W r~`` with ``r~ = V[:, 0] - sum_d alpha_r[g_d]`` and ``X~ = V[:, 1:] - sum_d alpha_x[g_d]``."""
    if nt > 1:
        use_threads(nt)
        return _score_par(cg, w, V, alpha_r, alpha_x, nt)
    g = np.zeros(V.shape[1] - 1)
    _score_rows(cg, w, V, alpha_r, alpha_x, g, 0, cg.shape[1])
    return g


@njit(cache=True, nogil=True)
def _score_partialled_rows(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha_r: np.ndarray, g: np.ndarray, i0: int, i1: int
) -> None:
    D = cg.shape[0]
    k = V.shape[1] - 1
    loc = np.zeros(k)  # thread-local: no false sharing with the other threads' blocks
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for i in range(i0, i1):
        if D == 3:
            r = V[i, 0] - alpha_r[c0[i]] - alpha_r[c1[i]] - alpha_r[c2[i]]
        else:
            r = V[i, 0]
            for d in range(D):
                r -= alpha_r[cg[d, i]]
        wr = w[i] * r
        for j in range(k):
            loc[j] += wr * V[i, 1 + j]
    for j in range(k):
        g[j] += loc[j]


@njit(cache=True, nogil=True, parallel=True)
def _score_partialled_par(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha_r: np.ndarray, nt: int
) -> np.ndarray:
    n = cg.shape[1]
    k = V.shape[1] - 1
    parts = np.zeros((nt, k))
    for t in prange(nt):
        _score_partialled_rows(cg, w, V, alpha_r, parts[t], t * n // nt, (t + 1) * n // nt)
    g = np.zeros(k)
    for t in range(nt):
        for j in range(k):
            g[j] += parts[t, j]
    return g


def weighted_score_partialled(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, alpha_r: np.ndarray, nt: int = 1
) -> np.ndarray:
    """``g = X~' W r~`` with ``r~ = V[:, 0] - sum_d alpha_r[g_d]`` when ``V[:, 1:]`` already holds
    partialled-out regressors ``X~`` (see :func:`residualise_columns`)."""
    if nt > 1:
        use_threads(nt)
        return _score_partialled_par(cg, w, V, alpha_r, nt)
    g = np.zeros(V.shape[1] - 1)
    _score_partialled_rows(cg, w, V, alpha_r, g, 0, cg.shape[1])
    return g


@njit(cache=True, nogil=True)
def _residualise_columns_rows(
    cg: np.ndarray, V: np.ndarray, alpha: np.ndarray, c0: int, i0: int, i1: int
) -> None:
    D = cg.shape[0]
    k = alpha.shape[1]
    g0 = cg[0]
    g1 = cg[1 % D]
    g2 = cg[2 % D]
    if D == 3:  # the codes of a row read once (the usual three-way specification)
        for i in range(i0, i1):
            p = g0[i]
            q = g1[i]
            t = g2[i]
            for c in range(k):
                V[i, c0 + c] = V[i, c0 + c] - alpha[p, c] - alpha[q, c] - alpha[t, c]
    elif D == 2:
        for i in range(i0, i1):
            p = g0[i]
            q = g1[i]
            for c in range(k):
                V[i, c0 + c] = V[i, c0 + c] - alpha[p, c] - alpha[q, c]
    else:
        for i in range(i0, i1):
            for c in range(k):
                v = V[i, c0 + c]
                for d in range(D):
                    v -= alpha[cg[d, i], c]
                V[i, c0 + c] = v


@njit(cache=True, nogil=True, parallel=True)
def _residualise_columns_par(cg: np.ndarray, V: np.ndarray, alpha: np.ndarray, c0: int, nt: int) -> None:
    n = cg.shape[1]
    for t in prange(nt):
        _residualise_columns_rows(cg, V, alpha, c0, t * n // nt, (t + 1) * n // nt)


def residualise_columns(cg: np.ndarray, V: np.ndarray, alpha: np.ndarray, c0: int, nt: int = 1) -> None:
    """``V[:, c0 + c] -= sum_d alpha[g_d, c]`` in place for every column ``c`` of ``alpha``."""
    if nt > 1:
        use_threads(nt)
        _residualise_columns_par(cg, V, alpha, c0, nt)
    else:
        _residualise_columns_rows(cg, V, alpha, c0, 0, cg.shape[1])


@njit(cache=True, nogil=True)
def _group_sums_rows(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, S: np.ndarray, sw: np.ndarray, i0: int, i1: int
) -> None:
    D = cg.shape[0]
    m = V.shape[1]
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for i in range(i0, i1):
        wi = w[i]
        if D == 3:  # the codes of a row read once (the usual three-way specification)
            p = c0[i]
            q = c1[i]
            t = c2[i]
            sw[p] += wi
            sw[q] += wi
            sw[t] += wi
            for c in range(m):
                v = wi * V[i, c]
                S[p, c] += v
                S[q, c] += v
                S[t, c] += v
        else:
            for d in range(D):
                g = cg[d, i]
                sw[g] += wi
                for c in range(m):
                    S[g, c] += wi * V[i, c]


@njit(cache=True, nogil=True, parallel=True)
def _group_sums_inv_par(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, n_groups: int, nt: int
) -> tuple[np.ndarray, np.ndarray]:
    n = cg.shape[1]
    m = V.shape[1]
    Sp = np.zeros((nt, n_groups, m))
    swp = np.zeros((nt, n_groups))
    for t in prange(nt):
        _group_sums_rows(cg, w, V, Sp[t], swp[t], t * n // nt, (t + 1) * n // nt)
    S = np.zeros((n_groups, m))
    sw = np.zeros(n_groups)
    for t in range(nt):
        for g in range(n_groups):
            sw[g] += swp[t, g]
            for c in range(m):
                S[g, c] += Sp[t, g, c]
    return S, sw


def group_sums_and_inverse_weights(
    cg: np.ndarray, w: np.ndarray, V: np.ndarray, n_groups: int, nt: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """``group_sums`` and ``group_inverse_weights`` in one pass over the data.

    With ``nt > 1`` every thread sums a block of rows into its own copy, added up at the end.
    """
    if nt > 1:
        use_threads(nt)
        S, sw = _group_sums_inv_par(cg, w, V, n_groups, nt)
    else:
        S = np.zeros((n_groups, V.shape[1]))
        sw = np.zeros(n_groups)
        _group_sums_rows(cg, w, V, S, sw, 0, cg.shape[1])
    inv = np.zeros(n_groups)
    np.divide(1.0, sw, out=inv, where=sw > 0.0)
    return S, inv


@njit(cache=True, nogil=True)
def _eta_rows(
    eta: np.ndarray,
    V: np.ndarray,
    dbeta: np.ndarray,
    cg: np.ndarray,
    dfe: np.ndarray,
    step: float,
    i0: int,
    i1: int,
) -> None:
    D = cg.shape[0]
    k = dbeta.shape[0]
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for i in range(i0, i1):
        s = 0.0
        for j in range(k):
            s += V[i, 1 + j] * dbeta[j]
        if D == 3:
            s += dfe[c0[i]] + dfe[c1[i]] + dfe[c2[i]]
        else:
            for d in range(D):
                s += dfe[cg[d, i]]
        eta[i] += step * s


@njit(cache=True, nogil=True, parallel=True)
def _eta_par(
    eta: np.ndarray, V: np.ndarray, dbeta: np.ndarray, cg: np.ndarray, dfe: np.ndarray, step: float, nt: int
) -> None:
    n = eta.shape[0]
    for t in prange(nt):
        _eta_rows(eta, V, dbeta, cg, dfe, step, t * n // nt, (t + 1) * n // nt)


@njit(cache=True, nogil=True)
def _working_sums_rows(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    w_user: np.ndarray,
    mu_W: np.ndarray,
    r_out: np.ndarray,
    working: bool,
    cg: np.ndarray,
    S: np.ndarray,
    sw: np.ndarray,
    sums: bool,
    i0: int,
    i1: int,
) -> float:
    """Deviance from ``mu_W = exp(eta)``; with ``working`` also ``W = w mu`` (written over ``mu_W``),
    ``r = (y - mu) / mu`` and, with ``sums``, the group sums of ``W r`` and ``W``."""
    D = cg.shape[0]
    dev = 0.0
    c0 = cg[0]
    c1 = cg[1 % D]
    c2 = cg[2 % D]
    for i in range(i0, i1):
        mu = mu_W[i]
        yi = y[i]
        wu = w_user[i]
        dev += wu * (ylogy[i] - yi * eta[i] + mu)
        if working:
            Wi = wu * mu
            ri = (yi - mu) / mu
            mu_W[i] = Wi
            r_out[i] = ri
            if sums:  # the next step's group sums of W and W r, in the same pass
                Wr = Wi * ri
                if D == 3:
                    p = c0[i]
                    q = c1[i]
                    t = c2[i]
                    sw[p] += Wi
                    sw[q] += Wi
                    sw[t] += Wi
                    S[p, 0] += Wr
                    S[q, 0] += Wr
                    S[t, 0] += Wr
                else:
                    for d in range(D):
                        g = cg[d, i]
                        sw[g] += Wi
                        S[g, 0] += Wr
    return dev


@njit(cache=True, nogil=True, parallel=True)
def _working_sums_par(
    y: np.ndarray,
    ylogy: np.ndarray,
    eta: np.ndarray,
    w_user: np.ndarray,
    mu_W: np.ndarray,
    r_out: np.ndarray,
    working: bool,
    cg: np.ndarray,
    S: np.ndarray,
    sw: np.ndarray,
    sums: bool,
    nt: int,
) -> float:
    n = eta.shape[0]
    parts = np.zeros(nt)
    G = S.shape[0]
    Sp = np.zeros((nt, G, 1))
    swp = np.zeros((nt, G))
    for t in prange(nt):
        parts[t] = _working_sums_rows(
            y,
            ylogy,
            eta,
            w_user,
            mu_W,
            r_out,
            working,
            cg,
            Sp[t],
            swp[t],
            sums,
            t * n // nt,
            (t + 1) * n // nt,
        )
    s = 0.0
    for t in range(nt):
        s += parts[t]
        if sums:
            for g in range(G):
                S[g, 0] += Sp[t, g, 0]
                sw[g] += swp[t, g]
    return s


def step_and_deviance(
    eta: np.ndarray,
    V: np.ndarray,
    dbeta: np.ndarray,
    cg: np.ndarray,
    dfe: np.ndarray,
    step: float,
    y: np.ndarray,
    ylogy: np.ndarray,
    w_user: np.ndarray,
    W_out: np.ndarray,
    r_out: np.ndarray,
    working: bool,
    nt: int = 1,
    n_groups: int = 0,
) -> tuple[float, np.ndarray | None, np.ndarray | None]:
    """``eta += step * (X dbeta + sum_d dfe[g_d])`` (``X = V[:, 1:]``) and the Poisson deviance at the new ``eta``.

    With ``working``, it also writes the next IRLS step's weights ``W = w mu`` and working
    residual ``r = (y - mu) / mu``. ``r_out`` may be the first column of ``V``: only
    ``V[:, 1:]`` is read. ``nt`` threads each take a block of rows. With ``working`` and
    ``n_groups > 0`` it also sums ``W r`` and ``W`` by group (every dimension) for the next
    step's fixed-effect solve, and returns them as ``S`` (``(G, 1)``) and ``1 / sum W`` (see
    ``group_sums_and_inverse_weights``); otherwise those are ``None``. Two passes over the rows
    with numpy's vectorised ``exp`` between them (``mu``, into ``W_out``): a scalar ``exp`` in
    the compiled loop cost more than the rest of the pass.

    Returns ``(deviance, S, inv_w)``.
    """
    sums = working and n_groups > 0
    G = n_groups if sums else 1
    S = np.zeros((G, 1))
    sw = np.zeros(G)
    mu_W = W_out if working else np.empty(eta.shape[0])
    if nt > 1:
        use_threads(nt)
        _eta_par(eta, V, dbeta, cg, dfe, step, nt)
        np.exp(eta, out=mu_W)
        dev = _working_sums_par(y, ylogy, eta, w_user, mu_W, r_out, working, cg, S, sw, sums, nt)
    else:
        _eta_rows(eta, V, dbeta, cg, dfe, step, 0, eta.shape[0])
        np.exp(eta, out=mu_W)
        dev = _working_sums_rows(
            y, ylogy, eta, w_user, mu_W, r_out, working, cg, S, sw, sums, 0, eta.shape[0]
        )
    if not sums:
        return 2.0 * dev, None, None
    inv = np.zeros(G)
    np.divide(1.0, sw, out=inv, where=sw > 0.0)
    return 2.0 * dev, S, inv


@njit(cache=True, nogil=True)
def _ipf_rows(
    cg: np.ndarray, base: np.ndarray, A: np.ndarray, d: int, acc: np.ndarray, lo: int, i0: int, i1: int
) -> None:
    """``acc[g - lo] += base_i prod_{e != d} A[g_e(i)]`` over rows ``i0 .. i1 - 1`` of dimension ``d``."""
    D = cg.shape[0]
    if i1 <= i0:
        return
    gd = cg[d]
    o1 = cg[(d + 1) % D]
    o2 = cg[(d + 2) % D]
    # unsigned offsets (no wraparound checks on the scatter); runs of rows of one group are
    # summed in a register (as in the sweeps); the usual dimension counts get their own loops
    lo_u = np.uint64(lo)
    cur = gd[i0]
    run = 0.0
    if D == 3:
        for i in range(i0, i1):
            gi = gd[i]
            if gi != cur:
                acc[cur - lo_u] += run
                run = 0.0
                cur = gi
            run += base[i] * (A[o1[i]] * A[o2[i]])
    elif D == 2:
        for i in range(i0, i1):
            gi = gd[i]
            if gi != cur:
                acc[cur - lo_u] += run
                run = 0.0
                cur = gi
            run += base[i] * A[o1[i]]
    else:
        for i in range(i0, i1):
            gi = gd[i]
            if gi != cur:
                acc[cur - lo_u] += run
                run = 0.0
                cur = gi
            p = base[i]
            for e in range(D):
                if e != d:
                    p *= A[cg[e, i]]
            run += p
    acc[cur - lo_u] += run


@njit(cache=True, nogil=True)
def ipf_sweep(
    cg: np.ndarray,
    base: np.ndarray,
    sy: np.ndarray,
    bounds: np.ndarray,
    A_in: np.ndarray,
    A_out: np.ndarray,
    acc: np.ndarray,
) -> None:
    """One sweep of iterative proportional fitting of the multiplicative fixed effects.

    The Poisson likelihood with fixed effects only, ``mu_i = base_i prod_d A_d[g_d(i)]``, is
    maximised in ``A_d`` (the others held) by ``A_d[g] = sum_{i in g} w_i y_i /
    sum_{i in g} base_i prod_{e != d} A_e[g_e(i)]`` (``base`` includes the weights); one sweep
    applies this to every dimension in turn (Bergé 2018, sec. 2.2, the Poisson case).
    """
    D, n = cg.shape
    for g in range(A_in.shape[0]):
        A_out[g] = A_in[g]
    for d in range(D):
        lo = bounds[d]
        hi = bounds[d + 1]
        for g in range(hi - lo):
            acc[g] = 0.0
        _ipf_rows(cg, base, A_out, d, acc, lo, 0, n)
        for g in range(lo, hi):
            A_out[g] = sy[g] / acc[g - lo] if acc[g - lo] > 0.0 else 0.0


@njit(cache=True, nogil=True, parallel=True)
def ipf_sweep_par(
    cg: np.ndarray,
    base: np.ndarray,
    sy: np.ndarray,
    bounds: np.ndarray,
    A_in: np.ndarray,
    A_out: np.ndarray,
    acc: np.ndarray,
    nt: int,
) -> None:
    """:func:`ipf_sweep` with the rows of every dimension split over ``nt`` threads."""
    D, n = cg.shape
    for g in range(A_in.shape[0]):
        A_out[g] = A_in[g]
    for d in range(D):
        lo = bounds[d]
        hi = bounds[d + 1]
        priv = np.zeros((nt, hi - lo))
        for t in prange(nt):
            _ipf_rows(cg, base, A_out, d, priv[t], lo, t * n // nt, (t + 1) * n // nt)
        for g in range(hi - lo):
            s = 0.0
            for t in range(nt):
                s += priv[t, g]
            A_out[lo + g] = sy[lo + g] / s if s > 0.0 else 0.0


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def irons_tuck(X: np.ndarray, GX: np.ndarray, GGX: np.ndarray, out: np.ndarray) -> None:
    """Irons-Tuck extrapolation of every column (Bergé 2018, eq. 9), written to ``out``.

    ``out = GGX - (d1'd2 / d2'd2) d1`` with ``d1 = GGX - GX`` and ``d2 = d1 - (GX - X)``
    (``out = GGX`` for a column whose ``d2`` is zero). ``out`` may be ``X``. The two sums run
    in vector lanes (``reassoc``).
    """
    G, m = X.shape
    step = np.zeros(m)
    for c in range(m):  # one column at a time: the two sums stay in registers
        num = 0.0
        den = 0.0
        for g in range(G):
            d1 = GGX[g, c] - GX[g, c]
            d2 = d1 - (GX[g, c] - X[g, c])
            num += d1 * d2
            den += d2 * d2
        step[c] = num / den if den > 0.0 else 0.0
    for g in range(G):
        for c in range(m):
            out[g, c] = GGX[g, c] - step[c] * (GGX[g, c] - GX[g, c])


@njit(cache=True, nogil=True)
def mark_singletons_and_fe_separated(
    codes: np.ndarray,
    sizes: np.ndarray,
    y: np.ndarray,
    reason: np.ndarray,
    singletons: bool,
    fe_check: bool,
    singleton_code: int,
    separated_code: int,
) -> None:
    """Mark (in ``reason``) rows alone in a group and rows of all-zero groups, until stable.

    ``codes`` is ``(D, n)``; only rows with ``reason == 0`` take part. Each round counts the
    rows and the positive ``y`` of every group of every dimension in one pass, then marks;
    rounds repeat while rows are dropped (a drop can make new singletons or all-zero groups).
    A row that is both a singleton and separated is reported as a singleton.
    """
    D, n = codes.shape
    start = np.zeros(D + 1, dtype=np.int64)
    for d in range(D):
        start[d + 1] = start[d] + sizes[d]
    G = start[D]
    cnt = np.zeros(G, dtype=np.int64)
    pos = np.zeros(G, dtype=np.int64)
    while True:
        for g in range(G):
            cnt[g] = 0
            pos[g] = 0
        for i in range(n):
            if reason[i] == 0:
                yp = y[i] > 0.0
                for d in range(D):
                    g = start[d] + codes[d, i]
                    cnt[g] += 1
                    if yp:
                        pos[g] = 1
        changed = False
        for i in range(n):
            if reason[i] == 0:
                for d in range(D):
                    g = start[d] + codes[d, i]
                    if singletons and cnt[g] == 1:
                        reason[i] = singleton_code
                        changed = True
                        break
                    if fe_check and pos[g] == 0:
                        reason[i] = separated_code
                        changed = True
                        break
        if not changed:
            return


@njit(cache=True, nogil=True)
def weighted_centred_squares(V: np.ndarray, w: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """``sum_i w_i (V_ic - mean_c)^2`` for every column (no ``(n, m)`` temporary)."""
    n, m = V.shape
    out = np.zeros(m)
    for i in range(n):
        for c in range(m):
            d = V[i, c] - mean[c]
            out[c] += w[i] * d * d
    return out


#: ``0.5 log(2 pi)``
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@njit(cache=True, nogil=True)
def _log_factorial(y: float, ylogy: float) -> float:
    """``log y! = lgamma(y + 1)``; from ``y >= 10`` by the Stirling series through ``y^-11``
    (truncation below 1e-15), with ``log y`` recovered from ``ylogy = y log y - y`` (no
    transcendental call: ``lgamma`` was most of the log-likelihood's cost)."""
    if y == 0.0:
        return 0.0
    if y < 10.0:
        return math.lgamma(y + 1.0)
    iy = 1.0 / y
    hl = 0.5 * (ylogy + y) * iy  # 0.5 log y (one division per row)
    iy2 = iy * iy
    series = iy * (
        1.0 / 12.0
        - iy2
        * (
            1.0 / 360.0
            - iy2 * (1.0 / 1260.0 - iy2 * (1.0 / 1680.0 - iy2 * (1.0 / 1188.0 - iy2 * (691.0 / 360360.0))))
        )
    )
    return ylogy + hl + _HALF_LOG_2PI + series


@njit(cache=True, nogil=True)
def _loglik_rows(
    y: np.ndarray, ylogy: np.ndarray, eta: np.ndarray, mu: np.ndarray, w: np.ndarray, i0: int, i1: int
) -> float:
    s = 0.0
    for i in range(i0, i1):
        yi = y[i]
        s += w[i] * (yi * eta[i] - mu[i] - _log_factorial(yi, ylogy[i]))
    return s


@njit(cache=True, nogil=True, parallel=True)
def _loglik_par(
    y: np.ndarray, ylogy: np.ndarray, eta: np.ndarray, mu: np.ndarray, w: np.ndarray, nt: int
) -> float:
    n = y.shape[0]
    parts = np.zeros(nt)
    for t in prange(nt):
        parts[t] = _loglik_rows(y, ylogy, eta, mu, w, t * n // nt, (t + 1) * n // nt)
    s = 0.0
    for t in range(nt):
        s += parts[t]
    return s


def poisson_loglik(
    y: np.ndarray,
    eta: np.ndarray,
    w: np.ndarray,
    nt: int = 1,
    mu: np.ndarray | None = None,
    ylogy: np.ndarray | None = None,
) -> float:
    """``sum_i w_i (y_i eta_i - exp(eta_i) - log(y_i!))`` (``log y! = lgamma(y + 1)``).

    ``mu = exp(eta)`` and ``ylogy = y log y - y`` are computed unless given.
    """
    if mu is None:
        mu = np.exp(eta)
    if ylogy is None:
        ylogy = ylogy_minus_y(y)
    if nt > 1:
        use_threads(nt)
        return _loglik_par(y, ylogy, eta, mu, w, nt)
    return _loglik_rows(y, ylogy, eta, mu, w, 0, y.shape[0])


@njit(cache=True, nogil=True)
def _shifted_arguments(y: np.ndarray, z: np.ndarray, p: np.ndarray) -> None:
    """``z = y + 10`` and ``p = (y + 1) (y + 2) ... (y + 10)`` where ``y < 10``, else ``z = y``
    and ``p = 1`` (branch-free: the loop is vectorised)."""
    for i in range(y.shape[0]):
        yi = y[i]
        q = yi + 1.0
        prod = q * (q + 1.0) * (q + 2.0) * (q + 3.0) * (q + 4.0)
        prod *= (q + 5.0) * (q + 6.0) * (q + 7.0) * (q + 8.0) * (q + 9.0)
        small = yi < 10.0
        z[i] = yi + 10.0 if small else yi
        p[i] = prod if small else 1.0


@njit(cache=True, nogil=True, error_model="numpy")  # z >= 10: no zero division to check
def _constant_rows(y: np.ndarray, ylogy: np.ndarray, logz: np.ndarray, logp: np.ndarray) -> None:
    """``logp[i] = y_i log y_i - y_i - log y_i!`` from ``log z`` (in ``logz``) and ``log p``
    (in ``logp``) of ``_shifted_arguments``; no reduction and no zero-division check (numpy's
    error model), so the loop is vectorised."""
    for i in range(y.shape[0]):
        yi = y[i]
        small = yi < 10.0
        zi = yi + 10.0 if small else yi
        yl = ylogy[i]
        lz = logz[i]
        iz = 1.0 / zi
        iz2 = iz * iz
        series = iz * (
            1.0 / 12.0
            - iz2
            * (
                1.0 / 360.0
                - iz2
                * (1.0 / 1260.0 - iz2 * (1.0 / 1680.0 - iz2 * (1.0 / 1188.0 - iz2 * (691.0 / 360360.0))))
            )
        )
        # z log z - z is y log y - y itself from y = 10 on: the two cancel exactly there
        zlz = zi * lz - zi if small else yl
        logp[i] = (yl - zlz) - (0.5 * lz + _HALF_LOG_2PI + series - logp[i])


def poisson_loglik_constant(
    y: np.ndarray,
    ylogy: np.ndarray,
    w: np.ndarray,
    work: tuple[np.ndarray, np.ndarray] | None = None,
) -> float:
    """``sum_i w_i (y_i log y_i - y_i - log(y_i!))``: the part of the Poisson log-likelihood
    that does not depend on the fit, so that ``loglik = constant - deviance / 2`` (the deviance
    being ``2 sum_i w_i (y_i log y_i - y_i - y_i eta_i + exp(eta_i))``).

    ``log y! = lgamma(y + 1)`` by the Stirling series through ``z^-11`` at ``z = y >= 10``
    (truncation below 1e-15 relative), and below 10 by the recurrence
    ``lgamma(y + 1) = lgamma(y + 11) - log((y + 1) ... (y + 10))`` with the series at
    ``z = y + 10``: two vectorised logarithms (numpy's) instead of a scalar ``lgamma`` per row.
    ``work``: two ``(n,)`` float arrays to use as scratch (overwritten), else allocated.
    """
    n = y.shape[0]
    a, b = (np.empty(n), np.empty(n)) if work is None else work
    _shifted_arguments(y, a, b)
    np.log(a, out=a)
    np.log(b, out=b)
    _constant_rows(y, ylogy, a, b)
    if w.ndim == 1 and w.shape[0] and w.strides[0] == 0:  # a broadcast weight (no weights: 1)
        return float(w[0]) * float(np.sum(b))
    np.multiply(b, w, out=b)
    return float(np.sum(b))


@njit(cache=True, nogil=True)
def nested_in(codes: np.ndarray, n_groups: int, cluster: np.ndarray) -> bool:
    """Whether all rows of every group (``codes``) share one ``cluster`` value.

    ``codes`` may exceed ``n_groups`` (global codes of one dimension): the table is sized to fit.
    """
    top = n_groups
    for i in range(codes.shape[0]):
        if codes[i] >= top:
            top = codes[i] + 1
    first = np.full(top, -1, dtype=np.int64)
    for i in range(codes.shape[0]):
        g = codes[i]
        if first[g] < 0:
            first[g] = cluster[i]
        elif first[g] != cluster[i]:
            return False
    return True


def ylogy_minus_y(y: np.ndarray) -> np.ndarray:
    """``y log y - y`` (0 where ``y = 0``), the constant part of the Poisson deviance (numpy's
    vectorised ``log``)."""
    out = np.where(y > 0.0, y, 1.0)  # log 1 = 0 where y = 0 (a masked log is several times slower)
    np.log(out, out=out)
    out *= y
    out -= y
    return out
