"""PPML with high-dimensional fixed effects: the numpy-level engine."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np

from kaifang.errors import ConvergenceError, UserInputError

from . import _kernels as K
from ._cube import detect_cube
from ._demean import FEStructure, poisson_fe_start, solve_fe
from ._memory import keep_freed_memory
from ._sample import (
    KEPT,
    REASONS,
    SEPARATED_RELU,
    drop_singletons_and_fe_separation,
    relu_separated,
)
from ._threads import Threads, resolve_threads
from ._vcov import dense_codes, sandwich

log = logging.getLogger(__name__)

SeparationMethod = Literal["fe", "relu"]
VcovType = Literal["iid", "hetero"]
_SEPARATION_CHOICES: tuple[str, ...] = get_args(SeparationMethod)
_VCOV_CHOICES: tuple[str, ...] = get_args(VcovType)


class HDFEInputError(UserInputError):
    """Bad input to :func:`ppml_hdfe` (shapes, non-finite values, codes, options)."""


class ClusterError(HDFEInputError):
    """The cluster variable cannot be used (wrong length, missing values, too few clusters)."""


class SeparationError(HDFEInputError):
    """Nothing left to estimate after dropping separated observations and singletons."""


@dataclass(frozen=True)
class HDFEFit:
    """Result of :func:`ppml_hdfe`. Read-only; arrays are over the *input* rows or groups.

    Attributes
    ----------
    coef, se
        ``(k,)`` coefficients and standard errors, in the input column order; ``NaN`` for
        regressors dropped as collinear.
    vcov
        ``(k, k)`` covariance matrix (``NaN`` rows/columns for dropped regressors).
    names
        Regressor names (``x0, x1, ...`` unless given).
    collinear
        Names of regressors dropped because they are collinear with the fixed effects or with
        other regressors.
    fixed_effects
        One array per fixed-effect dimension, indexed by the input integer codes
        (``NaN`` for codes absent from the estimation sample). Only the sum over dimensions is
        identified: every dimension after the first is shifted so that its first group in the
        sample is 0 (the shift is absorbed by dimension 0).
    intercept
        The constant when no fixed effects are given (else ``None``).
    eta, mu
        ``(n,)`` linear predictor and fitted mean (``NaN`` for dropped rows).
    sample
        ``(n,)`` True for rows used in the estimation.
    drop_reason
        ``(n,)`` int8: 0 kept, 2 singleton, 3 separated by the fixed-effect check, 4 separated
        by the ReLU check (see ``dropped``).
    dropped
        Number of rows dropped, by reason name (``singleton``, ``separated_fe``,
        ``separated_relu``).
    converged, iterations
        IRLS convergence flag and number of IRLS iterations.
    deviance, loglik
        Poisson deviance and log-likelihood at the estimate (weighted when weights are given).
    n_obs
        Rows used.
    fe_sizes
        Groups per fixed-effect dimension in the estimation sample.
    vcov_type, n_clusters, df_k
        Covariance type (``"iid"``, ``"hetero"``, ``"cluster"``), clusters per cluster
        dimension, and the parameter count of the small-sample factor.
    diagnostics
        Solver details: criterion history, fixed-effect sweeps, timings, ReLU iterations,
        threads, whether the sweeps ran on the dense cube (``cube_sweeps``).
    """

    coef: np.ndarray
    se: np.ndarray
    vcov: np.ndarray
    names: tuple[str, ...]
    collinear: tuple[str, ...]
    fixed_effects: tuple[np.ndarray, ...]
    intercept: float | None
    eta: np.ndarray
    mu: np.ndarray
    sample: np.ndarray
    drop_reason: np.ndarray
    dropped: dict[str, int]
    converged: bool
    iterations: int
    deviance: float
    loglik: float
    n_obs: int
    fe_sizes: tuple[int, ...]
    vcov_type: str
    n_clusters: tuple[int, ...]
    df_k: int
    diagnostics: dict = field(default_factory=dict)


# ---------------------------------------------------------------------------- validation


def _as_float_vector(a: object, n: int | None, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim != 1:
        raise HDFEInputError(f"{what} must be one-dimensional, got shape {arr.shape}.")
    if n is not None and arr.shape[0] != n:
        raise HDFEInputError(f"{what} has {arr.shape[0]} rows but y has {n}; pass one value per row.")
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise HDFEInputError(f"{what} must be numeric, got dtype {arr.dtype}.")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise HDFEInputError(
            f"{what} has {int(bad.sum())} non-finite value(s) (first at row {i}: {arr[i]!r}); "
            "drop or fill those rows before estimating."
        )
    return arr


def _validate_X(X: object, n: int, names: Sequence[str] | None) -> tuple[np.ndarray, tuple[str, ...]]:
    """``(n, k)`` float regressors (finite) and their names (``x0, x1, ...`` unless given)."""
    if X is None:
        X = np.empty((n, 0))
    Xa = np.asarray(X)
    if Xa.ndim == 1:
        Xa = Xa[:, None]
    if Xa.ndim != 2 or Xa.shape[0] != n:
        raise HDFEInputError(f"X must be an (n, k) array with n = {n} rows, got shape {Xa.shape}.")
    k_all = Xa.shape[1]
    names = tuple(names) if names is not None else tuple(f"x{j}" for j in range(k_all))
    if len(names) != k_all:
        raise HDFEInputError(f"names has {len(names)} entries but X has {k_all} columns.")
    if k_all and not np.issubdtype(Xa.dtype, np.number):
        raise HDFEInputError(f"X must be numeric, got dtype {Xa.dtype}.")
    Xa = np.asarray(Xa, dtype=np.float64)
    if k_all:
        bad = ~np.isfinite(Xa)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise HDFEInputError(
                f"regressor {names[j]!r} has {int(bad[:, j].sum())} non-finite value(s) "
                f"(first at row {i}: {Xa[i, j]!r}); drop or fill those rows before estimating."
            )
    return Xa, names


def _validate_codes(fe: Sequence[object], n: int, fe_names: Sequence[str]) -> list[np.ndarray]:
    out = []
    for d, c in enumerate(fe):
        a = np.asarray(c)
        name = fe_names[d]
        if a.ndim != 1 or a.shape[0] != n:
            raise HDFEInputError(
                f"fixed effect {name!r} must be a one-dimensional array of {n} integer codes, got shape {a.shape}."
            )
        if not np.issubdtype(a.dtype, np.integer):
            raise HDFEInputError(
                f"fixed effect {name!r} must hold integer codes (got dtype {a.dtype}); "
                "factorize it first, e.g. pandas.factorize(column)[0], or use ppml_hdfe_frame."
            )
        if n and a.min() < 0:
            i = int(np.argmin(a))
            raise HDFEInputError(
                f"fixed effect {name!r} has a negative code {int(a[i])} at row {i}; codes must be >= 0 "
                "(missing groups: drop those rows first)."
            )
        out.append(a.astype(np.int64, copy=False))
    return out


def _validate_clusters(cluster: object, n: int) -> list[np.ndarray]:
    """One or two cluster arrays of length ``n`` without missing values (``[]`` for ``None``)."""
    clusters_in: list[np.ndarray] = []
    if cluster is None:
        return clusters_in
    carr = cluster
    if isinstance(carr, np.ndarray) and carr.ndim == 2:
        carr = [carr[:, j] for j in range(carr.shape[1])]
    elif isinstance(carr, np.ndarray) or not isinstance(carr, (list, tuple)):
        carr = [carr]
    if not 1 <= len(carr) <= 2:
        raise ClusterError(f"cluster must be one or two variables, got {len(carr)}.")
    for j, c in enumerate(carr):
        a = np.asarray(c)
        if a.ndim != 1 or a.shape[0] != n:
            raise ClusterError(
                f"cluster variable {j} must have one value per row ({n}), got shape {a.shape}."
            )
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            raise ClusterError(
                f"cluster variable {j} has {int((~np.isfinite(a)).sum())} missing value(s); "
                "every row needs a cluster."
            )
        if a.dtype == object and any(v is None for v in a):
            raise ClusterError(f"cluster variable {j} has missing values (None); every row needs a cluster.")
        clusters_in.append(a)
    return clusters_in


def _compress(codes: np.ndarray, keep: np.ndarray, full: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """Dense codes of the kept rows (``full``: all rows are kept) and the map dense -> input code."""
    c = codes if full else codes[keep]
    top = int(codes.max()) + 1 if codes.size else 0
    if top <= 4 * max(codes.size, 1):
        present = np.bincount(c, minlength=top) > 0
        if present.all():  # already dense: no remapping
            return c, np.arange(top), top
        remap = np.cumsum(present) - 1
        return remap[c].astype(np.int32), np.flatnonzero(present), int(present.sum())
    uniq, inv = np.unique(c, return_inverse=True)
    return inv.astype(np.int32), uniq, int(uniq.shape[0])


def _same_codes(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.array_equal`` of two code arrays of one length, rejecting most unequal pairs on a prefix."""
    head = min(a.shape[0], 256)
    return bool(np.array_equal(a[:head], b[:head]) and np.array_equal(a, b))


