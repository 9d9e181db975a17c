"""Which observations enter the estimation: singletons and separation.

* Singletons: an observation alone in a fixed-effect group is fitted perfectly by its own
  coefficient and carries no information; dropping it (iteratively, as reghdfe/ppmlhdfe/fixest
  do) changes no estimate but the degrees of freedom (Correia 2015).
* Separation, "fe" check: a fixed-effect group whose dependent variable is zero throughout
  drives its coefficient to minus infinity; those observations are dropped (Correia,
  Guimarães and Zylkin 2021, sec. 3.1).
* Separation, "relu" check (the iterative rectifier of Correia, Guimarães and Zylkin 2021,
  sec. 4.2): finds a linear combination ``z = X g + D a`` of regressors and fixed effects with
  ``z = 0`` where ``y > 0`` and ``z >= 0`` where ``y = 0``; observations with ``z > 0`` are
  separated. Each step is a weighted least-squares fit of ``u`` on ``[X, D]`` with a very large
  weight on ``y > 0``, followed by ``u = max(fitted, 0)`` on ``y = 0``.
"""

from __future__ import annotations

import numpy as np

from . import _kernels as K
from ._demean import FEStructure, solve_fe

#: reason codes of ``HDFEFit.drop_reason``
KEPT, MISSING_GROUP, SINGLETON, SEPARATED_FE, SEPARATED_RELU = 0, 1, 2, 3, 4
REASONS = {
    SINGLETON: "singleton",
    SEPARATED_FE: "separated_fe",
    SEPARATED_RELU: "separated_relu",
}


def drop_singletons_and_fe_separation(
    y: np.ndarray,
    codes: list[np.ndarray],
    sizes: list[int],
    reason: np.ndarray,
    *,
    singletons: bool,
    fe_check: bool,
) -> None:
    """Mark singletons and FE-separated observations in ``reason`` (in place) until stable.

    Only observations with ``reason == KEPT`` take part; newly dropped ones get
    ``SINGLETON`` or ``SEPARATED_FE``. Iterates because each drop can create new singletons
    or all-zero groups.
    """
    if not (singletons or fe_check):
        return
    K.mark_singletons_and_fe_separated(
        np.stack(codes),
        np.asarray(sizes, dtype=np.int64),
        y,
        reason,
        singletons,
        fe_check,
        SINGLETON,
        SEPARATED_FE,
    )


