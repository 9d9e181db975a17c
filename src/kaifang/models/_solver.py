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

    Parameters
    ----------
    g
        The map; must return an array shaped like its argument.
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
    x = np.asarray(x0, dtype=float).copy()
    dxs: list[np.ndarray] = []
    dfs: list[np.ndarray] = []
    f_prev = x_prev = None
    best = np.inf
    res = np.inf
    method = (
        f"Anderson acceleration (memory {memory}, damping {damping:g})"
        if memory
        else f"damped fixed-point iteration (damping {damping:g})"
    )
    for it in range(1, max_iter + 1):
        gx = g(x)
        f = gx - x
        res = float(np.max(np.abs(f)))
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
        if res > 1e3 * best and dxs:  # diverging extrapolation: restart the memory
            dxs.clear()
            dfs.clear()
        best = min(best, res)
        if memory and f_prev is not None:
            dxs.append(x - x_prev)
            dfs.append(f - f_prev)
            if len(dxs) > memory:
                dxs.pop(0)
                dfs.pop(0)
        x_prev, f_prev = x, f
        if memory and dfs:
            df = np.stack(dfs, axis=1)
            dx = np.stack(dxs, axis=1)
            gamma, *_ = np.linalg.lstsq(df, f, rcond=1e-12)
            x = x + damping * f - (dx + damping * df) @ gamma
        else:
            x = x + damping * f
    raise ConvergenceError(
        f"{what} did not converge: {method} stopped after {max_iter} iterations with residual "
        f"{res:.3g} > tol {tol:g}. {hint}".strip(),
        iterations=max_iter,
        residual=res,
    )
