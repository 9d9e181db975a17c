"""Covariance of the PPML coefficients (sandwich forms with pyfixest/fixest small-sample factors)."""

from __future__ import annotations

import numpy as np

from . import _kernels as K


def dense_codes(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Codes ``0 .. G-1`` for the distinct values of ``a`` (any dtype) and ``G``."""
    a = np.asarray(a)
    if a.dtype.kind in "iub" and a.size:
        lo, hi = int(a.min()), int(a.max())
        if hi - lo <= 4 * a.size:  # small range: counting instead of sorting
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[a - lo] = True
            remap = np.cumsum(present) - 1
            return remap[a - lo].astype(np.int64), int(present.sum())
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.astype(np.int64).ravel(), int(uniq.shape[0])


def is_nested(fe_codes: np.ndarray, n_fe: int, cluster: np.ndarray) -> bool:
    """True when every fixed-effect group lies inside a single cluster."""
    return bool(K.nested_in(np.ascontiguousarray(fe_codes), n_fe, np.ascontiguousarray(cluster)))


def df_k(
    k: int,
    fe_sizes: list[int],
    nested: list[bool] | None,
) -> int:
    """Number of parameters in the ``(N-1)/(N-k)`` factor, as fixest/pyfixest ``ssc(k_fixef="nonnested")``.

    All fixed-effect coefficients count, minus one per dimension after the first; for
    clustered errors a dimension nested in a cluster counts as one parameter only.
    """
    n_fe = len(fe_sizes)
    if n_fe == 0:
        return k
    k_fe = sum(fe_sizes)
    k_fe_adj = k_fe - (n_fe - 1) if n_fe > 1 else k_fe
    if nested is None or not any(nested):
        return k + k_fe_adj
    k_nested = sum(s for s, f in zip(fe_sizes, nested, strict=True) if f)
    return k + k_fe_adj - k_nested + sum(nested)


def sandwich(
    bread: np.ndarray,
    scores: np.ndarray,
    *,
    vcov: str,
    clusters: list[np.ndarray],
    fe_sizes: list[int],
    fe_codes: list[np.ndarray],
) -> tuple[np.ndarray, dict[str, float]]:
    """Covariance matrix and the factors used.

    Parameters
    ----------
    bread
        Inverse Hessian ``(X~' W X~)^{-1}`` of the partialled-out regressors.
    scores
        ``(n, k)`` score contributions ``w_i (y_i - mu_i) x~_i``.
    vcov
        ``"iid"``, ``"hetero"`` or ``"cluster"``.
    clusters
        One or two dense cluster-code arrays (for ``"cluster"``).
    fe_sizes, fe_codes
        Groups per fixed-effect dimension and their codes (for the degrees of freedom).

    Returns
    -------
    vcov, info
    """
    n, k = scores.shape
    if vcov == "iid":
        dk = df_k(k, fe_sizes, None)
        adj = (n - 1) / (n - dk)
        return adj * bread, {"df_k": dk, "adj": adj}
    if vcov == "hetero":
        dk = df_k(k, fe_sizes, None)
        adj = n / (n - dk)
        meat = np.einsum("ij,ik->jk", scores, scores)  # no threaded BLAS (stalls on a busy machine)
        return adj * (bread @ meat @ bread), {"df_k": dk, "adj": adj}
    # Clustered (CRV1). Two-way: V = V_1 + V_2 - V_12 (Cameron, Gelbach and Miller 2011),
    # every term with the factor of the smallest number of clusters (pyfixest G_df="min").
    cols = [np.asarray(c) for c in clusters]
    sizes = [int(c.max()) + 1 for c in cols]
    terms: list[tuple[np.ndarray, int, float]] = [(c, s, 1.0) for c, s in zip(cols, sizes, strict=True)]
    if len(cols) == 2:
        inter, g12 = dense_codes(cols[0].astype(np.int64) * sizes[1] + cols[1])
        terms.append((inter, g12, -1.0))
    nested = [
        any(is_nested(fc, fs, c) for c, _, _ in terms) for fc, fs in zip(fe_codes, fe_sizes, strict=True)
    ]
    dk = df_k(k, fe_sizes, nested)
    g_min = min(sizes)
    adj = (n - 1) / (n - dk) * g_min / (g_min - 1)
    V = np.zeros((k, k))
    for c, s, sign in terms:
        sums = K.cluster_score_sums(scores, c, s)
        V += sign * (bread @ np.einsum("gj,gk->jk", sums, sums) @ bread)
    return adj * V, {"df_k": dk, "adj": adj, "n_clusters": tuple(sizes)}
