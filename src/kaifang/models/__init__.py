"""Models. Each model lives in its own subpackage and exposes a runner

``run(scenario: Scenario, progress: Progress) -> RunResult``

registered by dotted path in :data:`RUNNERS` (imported lazily, so ``kaifang --help`` stays fast).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from kaifang.errors import ScenarioError, suggest
from kaifang.results import RunResult
from kaifang.scenario import Scenario

__all__ = ["RUNNERS", "Progress", "get_runner", "null_progress", "run_scenario"]


class Progress(Protocol):
    """Callback for progress messages on long steps (the CLI shows them on stderr)."""

    def __call__(self, message: str) -> None: ...


def null_progress(message: str) -> None:
    """A progress callback that ignores messages."""


#: Models that read a scenario's ``[uncertainty]`` section (the others refuse it).
_UNCERTAINTY_MODELS = ("caliendo_parro",)

RUNNERS: dict[str, str] = {
    "caliendo_parro": "kaifang.models.caliendo_parro.runner:run",
    "gravity": "kaifang.models.gravity.runner:run",
    "ims2025": "kaifang.models.ims2025.runner:run",
}


def get_runner(model: str, source: str = "<string>") -> Callable[..., RunResult]:
    """Import and return the runner of ``model`` (ScenarioError if unknown)."""
    if model not in RUNNERS:
        raise ScenarioError(
            f"{source}: field 'model' has unknown value {model!r}.{suggest(model, RUNNERS)} "
            f"Valid models: {', '.join(RUNNERS)}."
        )
    mod, _, fn = RUNNERS[model].partition(":")
    return getattr(importlib.import_module(mod), fn)


def run_scenario(scenario: Scenario, progress: Progress | None = None) -> RunResult:
    """Solve ``scenario`` with its model and return the :class:`RunResult`."""
    runner = get_runner(scenario.model, scenario.source)
    if scenario.uncertainty and scenario.model not in _UNCERTAINTY_MODELS:
        raise ScenarioError(
            f"{scenario.source}: section 'uncertainty' (draws of the trade elasticities) is supported by the "
            f"{', '.join(_UNCERTAINTY_MODELS)} model only, not by {scenario.model!r}. For the gravity model "
            f"use [output] draws (draws of the estimated coefficients); remove the section otherwise."
        )
    result = runner(scenario, progress=progress or null_progress)
    if "groups" not in result.provenance and "region" in result.regions.columns:
        # every run lists, for each group its shocks name, the members absent from the data set
        from dataclasses import replace

        from kaifang.scenario.select import selection_report

        prov = {**result.provenance, "groups": selection_report(scenario, list(result.regions["region"]))}
        result = replace(result, provenance=prov)
    return result