def _collinear_columns(gram_x: np.ndarray, scale: np.ndarray, tol: float) -> np.ndarray:
    """Columns whose partialled-out variance is below ``tol`` times their centred variance.

    Sequential (unpivoted) Cholesky as in fixest: a column is dropped when what is left of it
    after the fixed effects and the earlier kept columns is negligible.
    """
    k = gram_x.shape[0]
    drop = np.zeros(k, dtype=bool)
    R = np.zeros((k, k))
    for j in range(k):
        rjj = gram_x[j, j] - sum(R[i, j] ** 2 for i in range(j) if not drop[i])
        if scale[j] <= 0 or rjj <= tol * scale[j]:
            drop[j] = True
            continue
        R[j, j] = np.sqrt(rjj)
        for i in range(j + 1, k):
            v = gram_x[j, i] - sum(R[t, j] * R[t, i] for t in range(j) if not drop[t])
            R[j, i] = v / R[j, j]
    return drop


# ---------------------------------------------------------------------------- engine

#: tolerance of the fixed-effect solves of the first IRLS step (a direction, not the answer;
#: the covariance re-solves the regressors at se_fe_tol under the final weights anyway)
_FIRST_STEP_TOL = 1e-4
#: tolerance of the regressors' fixed-effect solves when the Hessian is refreshed
_HESSIAN_TOL = 1e-6
#: the working residual's fixed-effect tolerance of the second step; later steps tighten it to
#: 0.1 times the deviance criterion (ppmlhdfe's adaptive rule, which starts at 1e-4)
_INNER_TOL_START = 1e-3
#: regressors with less than this share of their variance left after the (loose) first-step
#: fixed-effect solve are re-solved tightly before the collinearity check: the loose solve's
#: error in that share is second order, about (1e-4 / (1 - rate))^2, far below 1e-2 even at a
#: convergence rate of 0.99 per sweep
_COLLIN_SUSPECT = 1e-2


