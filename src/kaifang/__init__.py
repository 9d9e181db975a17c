"""kaifang (开放): trade-policy general-equilibrium models, gravity estimation and scenarios.

Quick use::

    import kaifang
    result = kaifang.run("scenarios/cp2015-nafta.toml")
    result.regions  # one row per region
"""

from __future__ import annotations

from pathlib import Path

from kaifang.errors import ConvergenceError, KaifangError, ScenarioError, UserInputError
from kaifang.results import RunResult
from kaifang.scenario import Scenario, load_scenario, parse_scenario

__all__ = [
    "ConvergenceError",
    "KaifangError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "UserInputError",
    "load_scenario",
    "parse_scenario",
    "run",
]


def run(scenario: str | Path | Scenario) -> RunResult:
    """Load (if a path) and solve a scenario; return its :class:`RunResult`.

    Parameters
    ----------
    scenario
        A path to a TOML scenario file or an already parsed :class:`Scenario`.
    """
    from kaifang.models import run_scenario

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return run_scenario(sc)
