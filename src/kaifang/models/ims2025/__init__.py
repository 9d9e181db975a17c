"""The tariff-war model of Ignatenko, Lashkaripour, Macedoni and Simonovska (2025), "Making
America Great Again? The Economic Impacts of Liberation Day Tariffs", JIE.

One sector, 194 economies (data set ``liberation2025``), equilibrium in changes with tariffs,
elastic labour supply, scale economies, tariff pass-through, deficits and two uses of tariff
revenue. Equations and user guide: ``docs/ims2025.md``.

Quick use::

    from kaifang.data import liberation2025 as lib
    from kaifang.models import ims2025

    data = lib.load()
    cal = ims2025.calibrate(data.trade, data.gdp, data.regions)
    econ = ims2025.build_economy(cal, ims2025.ModelSettings())
    t = ims2025.policy.ustr_tariffs(data.tariffs, cal.us)
    sol = ims2025.solve(econ, t)
"""

from kaifang.baseline.ims2025 import Calibration, calibrate
from kaifang.models.ims2025 import policy
from kaifang.models.ims2025.equations import Economy, Equilibrium, evaluate
from kaifang.models.ims2025.model import ModelSettings, build_economy
from kaifang.models.ims2025.outcomes import outcome_arrays, outcomes
from kaifang.models.ims2025.solver import Solution, SolverSettings, solve, solve_reference
from kaifang.models.ims2025.sweep import SweepResult, sweep

__all__ = [
    "Calibration",
    "Economy",
    "Equilibrium",
    "ModelSettings",
    "Solution",
    "SolverSettings",
    "SweepResult",
    "build_economy",
    "calibrate",
    "evaluate",
    "outcome_arrays",
    "outcomes",
    "policy",
    "solve",
    "solve_reference",
    "sweep",
]