def relu_separated(
    y: np.ndarray,
    X: np.ndarray,
    fe: FEStructure,
    *,
    tol: float = 1e-5,
    maxiter: int = 100,
    fe_tol: float = 1e-12,
    dense_limit: int = 1_000_000,
) -> tuple[np.ndarray, int, bool]:
    """Observations separated by a combination of regressors and fixed effects (ReLU method).

    Parameters
    ----------
    y
        Dependent variable of the current sample.
    X
        ``(n, k)`` regressors of the current sample (``k`` may be 0).
    fe
        Fixed-effect codes of the current sample.
    tol
        A fitted ``z`` in ``[-tol/10, tol]`` counts as zero (as in ppmlhdfe).
    maxiter
        Maximum number of rectifier iterations.
    fe_tol
        Tolerance of the inner fixed-effect solves (large problems only).
    dense_limit
        Problems with ``n * (k + groups)`` up to this size are solved exactly with dense
        linear algebra (the fit is constrained to be zero where ``y > 0`` through a null-space
        basis, instead of a very large weight); larger ones use weighted alternating projections,
        which can stall on the ill-conditioned weighted problem: then ``converged`` is False and
        the result is approximate (validated only on the small, exact path).

    Returns
    -------
    separated, iterations, converged
        Boolean mask of separated observations (all ``y == 0``).
    """
    n = y.shape[0]
    pos = y > 0
    n_pos = int(pos.sum())
    if n_pos == n:
        return np.zeros(n, dtype=bool), 0, True
    p = X.shape[1] + fe.n_groups
    if n * p <= dense_limit:
        return _relu_dense(pos, X, fe, tol=tol, maxiter=maxiter)
    # Weight on y > 0 so large that the fit there is zero to within tol (Correia et al. 2021).
    big = max(float(n_pos), 1.0) / tol**2
    omega = np.where(pos, big, 1.0)
    k = X.shape[1]
    V = np.empty((n, 1 + k))
    V[:, 0] = (~pos).astype(np.float64)
    if k:
        V[:, 1:] = X
    inv_w = K.group_inverse_weights(fe.cg, omega, fe.n_groups)
    alpha = None
    uhat = np.zeros(n)
    inner_ok = True
    for it in range(1, maxiter + 1):
        S = K.group_sums(fe.cg, omega, V, fe.n_groups)
        res = solve_fe(fe, omega, V, alpha, tol=fe_tol, maxiter=2_000, inv_w=inv_w, S=S)
        alpha = res.alpha
        inner_ok &= res.converged
        if k:
            gram = K.weighted_resid_gram(fe.cg, omega, V, alpha)
            gxx = gram[1:, 1:]
            scale = np.sqrt(np.maximum(np.diag(gxx), 1e-300))
            g = np.linalg.lstsq(gxx / np.outer(scale, scale), gram[1:, 0] / scale, rcond=1e-12)[0] / scale
            fe_coef = alpha[:, 0] - alpha[:, 1:] @ g
            uhat = X @ g + K.fe_sum(fe.cg, fe_coef)
        else:
            uhat = K.fe_sum(fe.cg, alpha[:, 0])
        zero = pos | ((uhat > -0.1 * tol) & (uhat < tol))
        uhat[zero] = 0.0
        if np.all(uhat >= 0.0):
            # with a very large weight the alternating projections can stall; say so
            return uhat > 0.0, it, inner_ok
        V[:, 0] = np.where(pos, 0.0, np.maximum(uhat, 0.0))
    return np.zeros(n, dtype=bool), maxiter, False


def _relu_dense(
    pos: np.ndarray, X: np.ndarray, fe: FEStructure, *, tol: float, maxiter: int
) -> tuple[np.ndarray, int, bool]:
    """Exact ReLU iterations for small problems.

    With ``A = [X, D]`` (``D`` the fixed-effect dummies), every candidate ``z = A t`` with
    ``z = 0`` where ``y > 0`` is ``A N v`` for ``N`` a basis of the null space of ``A[y > 0]``;
    the rectifier then regresses ``u`` on ``B = A[y == 0] N`` (Correia, Guimarães and Zylkin
    2021, sec. 4.2, with the constraint imposed exactly).
    """
    n = pos.shape[0]
    A = np.zeros((n, X.shape[1] + fe.n_groups))
    A[:, : X.shape[1]] = X
    rows = np.arange(n)
    for d in range(fe.n_dims):
        A[rows, X.shape[1] + fe.cg[d].astype(np.int64)] = 1.0
    scale = np.sqrt((A**2).sum(axis=0))
    A = A / np.where(scale > 0, scale, 1.0)
    AP = A[pos]
    _, sv, vt = np.linalg.svd(AP, full_matrices=True)
    rank = int((sv > 1e-10 * max(sv.max(initial=0.0), 1.0)).sum())
    N = vt[rank:].T
    zero = ~pos
    if N.shape[1] == 0:
        return np.zeros(n, dtype=bool), 0, True
    B = A[zero] @ N
    # A has unit-norm columns and N orthonormal ones, so B's scale is 1: singular values are
    # judged in absolute terms (a tiny B is rounding noise, not a separating direction).
    ub, sb, _ = np.linalg.svd(B, full_matrices=False)
    keep_sv = sb > 1e-9
    if not keep_sv.any():
        return np.zeros(n, dtype=bool), 0, True
    ub = ub[:, keep_sv]
    u = np.ones(int(zero.sum()))
    for it in range(1, maxiter + 1):
        fit = ub @ (ub.T @ u)
        fit[(fit > -0.1 * tol) & (fit < tol)] = 0.0
        if np.all(fit >= 0.0):
            out = np.zeros(n, dtype=bool)
            out[np.flatnonzero(zero)[fit > 0.0]] = True
            return out, it, True
        u = np.maximum(fit, 0.0)
    return np.zeros(n, dtype=bool), maxiter, False