def _validate_design(
    y: np.ndarray,
    X: object,
    names: Sequence[str] | None,
    fe: Sequence[object],
    fe_names: Sequence[str] | None,
    weights: object,
) -> tuple[np.ndarray, tuple[str, ...], tuple[str, ...], list[np.ndarray], bool, np.ndarray | None]:
    """Check the regressors, fixed effects and weights shared by the Poisson and least-squares fits.

    Returns the regressor matrix and names, the fixed-effect names and codes (one constant code
    when there are no fixed effects), whether there are fixed effects, and the weights.
    """
    n = y.shape[0]
    if n == 0:
        raise HDFEInputError("y is empty: nothing to estimate.")
    Xa, names = _validate_X(X, n, names)
    fe = list(fe)
    fe_names = tuple(fe_names) if fe_names is not None else tuple(f"fe{d}" for d in range(len(fe)))
    if len(fe_names) != len(fe):
        raise HDFEInputError(f"fe_names has {len(fe_names)} entries but fe has {len(fe)} dimensions.")
    codes_in = _validate_codes(fe, n, fe_names)
    has_fe = bool(codes_in)
    if not has_fe:
        codes_in = [np.zeros(n, dtype=np.int64)]
    w_user = None if weights is None else _as_float_vector(weights, n, "weights")
    if w_user is not None and (w_user <= 0).any():
        i = int(np.flatnonzero(w_user <= 0)[0])
        raise HDFEInputError(
            f"weights must be > 0; row {i} has {w_user[i]!r}. Drop rows with zero weight first."
        )
    return Xa, names, fe_names, codes_in, has_fe, w_user


