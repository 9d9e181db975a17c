"""kaifang (开放): trade-policy general-equilibrium models, gravity estimation and scenarios.

Quick use::

    import kaifang
    result = kaifang.run("scenarios/cp2015-nafta.toml")
    result.regions  # one row per region
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from kaifang.errors import ConvergenceError, KaifangError, ScenarioError, UserInputError

if TYPE_CHECKING:
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

# Imported on first use, so that `import kaifang` (and the command line's start-up) does not
# pay for pandas and pydantic until something needs them.
_LAZY = {
    "RunResult": "kaifang.results",
    "Scenario": "kaifang.scenario",
    "load_scenario": "kaifang.scenario",
    "parse_scenario": "kaifang.scenario",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kaifang' has no attribute {name!r}")


def run(scenario: str | Path | Scenario) -> RunResult:
    """Load (if a path) and solve a scenario; return its :class:`RunResult`.

    Parameters
    ----------
    scenario
        A path to a TOML scenario file or an already parsed :class:`Scenario`.
    """
    from kaifang.models import run_scenario
    from kaifang.scenario import Scenario, load_scenario

    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return run_scenario(sc)
