"""Many solves at once: a sweep over tariff vectors (e.g. a grid of retaliation rates).

Each solve starts from the previous solution and reuses the previous factorised Jacobian
while it still contracts fast (chord steps), falling back to full Newton steps otherwise; so
neighbouring tariff vectors (a grid in order) cost a few cheap iterations each.
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
    _validate_tariffs,
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
        Per solve: iterations (Newton + chord steps) and largest residual of the note's equations.
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
    lu = None
    cols: dict[str, list[np.ndarray]] = {}
    xs, its, res = [], [], []
    for k, t in enumerate(tariffs):
        t = _validate_tariffs(econ, t)
        y, it, norm, lu = _newton(econ, t, y, s, lu=lu, chord=True)
        if not np.isfinite(norm) or norm > s.tol:  # a bad warm start: retry from the baseline
            y, it2, norm, lu = _newton(econ, t, np.zeros(2 * econ.n), s)
            it += it2
        try:
            _raise_unless(norm, it, s)
        except Exception as exc:
            raise type(exc)(f"sweep solve number {k}: {exc}", iterations=it, residual=norm) from None
        sol = _finish(econ, t, _full(econ, t, y), it, 0.0, "newton")
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
