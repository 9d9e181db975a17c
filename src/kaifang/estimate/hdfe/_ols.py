"""Least squares with high-dimensional fixed effects (the own engine's OLS).

By Frisch-Waugh-Lovell the coefficients of ``y = X b + D a + e`` are those of the regression
of the partialled-out ``y~`` on the partialled-out ``X~`` (``v~ = v - D a_v``, ``a_v`` the
weighted least-squares fixed-effect coefficients of ``v``), solved by the same accelerated
alternating projections as the PPML steps (``_demean.solve_fe``). The covariance uses the
same sandwich forms and small-sample factors as the PPML engine (pyfixest/fixest
``ssc(k_adj=True, k_fixef="nonnested", G_adj=True)``); the iid form scales the bread by
``sum w e^2 / (N - K)``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from . import _kernels as K
from ._core import (
    ClusterError,
    HDFEFit,
    HDFEInputError,
    SeparationError,
    VcovType,
    _as_float_vector,
    _collinear_columns,
    _compress,
    _validate_clusters,
    _validate_design,
)
from ._demean import FEStructure, solve_fe
from ._memory import keep_freed_memory
from ._sample import KEPT, REASONS, drop_singletons_and_fe_separation
from ._threads import Threads, resolve_threads
from ._vcov import dense_codes, sandwich

__all__ = ["ols_hdfe"]


def ols_hdfe(
    y: np.ndarray,
    X: np.ndarray | None,
    fe: Sequence[np.ndarray],
    *,
    weights: np.ndarray | None = None,
    cluster: np.ndarray | Sequence[np.ndarray] | None = None,
    vcov: VcovType = "hetero",
    names: Sequence[str] | None = None,
    fe_names: Sequence[str] | None = None,
    fe_tol: float = 1e-10,
    fe_maxiter: int = 10_000,
    drop_singletons: bool = True,
    collin_tol: float = 1e-9,
    threads: Threads = None,
) -> HDFEFit:
    """Weighted least squares of ``y`` on ``X`` and fixed effects, with robust or clustered errors.

    Parameters and errors are those of :func:`ppml_hdfe` (``y`` may take any finite value;
    there is no separation). The result is an :class:`HDFEFit` whose ``eta`` and ``mu`` are
    both the fitted values, ``deviance`` is the weighted sum of squared residuals, ``loglik``
    is ``NaN`` and ``iterations`` is 0.
    """
    t_start = time.perf_counter()
    keep_freed_memory()
    y = _as_float_vector(y, None, "y")
    n = y.shape[0]
    Xa, names, fe_names, codes_in, has_fe, w_user = _validate_design(y, X, names, fe, fe_names, weights)
    k_all = Xa.shape[1]
    if vcov not in ("iid", "hetero"):
        raise HDFEInputError(f"vcov={vcov!r} is unknown; choose one of ['iid', 'hetero'].")
    clusters_in = _validate_clusters(cluster, n)
    nt = resolve_threads(threads, n)

    reason = np.zeros(n, dtype=np.int8)
    sizes_in = [int(c.max()) + 1 for c in codes_in]
    drop_singletons_and_fe_separation(
        y, codes_in, sizes_in, reason, singletons=drop_singletons and has_fe, fe_check=False
    )
    keep = reason == KEPT
    if not keep.any():
        raise SeparationError("no observation is left after dropping singletons; nothing to estimate.")
    full = bool(keep.all())
    nk = int(keep.sum())
    comp = [_compress(c, keep, full) for c in codes_in]
    fes = FEStructure.from_codes([c[0] for c in comp])
    fe_sizes = [c[2] for c in comp]
    present_codes = [c[1] for c in comp]
    w = np.ones(nk) if w_user is None else (w_user if full else w_user[keep])
    V = np.empty((nk, 1 + k_all))
    V[:, 0] = y if full else y[keep]
    if k_all:
        V[:, 1:] = Xa if full else Xa[keep]
    clusters: list[np.ndarray] = []
    for j, c in enumerate(clusters_in):
        dc, g = dense_codes(c if full else c[keep])
        if g < 2:
            raise ClusterError(
                f"cluster variable {j} has {g} distinct value(s) in the estimation sample; "
                "clustered standard errors need at least 2 clusters."
            )
        clusters.append(dc)

    # partial the fixed effects out of y and X at once (Frisch-Waugh-Lovell)
    res = solve_fe(fes, w, V, None, tol=fe_tol, maxiter=fe_maxiter, threads=nt)
    alpha = res.alpha
    gram = K.weighted_resid_gram(fes.cg, w, V, alpha, nt)
    active = np.arange(k_all)
    collinear: tuple[str, ...] = ()
    if k_all:
        mean = (w @ V) / w.sum()
        centred = K.weighted_centred_squares(V, w, mean)[1:]
        drop = _collinear_columns(gram[1:, 1:], centred, collin_tol)
        if drop.any():
            collinear = tuple(names[j] for j in active[drop])
            keepcols = np.concatenate([[True], ~drop])
            V = np.ascontiguousarray(V[:, keepcols])
            alpha = np.ascontiguousarray(alpha[:, keepcols])
            gram = gram[np.ix_(keepcols, keepcols)]
            active = active[~drop]
    kk = V.shape[1] - 1
    beta = np.linalg.solve(gram[1:, 1:], gram[1:, 0]) if kk else np.zeros(0)
    fe_coef = alpha[:, 0] - alpha[:, 1:] @ beta
    fitted = V[:, 1:] @ beta + K.fe_sum(fes.cg, fe_coef)
    resid = V[:, 0] - fitted
    ssr = float(w @ (resid * resid))
    if kk:
        Xt = np.ascontiguousarray(V[:, 1:])
        K.residualise_columns(fes.cg, Xt, np.ascontiguousarray(alpha[:, 1:]), 0, nt)  # X~ for the scores
        hess = gram[1:, 1:].copy()  # the weighted Gram of X~, computed above
        bread = np.linalg.inv(hess)
        vtype = "cluster" if clusters else vcov
        if vtype == "iid":
            bread = bread * (ssr / (nk - 1))  # sandwich's iid factor (N-1)/(N-K) makes it SSR/(N-K)
        scores = Xt
        scores *= (w * resid)[:, None]
        vc, vinfo = sandwich(
            bread,
            scores,
            vcov=vtype,
            clusters=clusters,
            fe_sizes=fe_sizes if has_fe else [1],
            fe_codes=[fes.cg[d] for d in range(fes.n_dims)] if has_fe else [np.zeros(nk, dtype=np.int64)],
        )
    else:
        vc = np.zeros((0, 0))
        vtype = "cluster" if clusters else vcov
        vinfo = {"df_k": 0}

    coef = np.full(k_all, np.nan)
    coef[active] = beta
    vcov_full = np.full((k_all, k_all), np.nan)
    vcov_full[np.ix_(active, active)] = vc
    fe_out: list[np.ndarray] = []
    intercept = None
    if has_fe:
        b = fes.bounds
        for d in range(1, len(present_codes)):
            shift = fe_coef[b[d]]
            fe_coef[b[d] : b[d + 1]] -= shift
            fe_coef[b[0] : b[1]] += shift
        for d, present in enumerate(present_codes):
            arr = np.full(sizes_in[d], np.nan)
            arr[present] = fe_coef[b[d] : b[d + 1]]
            fe_out.append(arr)
    else:
        intercept = float(fe_coef[0])
    fit_full = np.full(n, np.nan)
    fit_full[keep] = fitted
    return HDFEFit(
        coef=coef,
        se=np.sqrt(np.diag(vcov_full)),
        vcov=vcov_full,
        names=names,
        collinear=collinear,
        fixed_effects=tuple(fe_out),
        intercept=intercept,
        eta=fit_full,
        mu=fit_full.copy(),
        sample=keep,
        drop_reason=reason,
        dropped={v: int((reason == c).sum()) for c, v in REASONS.items()},
        converged=bool(res.converged),
        iterations=0,
        deviance=ssr,
        loglik=float("nan"),
        n_obs=nk,
        fe_sizes=tuple(fe_sizes) if has_fe else (),
        vcov_type=vtype,
        n_clusters=tuple(vinfo.get("n_clusters", ())),
        df_k=int(vinfo["df_k"]),
        diagnostics={
            "fe_sweeps": [res.sweeps],
            "threads": nt,
            "seconds_total": time.perf_counter() - t_start,
        },
    )
