"""Fixed-point solvers of the one-sector gravity model: conditional and full-endowment GE.

:func:`solve_gravity` is a pure function of arrays (no data set, no scenario), so other models
and cross-checks can call it directly. It accepts a batch of shocks ``B`` of shape
``(D, N, N)`` (e.g. Monte Carlo draws) and solves all of them at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from kaifang.errors import ConvergenceError, DataError
from kaifang.models.gravity.equations import (
    factory_gate_price_update,
    inward_resistance_hat,
    outward_resistance_hat,
    price_index_hat,
    trade_hat,
)

__all__ = ["GESolution", "GravitySolution", "solve_gravity"]

Imbalance = Literal["multiplicative", "additive"]
Normalisation = Literal["reference", "world_output"]


@dataclass(frozen=True)
class GESolution:
    """One equilibrium (conditional or full endowment); arrays carry the batch axis if any.

    Attributes
    ----------
    X
        Counterfactual flows ``(..., N, N)``.
    p_hat, Y_hat, E_hat
        Changes of factory-gate prices, output and expenditure (all 1 in conditional GE).
    Pi_hat, P_hat
        Changes of ``Pi_i^(1-sigma)`` and ``P_j^(1-sigma)``.
    iterations, residual, converged
        Solver diagnostics (max over the batch).
    """

    X: np.ndarray
    p_hat: np.ndarray
    Y_hat: np.ndarray
    E_hat: np.ndarray
    Pi_hat: np.ndarray
    P_hat: np.ndarray
    iterations: int
    residual: float
    converged: bool


@dataclass(frozen=True)
class GravitySolution:
    """Conditional and full-endowment equilibria of one baseline and shock (or batch of shocks)."""

    conditional: GESolution
    full: GESolution
    sigma: float
    imbalance: str
    normalisation: str
    reference: int | None
    solve_seconds: float


def _check(
    X: np.ndarray,
    B: np.ndarray,
    sigma: float,
    reference: int | None,
    normalisation: str,
    labels: Sequence[str] | None = None,
) -> None:
    if X.ndim != 2 or X.shape[0] != X.shape[1]:
        raise DataError(f"baseline flows must be a square (N, N) array, got shape {X.shape}.")
    if B.shape[-2:] != X.shape:
        raise DataError(f"shock array has shape {B.shape}; expected (..., {X.shape[0]}, {X.shape[1]}).")
    if not np.isfinite(X).all() or (X < 0).any():
        raise DataError("baseline flows must be finite and >= 0.")
    if not np.isfinite(B).all() or (B <= 0).any():
        raise DataError("the shock factors B = (t'/t)^(1-sigma) must be finite and > 0.")
    # every country must sell and buy something (output Y_i and expenditure E_j > 0), else its
    # resistances are undefined; a zero domestic flow alone is allowed and stays zero
    for axis, what in ((1, "sales (output)"), (0, "purchases (expenditure)")):
        tot = X.sum(axis=axis)
        if (tot <= 0).any():
            k = int(np.flatnonzero(tot <= 0)[0])
            name = labels[k] if labels is not None else f"number {k}"
            raise DataError(
                f"country {name} has no {what} in the baseline flows; general-equilibrium gravity needs "
                f"every country to sell and to buy. Add its flows or drop the country."
            )
    if not sigma > 1:
        raise DataError(f"sigma must be > 1 (sigma - 1 is the trade elasticity), got {sigma}.")
    if normalisation == "reference" and reference is None:
        raise DataError("normalisation 'reference' needs a reference country.")
    if reference is not None and not 0 <= reference < X.shape[0]:
        raise DataError(f"reference index {reference} out of range 0..{X.shape[0] - 1}.")


def _fixed_point(
    F: Callable[[np.ndarray], np.ndarray], x0: np.ndarray, tol: float, maxiter: int, accelerate: bool
) -> tuple[np.ndarray, int, float]:
    """Iterate ``x = F(x)`` (on logs) until ``max|F(x) - x| < tol``.

    With ``accelerate``, SQUAREM extrapolation (Varadhan and Roland 2008, scheme S3) with a
    step length chosen per batch row and a fall-back to the plain iterate when the
    extrapolated point is not finite. Returns the point, the number of evaluations of ``F``
    and the last residual.
    """
    x = x0
    evals = 0
    res = np.inf
    while evals < maxiter:
        x1 = F(x)
        evals += 1
        res = float(np.max(np.abs(x1 - x)))
        if res < tol or not accelerate:
            x = x1
            if res < tol:
                break
            continue
        x2 = F(x1)
        evals += 1
        r = x1 - x
        v = x2 - 2.0 * x1 + x
        rr = np.sqrt(np.sum(r * r, axis=-1, keepdims=True))
        vv = np.sqrt(np.sum(v * v, axis=-1, keepdims=True))
        alpha = np.where(vv > 0, -rr / np.where(vv > 0, vv, 1.0), -1.0)
        alpha = np.minimum(alpha, -1.0)
        xe = x - 2.0 * alpha * r + alpha * alpha * v
        x_new = F(xe) if np.isfinite(xe).all() else x2
        evals += 1
        if not np.isfinite(x_new).all():
            x_new = x2
        x = x_new
    return x, evals, res


def _conditional(
    X: np.ndarray,
    B: np.ndarray,
    Y: np.ndarray,
    E: np.ndarray,
    ref: int,
    tol: float,
    maxiter: int,
    accelerate: bool,
) -> GESolution:
    """Conditional GE: Y and E fixed; solve the MR system (book ch. 2 eqs. (3)-(4)) with P_ref = 1."""
    XB = X * B
    ones = np.ones(B.shape[:-1])

    def F(logP: np.ndarray) -> np.ndarray:
        Pi = outward_resistance_hat(XB, Y, ones, np.exp(logP))
        lp = np.log(inward_resistance_hat(XB, E, ones, Pi))
        return lp - lp[..., ref : ref + 1]

    logP, it, res = _fixed_point(F, np.zeros(B.shape[:-1]), tol, maxiter, accelerate)
    P_hat = np.exp(logP)
    Pi_hat = outward_resistance_hat(XB, Y, ones, P_hat)
    Xn = X * trade_hat(B, ones, ones, Pi_hat, P_hat)
    return GESolution(Xn, ones, ones, ones, Pi_hat, P_hat, it, res, res < tol)


def _full(
    X: np.ndarray,
    B: np.ndarray,
    Y: np.ndarray,
    E: np.ndarray,
    sigma: float,
    imbalance: str,
    normalisation: str,
    ref: int | None,
    tol: float,
    maxiter: int,
    accelerate: bool,
) -> GESolution:
    """Full-endowment GE: factory-gate prices adjust, ``Y'_i = p_i' Q_i``.

    Fixed point on ``p_hat`` (Baier, Yotov and Zylkin 2019, sec. 6; Yotov et al. 2016 ch. 2
    eq. (5)): ``p_hat_i^sigma = sum_j (X_ij/Y_i) B_ij E_hat_j / P_hat_j`` with
    ``P_hat_j = sum_i lambda_ij B_ij p_hat_i^(1-sigma)``, then normalised.
    """
    XB = X * B
    lamB = XB / E
    D = E - Y

    def e_hat(p: np.ndarray) -> np.ndarray:
        if imbalance == "multiplicative":
            return p  # E_j = phi_j Y_j with phi fixed
        return (Y * p + D) / E  # E_j = Y_j + D_j with D fixed

    def F(logp: np.ndarray) -> np.ndarray:
        p = np.exp(logp)
        Eh = e_hat(p)
        if (Eh <= 0).any():
            raise ConvergenceError(
                "full-endowment GE: expenditure turned negative (additive trade imbalances larger than "
                "output); use imbalance = 'multiplicative'."
            )
        P = price_index_hat(lamB, p, sigma)
        lp = np.log(factory_gate_price_update(outward_resistance_hat(XB, Y, Eh, P), sigma))
        if normalisation == "world_output":
            return lp + np.log(Y.sum() / (np.exp(lp) * Y).sum(axis=-1, keepdims=True))
        Pn = price_index_hat(lamB, np.exp(lp), sigma)
        return lp - np.log(Pn[..., ref : ref + 1]) / (1.0 - sigma)

    logp, it, res = _fixed_point(F, np.zeros(B.shape[:-1]), tol, maxiter, accelerate)
    p = np.exp(logp)
    Eh = e_hat(p)
    P = price_index_hat(lamB, p, sigma)
    Pi = outward_resistance_hat(XB, Y, Eh, P)
    # CES demand (Baier, Yotov and Zylkin 2019, sec. 6): X'_ij = X_ij B_ij p_i^(1-sigma) E_hat_j / P_hat_j.
    # Expenditure is spent exactly; with additive imbalances (sum of D = 0) output is sold exactly
    # too. With multiplicative imbalances world expenditure sum_j phi_j p_j Y_j need not equal world
    # output, so sales equal output up to one common factor (as in ge_gravity); see diagnostics.
    Xn = XB * (p ** (1.0 - sigma))[..., :, None] * (Eh / P)[..., None, :]
    return GESolution(Xn, p, p, Eh, Pi, P, it, res, res < tol)


def solve_gravity(
    X: np.ndarray,
    B: np.ndarray,
    sigma: float,
    *,
    imbalance: Imbalance = "multiplicative",
    normalisation: Normalisation = "reference",
    reference: int | None = 0,
    tol: float = 1e-12,
    maxiter: int = 100_000,
    labels: list[str] | None = None,
    accelerate: bool = True,
) -> GravitySolution:
    """Solve the conditional and full-endowment general equilibrium of a gravity shock.

    Parameters
    ----------
    X
        Baseline flows ``(N, N)``, exporter by importer, domestic sales on the diagonal; every
        country sells and buys something (positive row and column sums). A zero domestic flow is
        allowed (e.g. an economy whose calibrated spending falls short of its imports) and stays
        zero in both equilibria.
    B
        Partial effect on flows ``(t'_ij/t_ij)^(1-sigma)``, shape ``(N, N)`` or a batch
        ``(D, N, N)`` solved at once.
    sigma
        Elasticity of substitution (> 1); the trade elasticity is ``theta = sigma - 1``.
    imbalance
        ``"multiplicative"``: each country's ``E/Y`` ratio is fixed (Yotov et al. 2016;
        Anderson and Yotov 2016); ``"additive"``: the deficit ``D = E - Y`` is fixed in units of
        the numeraire (``ge_gravity`` default).
    normalisation
        Of the full-endowment equilibrium: ``"reference"`` fixes the inward multilateral
        resistance (CES price index) of ``reference`` (the book); ``"world_output"`` keeps world
        nominal output unchanged (``ge_gravity``). The conditional equilibrium always fixes the
        reference country's inward resistance (``reference``, default the first country).
    reference
        Index of the reference country.
    tol, maxiter
        Convergence: max absolute change of log prices (log MRs in conditional GE) between
        iterations below ``tol``.
    labels
        Country labels, used in error messages only.
    accelerate
        Use SQUAREM extrapolation (default) or plain fixed-point iteration. Both stop on the
        same criterion, so they agree to ``tol``.

    Returns
    -------
    GravitySolution

    Raises
    ------
    DataError
        Bad shapes, negative flows, a country that sells or buys nothing, ``sigma <= 1``.
    ConvergenceError
        Either equilibrium did not converge within ``maxiter`` iterations.
    """
    X = np.asarray(X, dtype=float)
    B = np.asarray(B, dtype=float)
    if imbalance not in ("multiplicative", "additive"):
        raise DataError(f"imbalance must be 'multiplicative' or 'additive', got {imbalance!r}.")
    if normalisation not in ("reference", "world_output"):
        raise DataError(f"normalisation must be 'reference' or 'world_output', got {normalisation!r}.")
    _check(X, B, sigma, reference, normalisation, labels)
    Y = X.sum(axis=1)
    E = X.sum(axis=0)
    ref = 0 if reference is None else reference
    t0 = time.perf_counter()
    cond = _conditional(X, B, Y, E, ref, tol, maxiter, accelerate)
    if not cond.converged:
        raise ConvergenceError(
            f"conditional GE (multilateral-resistance iteration) did not converge in {maxiter} iterations: "
            f"last change of log resistances {cond.residual:.3g} > tolerance {tol:g}. Raise solver.maxiter "
            f"or loosen solver.tol.",
            iterations=cond.iterations,
            residual=cond.residual,
        )
    full = _full(X, B, Y, E, sigma, imbalance, normalisation, reference, tol, maxiter, accelerate)
    if not full.converged:
        raise ConvergenceError(
            f"full-endowment GE (factory-gate price iteration, damping 1/sigma, SQUAREM when accelerated) did not converge in {maxiter} "
            f"iterations: last change of log prices {full.residual:.3g} > tolerance {tol:g}. Raise "
            f"solver.maxiter or loosen solver.tol.",
            iterations=full.iterations,
            residual=full.residual,
        )
    return GravitySolution(
        cond, full, float(sigma), imbalance, normalisation, reference, time.perf_counter() - t0
    )
