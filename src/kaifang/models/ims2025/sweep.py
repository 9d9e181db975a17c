"""Many solves at once: a sweep over tariff vectors (e.g. a grid of retaliation rates).

Each solve starts from the better of the previous solution and its linear extrapolation from
the two previous solutions (a secant predictor, exact to second order along a grid), and reuses
the previous factorised Jacobian while it still contracts fast (chord steps), falling back to
full Newton steps otherwise; so neighbouring tariff vectors (a grid in order) cost a couple of
cheap iterations each.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from kaifang.models.ims2025.equations import Economy
from kaifang.models.ims2025.outcomes import outcome_arrays
from kaifang.models.ims2025.solver import (
    SolverSettings,
    _finish,
    _full,
    _newton,
    _raise_unless,
    _terms,
    _validate_tariffs,
    reduced_residual,
)

__all__ = ["SweepResult", "sweep"]


@dataclass(frozen=True)
class SweepResult:
    """Outcomes of K solves.

    Attributes
    ----------
    outcomes
        Outcome name (the columns of :data:`~kaifang.models.ims2025.outcomes.COLUMNS`) ->
        array ``(K, N)``.
    x
        Solutions ``(K, 3N)``: stacked ``(w_hat, E_hat, L_hat)``.
    iterations, residual
        Per solve: iterations (Newton + chord steps) and largest residual of equations (a)-(c).
    seconds
        Wall time of all solves together.
    """

    outcomes: dict[str, np.ndarray] = field(repr=False)
    x: np.ndarray = field(repr=False)
    iterations: np.ndarray
    residual: np.ndarray
    seconds: float


def sweep(
    econ: Economy,
    tariffs: Iterable[np.ndarray],
    settings: SolverSettings | None = None,
) -> SweepResult:
    """Solve the model for each tariff matrix ``t[exporter, importer]`` in ``tariffs``.

    Parameters
    ----------
    econ
        The calibrated economy.
    tariffs
        An array ``(K, N, N)`` or any iterable of ``(N, N)`` matrices; order neighbours next to
        each other for the best warm starts.
    settings
        Solver settings (tolerance, iterations per solve).

    Raises
    ------
    ConvergenceError
        A solve did not converge (the message says which one, by position).
    """
    s = settings or SolverSettings()
    t0 = time.perf_counter()
    y = np.zeros(2 * econ.n)
    y_prev: np.ndarray | None = None
    lu = None
    cols: dict[str, list[np.ndarray]] = {}
    xs, its, res = [], [], []
    for k, t in enumerate(tariffs):
        t = _validate_tariffs(econ, t)
        tt = _terms(econ, t)
        y_last = y
        if y_prev is not None:
            y = _predict(econ, tt, y, y_prev)
        y, it, norm, lu = _newton(econ, tt, y, s, lu=lu, chord=True)
        y_prev = y_last if k > 0 else None
        if not np.isfinite(norm) or norm > s.tol:  # a bad warm start: retry from the baseline
            y, it2, norm, lu = _newton(econ, tt, np.zeros(2 * econ.n), s)
            it += it2
        try:
            _raise_unless(norm, it, s)
        except Exception as exc:
            raise type(exc)(f"sweep solve number {k}: {exc}", iterations=it, residual=norm) from None
        sol = _finish(econ, t, _full(econ, tt, y), it, 0.0, "newton")
        for name, v in outcome_arrays(econ, sol.eq).items():
            cols.setdefault(name, []).append(v)
        xs.append(sol.x)
        its.append(it)
        res.append(sol.residual)
    seconds = time.perf_counter() - t0
    return SweepResult(
        outcomes={k: np.array(v) for k, v in cols.items()},
        x=np.array(xs),
        iterations=np.array(its),
        residual=np.array(res),
        seconds=seconds,
    )


def _predict(econ: Economy, t: np.ndarray, y: np.ndarray, y_prev: np.ndarray) -> np.ndarray:
    """The better start of ``y`` and the extrapolation ``2 y - y_prev`` (by residual)."""
    guess = 2.0 * y - y_prev
    with np.errstate(all="ignore"):
        r_y = np.max(np.abs(reduced_residual(econ, t, y)))
        r_g = np.max(np.abs(reduced_residual(econ, t, guess)))
    return guess if np.isfinite(r_g) and r_g < r_y else y
