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
    for it in range(1, max_iter + 1):
        f = g(x) - x
        res = float(np.abs(f).max())
        if not np.isfinite(res):
            raise ConvergenceError(
                f"{what}: {method} produced a non-finite value at iteration {it}. {hint}".strip(),
                iterations=it,
                residual=res,
            )
        if res <= tol:
            diag = SolverDiagnostics(method, it, res, True, time.perf_counter() - t0, tol)
            log.debug("%s converged: %s", what, diag)
            return FixedPointResult(x, diag)
        if res > 1e3 * best:  # a diverging extrapolation: forget the history
            filled = 0
        best = min(best, res)
        if m and f_prev is not None:
            df = f - f_prev
            df_buf[slot] = df
            np.subtract(x, x_prev, out=step_buf[slot])
            step_buf[slot] += damping * df
            filled = min(filled + 1, m)
            row = df_buf[:filled] @ df
            gram[slot, :filled] = row
            gram[:filled, slot] = row
            slot = (slot + 1) % m
        x_prev, f_prev = x, f
        if m and filled:
            k = filled
            a = gram[:k, :k]
            reg = 1e-13 * np.trace(a) / k
            try:
                gamma = np.linalg.solve(a + reg * np.eye(k), df_buf[:k] @ f)
            except np.linalg.LinAlgError:
                filled = 0
                x = x + damping * f
                continue
            x = x + damping * f - gamma @ step_buf[:k]
        else:
            x = x + damping * f
    raise ConvergenceError(
        f"{what} did not converge: {method} stopped after {max_iter} iterations with residual "
        f"{res:.3g} > tol {tol:g}. {hint}".strip(),
        iterations=max_iter,
        residual=res,
    )
