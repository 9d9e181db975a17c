"""Shared solver toolkit: Anderson-accelerated fixed-point iteration with diagnostics.

Solvers return their diagnostics and raise :class:`~kaifang.errors.ConvergenceError` saying
what was tried; they log, never print.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from kaifang.errors import ConvergenceError

__all__ = ["FixedPointResult", "SolverDiagnostics", "anderson"]

log = logging.getLogger(__name__)

#: Restarts from the best point allowed after non-finite or exploding iterates.
_MAX_RESTARTS = 30


@dataclass(frozen=True)
class SolverDiagnostics:
    """What a solve did: method, iterations, final residual, whether it converged, wall time."""

    method: str
    iterations: int
    residual: float
    converged: bool
    seconds: float
    tol: float


@dataclass(frozen=True)
class FixedPointResult:
    """Fixed point ``x`` of a map and the diagnostics of the solve."""

    x: np.ndarray
    diagnostics: SolverDiagnostics


def anderson(
    g: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    memory: int = 8,
    damping: float = 1.0,
    what: str = "fixed point",
    hint: str = "",
) -> FixedPointResult:
    """Solve ``x = g(x)`` by Anderson acceleration (type II) of the damped iteration.

    The least-squares problem of each step is solved through its small (memory x memory)
    Gram matrix, updated incrementally, so one step costs a few vector products beyond the
    evaluation of ``g``.

    Parameters
    ----------
    g
        The map; must return a 1-d array shaped like its argument.
    x0
        Starting point.
    tol
        Stop when ``max |g(x) - x| <= tol``.
    max_iter
        At most this many evaluations of ``g``.
    memory
        Number of past steps kept (``0`` = plain damped iteration).
    damping
        Weight of ``g(x)`` in the mixed step, in (0, 1].
    what, hint
        Names for messages: what is being solved, and what the user can change.

    Raises
    ------
    ConvergenceError
        After ``max_iter`` evaluations or on a non-finite value, with method, iterations,
        tolerance and last residual.
    """
    t0 = time.perf_counter()
    x = np.array(x0, dtype=float)
    dim = x.size
    m = int(memory)
    df_buf = np.zeros((max(m, 1), dim))
    step_buf = np.zeros((max(m, 1), dim))  # dx + damping * df
    gram = np.zeros((max(m, 1), max(m, 1)))
    filled = 0
    slot = 0
    f_prev = x_prev = None
    best = np.inf
    res = np.inf
    method = (
        f"Anderson acceleration (memory {m}, damping {damping:g})"
        if m
        else f"damped fixed-point iteration (damping {damping:g})"
    )
    x_best = f_best = None
    restarts = 0
    ridge = 1e-12 * np.eye(max(m, 1))
    for it in range(1, max_iter + 1):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            f = g(x)
            f -= x  # f = g(x) - x (g returns a new array)
            res = max(f.max(), -f.min())
        if not res <= 1e3 * best:  # also true for nan and inf
            # the extrapolation left the region where the map is defined or well behaved:
            # forget the history and take a short plain step from the best point so far
            if x_best is None or restarts >= _MAX_RESTARTS:
                what_happened = (
                    "produced a non-finite value" if not np.isfinite(res) else f"jumped to residual {res:.3g}"
                )
                raise ConvergenceError(
                    f"{what} did not converge: {method} {what_happened} at iteration {it}; the best "
                    f"residual reached was {best:.3g} (tol {tol:g}), {restarts} restarts from the best "
                    f"point with smaller steps did not get further. The equilibrium may be nearly "
                    f"indeterminate (e.g. close to autarky). {hint}".strip(),
                    iterations=it,
                    residual=best,
                )
            restarts += 1
            filled = 0
            f_prev = x_prev = None
            damping = max(damping / 2, 1 / 64)  # from now on, smaller steps
            x = x_best + damping * f_best
            continue
        res = float(res)
        if res <= tol:
            if restarts:
                method += f"; {restarts} restart(s) from the best point, final damping {damping:g}"
            diag = SolverDiagnostics(method, it, res, True, time.perf_counter() - t0, tol)
            log.debug("%s converged: %s", what, diag)
            return FixedPointResult(x, diag)
        if res < best:
            best, x_best, f_best = res, x, f
        if m and f_prev is not None:
            df = np.subtract(f, f_prev, out=df_buf[slot])
            step = np.subtract(x, x_prev, out=step_buf[slot])
            if damping == 1.0:
                step += df
            else:
                step += damping * df
            filled = min(filled + 1, m)
            row = df_buf[:filled] @ df
            gram[slot, :filled] = row
            gram[:filled, slot] = row
            slot = (slot + 1) % m
        x_prev, f_prev = x, f
        if m and filled:
            k = filled
            # normal equations with the columns scaled to unit length (old and new differences
            # differ by orders of magnitude near convergence) and a small Tikhonov term
            d = 1.0 / np.sqrt(np.maximum(gram.diagonal()[:k], 1e-300))
            a = gram[:k, :k] * np.outer(d, d)
            try:
                gamma = d * np.linalg.solve(a + ridge[:k, :k], d * (df_buf[:k] @ f))
            except np.linalg.LinAlgError:
                filled = 0
                x = x + damping * f
                continue
            x = x - gamma @ step_buf[:k]
            x += f if damping == 1.0 else damping * f
        else:
            x = x + damping * f
    raise ConvergenceError(
        f"{what} did not converge: {method} stopped after {max_iter} iterations with residual "
        f"{res:.3g} > tol {tol:g}. {hint}".strip(),
        iterations=max_iter,
        residual=res,
    )
