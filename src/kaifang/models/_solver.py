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

__all__ = ["BatchFixedPointResult", "FixedPointResult", "SolverDiagnostics", "anderson", "anderson_batch"]

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


#: Bytes of Anderson history updated per block of members in :func:`anderson_batch` (fits L2).
_BLOCK_BYTES = 2**21


def _runs(active: np.ndarray, most: int) -> list[tuple[int, int]]:
    """Positions ``(lo, hi)`` in ``active`` (sorted) of runs of consecutive values, each ``<= most``."""
    if active.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(active) != 1) + 1
    out = []
    for lo, hi in zip(np.r_[0, breaks], np.r_[breaks, active.size], strict=True):
        out.extend((a, min(a + most, hi)) for a in range(int(lo), int(hi), most))
    return out


@dataclass(frozen=True)
class BatchFixedPointResult:
    """Fixed points of many problems solved together (:func:`anderson_batch`).

    Attributes
    ----------
    x
        The iterates, one column per problem, ``(dim, B)``: the fixed point where ``converged``.
    converged
        Which problems reached the tolerance, ``(B,)``; the others stopped on a non-finite or
        exploding step, or at ``max_iter``.
    iterations
        Evaluations of the map each problem took, ``(B,)``.
    residual
        Each problem's last (converged) or best residual, ``(B,)``.
    seconds
        Wall time of the whole batch.
    method
        What was run, in words.
    """

    x: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    seconds: float
    method: str


def anderson_batch(
    g: Callable[[np.ndarray, np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    tol: float,
    max_iter: int,
    memory: int = 8,
    damping: float = 1.0,
) -> BatchFixedPointResult:
    """Solve ``x_b = g(x)_b`` for many problems at once by Anderson acceleration.

    Each column of ``x0`` is one problem with its own history and its own small least-squares
    problem (the same type-II scheme as :func:`anderson`); all problems step together, so the map
    is evaluated once per step for the whole batch, and a problem leaves the batch when it
    converges (``max |g(x) - x| <= tol``). A problem whose step gives a non-finite value or a
    residual above 1e3 times its best so far stops there with ``converged = False``: the caller
    solves it alone with :func:`anderson`, which restarts from its best point with smaller steps.

    Parameters
    ----------
    g
        ``g(x, ids)`` returns the map at the columns ``x`` ``(dim, len(ids))`` of the problems
        ``ids`` (their positions in ``x0``); it must return a new array.
    x0
        Starting points, ``(dim, B)``.
    tol, max_iter, memory, damping
        As in :func:`anderson`.
    """
    t0 = time.perf_counter()
    x = np.array(np.asarray(x0, dtype=float).T)  # member-major inside: (B, dim)
    nb, dim = x.shape
    m = int(memory)
    mm = max(m, 1)
    converged = np.zeros(nb, dtype=bool)
    iterations = np.zeros(nb, dtype=int)
    residual = np.full(nb, np.inf)
    best = np.full(nb, np.inf)
    # Histories stay in place for the whole solve (members that leave keep their rows); the
    # update runs over blocks of consecutive active members small enough for the cache.
    d_f = np.zeros((nb, mm, dim))
    d_step = np.zeros((nb, mm, dim))
    gram = np.zeros((nb, mm, mm))
    x_prev = np.zeros((nb, dim))
    f_prev = np.zeros((nb, dim))
    ridge = 1e-12 * np.eye(mm)
    block = max(1, int(_BLOCK_BYTES // (16 * mm * dim)))
    act = np.arange(nb)
    filled = slot = 0
    method = (
        f"batched Anderson acceleration (memory {m}, damping {damping:g})"
        if m
        else f"batched damped fixed-point iteration (damping {damping:g})"
    )
    for it in range(1, max_iter + 1):
        xa = x[act]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            fa = np.asarray(g(xa.T, act)).T - xa
            res = np.abs(fa).max(axis=1)
        bad = ~(res <= 1e3 * best[act])  # also true for nan and inf
        done = (res <= tol) & ~bad
        leave = bad | done
        if leave.any():
            gone = act[leave]
            converged[gone] = done[leave]
            iterations[gone] = it
            residual[gone] = np.where(done[leave], res[leave], best[gone])
            keep = ~leave
            act, xa, fa, res = act[keep], xa[keep], fa[keep], res[keep]
            if act.size == 0:
                break
        best[act] = np.minimum(best[act], res)
        history = bool(m) and it > 1
        if history:
            filled = min(filled + 1, m)
        for lo, hi in _runs(act, block):
            sl = slice(int(act[lo]), int(act[hi - 1]) + 1)
            xb, fb = xa[lo:hi], fa[lo:hi]
            if history:
                df = d_f[sl, slot]
                np.subtract(fb, f_prev[sl], out=df)
                step = d_step[sl, slot]
                np.subtract(xb, x_prev[sl], out=step)
                step += damping * df
                row = np.matmul(d_f[sl, :filled], df[:, :, None])[:, :, 0]
                gram[sl, slot, :filled] = row
                gram[sl, :filled, slot] = row
            x_prev[sl] = xb
            f_prev[sl] = fb
            if history:
                k = filled
                diag = np.maximum(np.diagonal(gram[sl, :k, :k], axis1=1, axis2=2), 1e-300)
                d = 1.0 / np.sqrt(diag)  # columns scaled to unit length, as in anderson()
                a = gram[sl, :k, :k] * d[:, :, None] * d[:, None, :] + ridge[:k, :k]
                rhs = d * np.matmul(d_f[sl, :k], fb[:, :, None])[:, :, 0]
                try:
                    gamma = d * np.linalg.solve(a, rhs[:, :, None])[:, :, 0]
                    x[sl] = xb - np.matmul(gamma[:, None, :], d_step[sl, :k])[:, 0, :] + damping * fb
                    continue
                except np.linalg.LinAlgError:
                    pass
            x[sl] = xb + damping * fb
        if history:
            slot = (slot + 1) % m
    else:
        iterations[act] = max_iter
        residual[act] = best[act]
    out = x
    return BatchFixedPointResult(out.T, converged, iterations, residual, time.perf_counter() - t0, method)
