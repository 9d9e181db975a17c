"""Caliendo–Parro (2015): multi-sector Ricardian trade model with input-output links and tariffs.

Public API: :func:`solve` (a pure function), :class:`SolverSettings`, :class:`Equilibrium`,
and the welfare decomposition in :mod:`kaifang.models.caliendo_parro.welfare`. The scenario
runner is :func:`kaifang.models.caliendo_parro.runner.run`.
"""

from kaifang.models.caliendo_parro.solver import Equilibrium, SolverSettings, equilibrium_residuals, solve

__all__ = ["Equilibrium", "SolverSettings", "equilibrium_residuals", "solve"]