def ppml_hdfe(
    y: np.ndarray,
    X: np.ndarray | None,
    fe: Sequence[np.ndarray],
    *,
    weights: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    cluster: np.ndarray | Sequence[np.ndarray] | None = None,
    vcov: VcovType = "hetero",
    names: Sequence[str] | None = None,
    fe_names: Sequence[str] | None = None,
    tol: float = 1e-8,
    maxiter: int = 100,
    fe_tol: float = 1e-10,
    fe_maxiter: int = 10_000,
    separation: Sequence[SeparationMethod] = ("fe", "relu"),
    drop_singletons: bool = True,
    collin_tol: float = 1e-9,
    se_fe_tol: float = 1e-8,
    threads: Threads = None,
) -> HDFEFit:
    """Poisson pseudo-maximum likelihood with up to several high-dimensional fixed effects.

    Estimates ``E[y | X, fe] = exp(offset + X b + a_1[g_1] + ... + a_D[g_D])`` by iteratively
    reweighted least squares (IRLS, as ppmlhdfe: Correia, Guimarães and Zylkin 2020); each
    weighted least-squares step partials the fixed effects out by alternating weighted
    projections on their coefficients with Irons-Tuck acceleration (as fixest: Bergé 2018),
    warm-started from the previous step, with a tolerance that tightens as IRLS converges.

    Parameters
    ----------
    y
        ``(n,)`` dependent variable, finite and ``>= 0`` (not all zero).
    X
        ``(n, k)`` regressors (finite), or ``None`` for fixed effects only.
    fe
        Fixed-effect dimensions, each an ``(n,)`` array of non-negative integer codes
        (e.g. exporter-year, importer-year, pair). An empty list fits a constant instead.
    weights
        ``(n,)`` positive observation weights (analytic weights, as pyfixest's default).
    offset
        ``(n,)`` offset added to the linear predictor (coefficient fixed at 1).
    cluster
        Cluster codes for clustered (CRV1) standard errors: one ``(n,)`` array, or a sequence of
        two arrays (or an ``(n, 2)`` array) for two-way clustering (Cameron, Gelbach and Miller
        2011). Any hashable values; ``None`` uses ``vcov``.
    vcov
        ``"hetero"`` (heteroskedasticity-robust, default) or ``"iid"`` when no cluster is given.
    names, fe_names
        Names of the regressors and fixed-effect dimensions, used in messages and results.
    tol
        IRLS stops when the relative change of the deviance, ``|dev - dev_old| / (0.1 + |dev|)``,
        is below ``tol`` (fixest and pyfixest use the same rule).
    maxiter
        Maximum IRLS iterations (raises :class:`~kaifang.errors.ConvergenceError` beyond).
    fe_tol, fe_maxiter
        Final tolerance and iteration cap of the fixed-effect solves.
    separation
        Checks for separated observations, any of ``"fe"`` (groups whose ``y`` is all zero)
        and ``"relu"`` (the iterative rectifier of Correia, Guimarães and Zylkin 2021); ``()``
        for none. Separated rows are dropped and reported.
    drop_singletons
        Drop (iteratively) rows alone in a fixed-effect group; they do not change the estimates.
    collin_tol
        A regressor whose variance left after the fixed effects and earlier regressors is below
        ``collin_tol`` times its own variance is dropped (and named in ``collinear``).
    se_fe_tol
        Tolerance of the fixed-effect solve of the regressors under the final weights, used by
        the covariance matrix (the coefficients do not depend on it).
    threads
        Threads of the compiled loops: a positive integer, or ``None``/``"auto"`` (default) to
        use one thread below 400,000 estimation rows and otherwise as many as there are idle
        cores (cores minus the load average). The environment variable
        ``KAIFANG_HDFE_THREADS`` sets the count for the process; the argument wins. The
        estimates do not depend on it (to rounding).

    Returns
    -------
    HDFEFit
        Coefficients, covariance, fixed effects, fitted values, sample masks and diagnostics.

    Raises
    ------
    HDFEInputError
        For invalid input (shapes, non-finite values, negative ``y``, bad codes or options).
    ClusterError
        For an unusable cluster variable.
    SeparationError
        When no observation is left to estimate.
    ConvergenceError
        When IRLS does not converge in ``maxiter`` iterations.
    """
    t_start = time.perf_counter()
    keep_freed_memory()
    # ---- validation
    y = _as_float_vector(y, None, "y")
    n = y.shape[0]
    if n and (y < 0).any():
        i = int(np.flatnonzero(y < 0)[0])
        raise HDFEInputError(
            f"y must be >= 0 for Poisson regression; row {i} has {y[i]!r} "
            f"({int((y < 0).sum())} negative value(s) in all)."
        )
    if n and not (y > 0).any():
        raise HDFEInputError("y is zero in every row: the Poisson model has no solution (all separated).")
    Xa, names, fe_names, codes_in, has_fe, w_user = _validate_design(y, X, names, fe, fe_names, weights)
    k_all = Xa.shape[1]
    off = None if offset is None else _as_float_vector(offset, n, "offset")
    sep = tuple("relu" if s == "ir" else s for s in separation)
    for s in sep:
        if s not in _SEPARATION_CHOICES:
            raise HDFEInputError(
                f"separation method {s!r} is unknown; choose any of {list(_SEPARATION_CHOICES)} (or ())."
            )
    if vcov not in _VCOV_CHOICES:
        raise HDFEInputError(f"vcov={vcov!r} is unknown; choose one of {list(_VCOV_CHOICES)}.")
    clusters_in = _validate_clusters(cluster, n)

    nt = resolve_threads(threads, n)  # threads of the compiled loops (sweeps and row passes)

    # ---- sample: singletons, separation
    reason = np.zeros(n, dtype=np.int8)
    sizes_in = [int(c.max()) + 1 for c in codes_in]
    relu_iters = 0
    relu_ok = True
    while True:
        drop_singletons_and_fe_separation(
            y,
            codes_in,
            sizes_in,
            reason,
            singletons=drop_singletons and has_fe,
            fe_check="fe" in sep and has_fe,
        )
        keep = reason == KEPT
        if not keep.any() or not np.logical_and(y > 0, keep).any():  # no copy of y[keep]
            raise SeparationError(
                "no observation is left after dropping singletons and separated observations "
                f"({_dropped_counts(reason)}); the model cannot be estimated on these data."
            )
        if "relu" not in sep or (y[keep] > 0).all():
            break
        cs = [_compress(c, keep)[0] for c in codes_in]
        fs = FEStructure.from_codes(cs)
        sep_mask, it_relu, ok = relu_separated(y[keep], np.ascontiguousarray(Xa[keep]), fs)
        relu_iters += it_relu
        relu_ok &= ok
        if not ok:
            log.warning(
                "ReLU separation check did not converge (%d iterations); its result is approximate.", it_relu
            )
        if not sep_mask.any():
            break
        idx = np.flatnonzero(keep)[sep_mask]
        reason[idx] = SEPARATED_RELU
    t_sample = time.perf_counter() - t_start

    # ---- estimation sample arrays
    keep = reason == KEPT
    full = bool(keep.all())
    yk = y if full else y[keep]
    nk = yk.shape[0]
    comp = [_compress(c, keep, full) for c in codes_in]
    fes = FEStructure.from_codes([c[0] for c in comp])
    # the exporter-time x importer-time x pair design as a dense cube: its one-thread sweeps
    # are faster than the row sweeps on two threads (at 1,000,000 rows one column 1.6 ms against
    # 3.6 ms on one thread and 5.0 ms on two on the shared development machine)
    cube = detect_cube(fes)
    fe_sizes = [c[2] for c in comp]
    # keep only the maps dense code -> input code: the codes themselves live on in fes.cg
    present_codes = [c[1] for c in comp]
    del comp
    # absent weights and offsets are read-only broadcasts of 1 and 0 (no (n,) arrays)
    wk = np.broadcast_to(1.0, (nk,)) if w_user is None else (w_user if full else w_user[keep])
    ok_ = np.broadcast_to(0.0, (nk,)) if off is None else (off if full else off[keep])
    m = 1 + k_all
    V = np.empty((nk, m))
    if full and k_all:
        V[:, 1:] = Xa
    elif k_all:  # column by column: a boolean row selection of the whole (n, k) block costs a third more
        for j in range(k_all):
            V[:, 1 + j] = Xa[:, j][keep]
    clusters: list[np.ndarray] = []
    for j, c in enumerate(clusters_in):
        # clustering by a fixed-effect dimension (pairs, usually): its dense codes exist already
        same = next(
            (
                d
                for d, ci in enumerate(codes_in)
                if has_fe and c.dtype.kind in "iu" and c.shape == ci.shape and _same_codes(c, ci)
            ),
            None,
        )
        if same is not None:
            dc, g = fes.cg[same] - fes.bounds[same], fe_sizes[same]
        else:
            dc, g = dense_codes(c if full else c[keep])
        if g < 2:
            raise ClusterError(
                f"cluster variable {j} has {g} distinct value(s) in the estimation sample; "
                "clustered standard errors need at least 2 clusters."
            )
        clusters.append(dc)

    # ---- IRLS (Correia, Guimarães and Zylkin 2020, sec. 2), in increment form.
    # Step 1 is the usual IRLS step on the working variable z. Afterwards each step is the
    # Newton increment: the weighted least-squares fit of the working residual
    # r = (y - mu) / mu on [X, D] with weights W = w mu. By Frisch-Waugh-Lovell only r has to
    # be partialled out every step (one column instead of 1 + k): the score X~'W r~ is exact
    # for any representative X~ = X - D a_X because r~ is W-orthogonal to D, while the
    # Hessian X~'W X~ and a_X come from the first step and are refreshed (all columns,
    # warm-started) whenever progress slows; in between they get BFGS updates. The last step's
    # r is partialled out at fe_tol, so its score is exact and the fixed point is the
    # maximum-likelihood estimate whatever Hessian steered the steps.
    ylogy = K.ylogy_minus_y(yk)
    mean_y = float(np.average(yk, weights=wk)) if w_user is not None else float(np.sum(yk)) / nk
    start = (
        poisson_fe_start(
            fes,
            yk,
            None if w_user is None else wk,
            None if off is None else np.ascontiguousarray(ok_),
            threads=nt,
            cube=cube,
        )
        if has_fe
        else None
    )
    if start is None:
        eta = np.log(0.5 * (yk + mean_y))
    else:
        eta = ok_ + K.fe_sum(fes.cg, start)
    W = np.empty(nk)
    z = np.empty(nk)
    # the log-likelihood's constant, with W and z as scratch before they are written
    ll_const = K.poisson_loglik_constant(yk, ylogy, wk, work=(W, z))
    dev_old = K.poisson_irls_update(yk, ylogy, eta, ok_, wk, z, W)
    V[:, 0] = z
    del z
    active = np.arange(k_all)  # kept regressors (indices into the input columns)
    collinear: tuple[str, ...] = ()
    # The first step only needs a good Newton direction: loose tolerances. A regressor that
    # looks nearly collinear with the fixed effects is re-solved tightly before it is judged
    # (its partialled-out variance is tiny, so errors of the solve would dominate it).
    a0 = None
    if start is not None:
        a0 = np.zeros((fes.n_groups, V.shape[1]))
        a0[:, 0] = start
    loose = max(fe_tol, _FIRST_STEP_TOL)
    S, inv_w = K.group_sums_and_inverse_weights(fes.cg, W, V, fes.n_groups, nt)
    res = solve_fe(fes, W, V, a0, tol=loose, maxiter=fe_maxiter, S=S, inv_w=inv_w, threads=nt, cube=cube)
    alpha = res.alpha
    sweeps: list[int] = [res.sweeps]
    gram = K.weighted_resid_gram(fes.cg, W, V, alpha, nt)
    if V.shape[1] > 1:
        mean_x = S[: fes.bounds[1]].sum(axis=0) / W.sum()  # weighted means (dimension 0 covers every row)
        centred = K.weighted_centred_squares(V, W, mean_x)[1:]
        left = np.diag(gram)[1:] / np.where(centred > 0, centred, 1.0)
        suspect = left < _COLLIN_SUSPECT
        if suspect.any():
            tols = np.full(V.shape[1], loose)
            tols[1:][suspect] = max(fe_tol, 1e-12)
            res = solve_fe(
                fes, W, V, alpha, tol=tols, maxiter=fe_maxiter, S=S, inv_w=inv_w, threads=nt, cube=cube
            )
            alpha = res.alpha
            sweeps[-1] += res.sweeps
            gram = K.weighted_resid_gram(fes.cg, W, V, alpha, nt)
        drop = _collinear_columns(gram[1:, 1:], centred, collin_tol)
        if drop.any():
            collinear = tuple(names[j] for j in active[drop])
            log.info("dropping collinear regressors: %s", ", ".join(collinear))
            keepcols = np.concatenate([[True], ~drop])
            V = np.ascontiguousarray(V[:, keepcols])
            alpha = np.ascontiguousarray(alpha[:, keepcols])
            gram = gram[np.ix_(keepcols, keepcols)]
            active = active[~drop]
    kk = V.shape[1] - 1
    beta = np.linalg.solve(gram[1:, 1:], gram[1:, 0]) if kk else np.zeros(0)
    fe_coef = alpha[:, 0] - alpha[:, 1:] @ beta
    eta = np.array(ok_, dtype=np.float64)  # materialised: ok_ may be a read-only broadcast
    r_view = V[:, 0]  # the working variable z is spent: the column now holds r
    # the pass that takes the first step also writes the next step's weights, working residual
    # and their group sums
    dev, S_next, inv_next = K.step_and_deviance(
        eta, V, beta, fes.cg, fe_coef, 1.0, yk, ylogy, wk, W, r_view, True, nt, fes.n_groups
    )
    alpha_x = np.ascontiguousarray(alpha[:, 1:])
    # From here on V[:, 1:] holds X~ = X - D alpha_x (partialled out in place, no copy): by
    # Frisch-Waugh-Lovell any such representative gives the exact score X~' W r~, which the
    # score pass then reads without gathering alpha_x (one column's fixed effects instead of 1 + k),
    # and X b + D a = X~ b + D (a + alpha_x b) keeps the steps in terms of X~.
    if kk:
        K.residualise_columns(fes.cg, V, alpha_x, 1, nt)
    hess = gram[1:, 1:]
    del alpha, gram
    history: list[float] = []
    bsteps: list[float] = []  # largest relative coefficient change of every step after the first
    refreshed: list[bool] = [True]
    crit = abs(dev - dev_old) / (0.1 + abs(dev))
    history.append(crit)
    inner_tol = max(fe_tol, min(_INNER_TOL_START, 0.1 * crit))
    converged = False
    finishing = False
    it = 1
    g_prev = s_prev = None
    eta_prev = None
    while it < maxiter:
        it += 1
        dev_old = dev  # W and r hold the weights and working residual at eta (the step pass wrote them)
        # Refresh the Hessian whenever the coefficients converge slowly (the quasi-Newton rate is
        # then poor); not near the end, where rounding sets the ratio. Otherwise the Hessian of the
        # first step is reused with BFGS updates.
        refresh = (
            kk > 0
            and not finishing
            and len(bsteps) > 1
            and bsteps[-1] > 1e-6
            and bsteps[-1] > 0.2 * bsteps[-2]
        )
        # once the deviance criterion is met, any step may be the last: solve it at fe_tol
        tol_now = fe_tol if finishing or crit < tol else inner_tol
        ax_new = None  # the refresh's further fixed effects of X~ (V holds X~ = X - D alpha_x)
        if refresh:
            S, inv_w = K.group_sums_and_inverse_weights(fes.cg, W, V, fes.n_groups, nt)
            # the Hessian only steers the step: its regressors need a loose tolerance
            tols = np.full(kk + 1, max(tol_now, _HESSIAN_TOL))
            tols[0] = tol_now
            res = solve_fe(
                fes, W, V, None, tol=tols, maxiter=fe_maxiter, S=S, inv_w=inv_w, threads=nt, cube=cube
            )
            ax_new = np.ascontiguousarray(res.alpha[:, 1:])
            alpha_r = res.alpha[:, 0]
            gram = K.weighted_resid_gram(fes.cg, W, V, res.alpha, nt)
            hess = gram[1:, 1:]
            g = gram[1:, 0]
        else:
            R = V[:, :1]
            S, inv_w = S_next, inv_next  # summed by the pass that took the last step
            res = solve_fe(
                fes, W, R, None, tol=tol_now, maxiter=fe_maxiter, S=S, inv_w=inv_w, threads=nt, cube=cube
            )
            alpha_r = res.alpha[:, 0]
            if kk:
                g = K.weighted_score_partialled(fes.cg, W, V, alpha_r, nt)
                if g_prev is not None:
                    # BFGS update of the reused Hessian from the change of the score over the last
                    # step (secant condition H s = g_prev - g): superlinear instead of linear steps
                    yv = g_prev - g
                    ys = float(yv @ s_prev)
                    Hs = hess @ s_prev
                    sHs = float(s_prev @ Hs)
                    if ys > 0.0 and sHs > 0.0:
                        hess = hess - np.outer(Hs, Hs) / sHs + np.outer(yv, yv) / ys
        sweeps.append(res.sweeps)
        refreshed.append(bool(refresh))
        dbeta = np.linalg.solve(hess, g) if kk else np.zeros(0)
        # the step in terms of X~ (what V holds) and the fixed effects' change in terms of X
        dfe_v = alpha_r.copy() if ax_new is None else alpha_r - ax_new @ dbeta
        if ax_new is not None:
            alpha_x = alpha_x + ax_new
        dfe = alpha_r - alpha_x @ dbeta if kk else alpha_r.copy()
        if eta_prev is None:
            eta_prev = np.empty_like(eta)  # one buffer for the fit, not a copy per step
        np.copyto(eta_prev, eta)
        # the pass that takes the step also computes the next step's weights, working residual
        # and their group sums (after the last step: the weights at the estimate, for the covariance)
        step = 1.0
        while True:
            dev, S_next, inv_next = K.step_and_deviance(
                eta, V, dbeta, fes.cg, dfe_v, step, yk, ylogy, wk, W, r_view, True, nt, fes.n_groups
            )
            # step-halving when the deviance is not finite or rises (rare; guards overflow)
            if (np.isfinite(dev) and dev <= dev_old * (1 + 1e-6) + 1e-10) or step <= 1e-6:
                break
            step *= 0.5
            eta[:] = eta_prev
        beta = beta + step * dbeta
        fe_coef = fe_coef + step * dfe
        if ax_new is not None:  # keep V[:, 1:] = X - D alpha_x
            K.residualise_columns(fes.cg, V, ax_new, 1, nt)
        if kk:
            g_prev, s_prev = g, step * dbeta
        crit = abs(dev - dev_old) / (0.1 + abs(dev))
        history.append(crit)
        if finishing:
            converged = True
            break
        # After the first steps the Hessian is reused (quasi-Newton, linear convergence), so
        # a small deviance change is not enough: the coefficients must have stopped moving too.
        still = kk > 0 and bool(np.any(np.abs(step * dbeta) > tol * (0.1 + np.abs(beta))))
        if kk:
            bsteps.append(float(np.max(np.abs(step * dbeta) / (0.1 + np.abs(beta)))))
            if still and not refresh and len(bsteps) > 1:
                # the quasi-Newton steps converge superlinearly: with the last ratio q of step
                # sizes the coefficients' remaining error is about b q / (1 - q); accept the step
                # when that is below tol / 100 (the rule above asks b < tol, leaving about q tol)
                q = bsteps[-1] / bsteps[-2]
                if q < 0.1 and bsteps[-1] * q / (1.0 - q) < 0.01 * tol:
                    still = False
        if crit < tol and not still:
            if tol_now <= fe_tol:
                converged = True
                break
            # one more step with the working residual partialled out at the final tolerance:
            # its score is then exact, so the step ends on the maximum-likelihood estimate
            finishing = True
        # tighten the inner tolerance as IRLS converges (ppmlhdfe's adaptive rule)
        inner_tol = max(fe_tol, min(inner_tol, 0.1 * crit))
    dev_old = dev
    eta_prev = None  # the step-halving buffer is not needed by the covariance
    if not converged:
        raise ConvergenceError(
            f"PPML (IRLS) did not converge in {maxiter} iterations: last relative deviance change "
            f"{crit:.3g} > tol={tol:g}. Increase maxiter, check for separation (separation=('fe', 'relu')) "
            "or rescale the regressors.",
            iterations=it,
            residual=float(crit),
        )
    t_irls = time.perf_counter() - t_start - t_sample

    # ---- covariance at the estimate: bread and scores with the weights W = w mu at the final
    # eta (the last step pass wrote them), the regressors partialled out under those weights
    mu = np.empty(nk)
    if kk:
        # regressors partialled out under the final weights, from the X~ of the last Hessian
        Xt = V[:, 1:]  # a view: the regressors' columns are reused for X~ and then the scores
        # group sums of all of V (C-ordered, the kernel variant every other call uses), X's kept
        S, inv_w = K.group_sums_and_inverse_weights(fes.cg, W, V, fes.n_groups, nt)
        S = np.ascontiguousarray(S[:, 1:])
        V = r_view = R = None
        res = solve_fe(
            fes,
            W,
            Xt,
            None,
            tol=max(fe_tol, se_fe_tol),
            maxiter=fe_maxiter,
            S=S,
            inv_w=inv_w,
            threads=nt,
            cube=cube,
        )
        sweeps.append(res.sweeps)
        # memory: one (n, k) array is partialled out, then turned into the scores, in place, in
        # the pass that sums the Hessian X~' W X~ and computes mu
        hess = K.residualise_gram_and_scores(fes.cg, Xt, res.alpha, W, wk, yk, eta, mu, nt)
        bread = np.linalg.inv(hess)
        scores = Xt
        vtype = "cluster" if clusters else vcov
        # codes for the nesting check: each dimension's row of global codes (no copies)
        fe_codes_k = [fes.cg[d] for d in range(fes.n_dims)] if has_fe else []
        vc, vinfo = sandwich(
            bread,
            scores,
            vcov=vtype,
            clusters=clusters,
            fe_sizes=fe_sizes if has_fe else [1],
            fe_codes=fe_codes_k if has_fe else [np.zeros(nk, dtype=np.int64)],
        )
        del Xt, scores
    else:
        np.exp(eta, out=mu)
        vc = np.zeros((0, 0))
        vtype = "cluster" if clusters else vcov
        vinfo = {"df_k": 0}

    # ---- assemble
    coef = np.full(k_all, np.nan)
    coef[active] = beta
    vcov_full = np.full((k_all, k_all), np.nan)
    vcov_full[np.ix_(active, active)] = vc
    se = np.sqrt(np.diag(vcov_full))
    fe_out: list[np.ndarray] = []
    intercept = None
    fe_coef = fe_coef.copy()
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
    if full:  # the engine's own arrays: no copies
        eta_full, mu_full = eta, mu
    else:
        eta_full = np.full(n, np.nan)
        mu_full = np.full(n, np.nan)
        eta_full[keep] = eta
        mu_full[keep] = mu
    # sum w (y eta - mu - log y!) = sum w (y log y - y - log y!) - deviance / 2 (no pass over eta, mu)
    loglik = ll_const - 0.5 * float(dev_old)
    return HDFEFit(
        coef=coef,
        se=se,
        vcov=vcov_full,
        names=names,
        collinear=collinear,
        fixed_effects=tuple(fe_out),
        intercept=intercept,
        eta=eta_full,
        mu=mu_full,
        sample=keep,
        drop_reason=reason,
        dropped={v: int((reason == c).sum()) for c, v in REASONS.items()},
        converged=converged,
        iterations=it,
        deviance=float(dev_old),
        loglik=loglik,
        n_obs=int(nk),
        fe_sizes=tuple(fe_sizes) if has_fe else (),
        vcov_type=vtype,
        n_clusters=tuple(vinfo.get("n_clusters", ())),
        df_k=int(vinfo["df_k"]),
        diagnostics={
            "criterion_history": history,
            "fe_sweeps": sweeps,
            "hessian_refreshed": refreshed,
            "start": "poisson_fe" if start is not None else "mean",
            "relu_iterations": relu_iters,
            "relu_converged": relu_ok,
            "threads": nt,
            "cube_sweeps": cube is not None,
            "seconds_sample": t_sample,
            "seconds_irls": t_irls,
            "seconds_total": time.perf_counter() - t_start,
        },
    )


def _dropped_counts(reason: np.ndarray) -> str:
    return ", ".join(f"{v}: {int((reason == c).sum())}" for c, v in REASONS.items())
