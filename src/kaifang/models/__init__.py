"""Models. Each model lives in its own subpackage; its runner module, registered by dotted path
in :data:`RUNNERS` (imported lazily, so ``kaifang --help`` stays fast), exposes

``prepare(scenario, progress) -> Prepared``
    everything a run does before solving: the model's own sections (``[baseline]``,
    ``[parameters]``, ``[solver]``, ``[policy]``, ``[output]`` ...), the data set, the shocks
    composed onto its regions and sectors, groups resolved. Mistakes raise
    :class:`~kaifang.errors.UserInputError`; doubts are :class:`~kaifang.errors.KaifangWarning`.
``solve_prepared(prepared, progress) -> RunResult``
    solves what ``prepare`` returned;
``run(scenario, progress) -> RunResult``
    the two in a row.

:func:`validate_scenario` runs ``prepare`` alone (no solving) and returns the warnings;
:func:`run_scenario` runs both and checks the result (:func:`kaifang.results.check_result`).
Because both go through ``prepare``, validation and a run check exactly the same things.
A runner module without ``prepare`` (a plug-in model) is run in one step; its validation then
covers the common fields only (:attr:`ValidationReport.complete` is false).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

from kaifang.errors import KaifangWarning, ScenarioError, suggest
from kaifang.results import RunResult
from kaifang.scenario import Scenario

__all__ = [
    "RUNNERS",
    "PreparedRun",
    "Progress",
    "ValidationReport",
    "get_runner",
    "null_progress",
    "prepare_scenario",
    "run_scenario",
    "solve_prepared",
    "validate_scenario",
]


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


#: Modules each model's points import on the way (lazily, not with the runner), which a sweep's
#: workers load up front (:func:`kaifang._dask.cluster_client`'s ``preload``): the ims2025 model's
#: optimal tariffs and its fallback solver use scipy.optimize (0.2 s to import).
WORKER_MODULES: dict[str, tuple[str, ...]] = {
    "caliendo_parro": (),
    "gravity": (),
    "ims2025": ("scipy.optimize",),
}


def _unknown_model(model: str, source: str) -> ScenarioError:
    return ScenarioError(
        f"{source}: field 'model' has unknown value {model!r}.{suggest(model, RUNNERS)} "
        f"Valid models: {', '.join(RUNNERS)}."
    )


def _module(model: str, source: str) -> tuple[ModuleType, str]:
    if model not in RUNNERS:
        raise _unknown_model(model, source)
    mod, _, fn = RUNNERS[model].partition(":")
    return importlib.import_module(mod), fn


def get_runner(model: str, source: str = "<string>") -> Callable[..., RunResult]:
    """Import and return the runner of ``model`` (ScenarioError if unknown)."""
    module, fn = _module(model, source)
    return getattr(module, fn)


@contextmanager
def _collect(into: list[str]) -> Iterator[None]:
    """Record the KaifangWarnings raised inside (each message once, in order) into ``into``."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", KaifangWarning)
            try:
                yield
            finally:
                caught = list(recorded)
    finally:
        # outside the recording context: re-emitting inside it would record the warning again
        for w in caught:
            if issubclass(w.category, KaifangWarning):
                if str(w.message) not in into:
                    into.append(str(w.message))
            else:  # anything else goes on as it came
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _strict_error(scenario: Scenario, messages: list[str]) -> ScenarioError:
    n = len(messages)
    return ScenarioError(
        f"{scenario.source}: {n} warning{'s' if n != 1 else ''}, and strict mode (--strict) turns warnings "
        f"into errors:\n" + "\n".join(messages)
    )


@dataclass(frozen=True)
class PreparedRun:
    """A validated scenario ready to solve: what ``prepare`` returned and the warnings it gave.

    Attributes
    ----------
    scenario
        The scenario.
    prepared
        The model's prepared object (``None`` for a runner without a prepare step).
    warnings
        The warnings of validation (each message once).
    strict
        Whether warnings are errors (then ``warnings`` is empty).
    """

    scenario: Scenario
    prepared: Any
    warnings: tuple[str, ...] = ()
    strict: bool = False

    @property
    def summary(self) -> dict[str, Any]:
        """What validation found (regions, sectors, shocked cells ...), for messages and the web app."""
        fn = getattr(self.prepared, "summary", None)
        return dict(fn()) if callable(fn) else {}


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_scenario` found: the scenario is valid, with these warnings.

    Attributes
    ----------
    scenario
        The validated scenario.
    warnings
        Each warning once (messages naming file and field), in the order they came.
    complete
        False when the model's runner has no prepare step, so only the common fields were checked.
    summary
        What the model reports of the prepared scenario (data set regions and sectors, shocked
        cells, ...).
    """

    scenario: Scenario
    warnings: tuple[str, ...] = ()
    complete: bool = True
    summary: Mapping[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """JSON-ready: ``source``, ``scenario``, ``model``, ``dataset``, ``valid``, ``complete``,
        ``warnings``, ``summary``."""
        return {
            "source": self.scenario.source,
            "scenario": self.scenario.name,
            "model": self.scenario.model,
            "dataset": self.scenario.dataset,
            "valid": True,
            "complete": self.complete,
            "warnings": list(self.warnings),
            "summary": dict(self.summary),
        }


def prepare_scenario(
    scenario: Scenario, progress: Progress | None = None, *, strict: bool = False
) -> PreparedRun:
    """Validate ``scenario`` completely and prepare it for solving (nothing is solved).

    Raises
    ------
    UserInputError
        Any mistake in the scenario (file, field, value), including the model's sections and
        the shocks against the data set; with ``strict``, any warning too.
    """
    module, _ = _module(scenario.model, scenario.source)
    if scenario.uncertainty and scenario.model not in _UNCERTAINTY_MODELS:
        raise ScenarioError(
            f"{scenario.source}: section 'uncertainty' (draws of the trade elasticities) is supported by the "
            f"{', '.join(_UNCERTAINTY_MODELS)} model only, not by {scenario.model!r}. For the gravity model "
            f"use [output] draws (draws of the estimated coefficients); remove the section otherwise."
        )
    prep = getattr(module, "prepare", None)
    if prep is None or not hasattr(module, "solve_prepared"):
        return PreparedRun(scenario=scenario, prepared=None, strict=strict)
    messages: list[str] = []
    with _collect(messages):
        prepared = prep(scenario, progress=progress or null_progress)
    if strict and messages:
        raise _strict_error(scenario, messages)
    return PreparedRun(scenario=scenario, prepared=prepared, warnings=tuple(messages), strict=strict)


def validate_scenario(
    scenario: Scenario, *, strict: bool = False, progress: Progress | None = None
) -> ValidationReport:
    """Run every check a run makes before solving, and return the warnings.

    The common schema (already checked by :func:`kaifang.scenario.parse_scenario`), the
    model's own sections, the data set, the shocks parsed and composed onto its regions and
    sectors (so ``importer = "Chna"`` fails with a suggestion), groups resolved. The warnings
    are returned (:attr:`ValidationReport.warnings`), not emitted.

    Parameters
    ----------
    scenario
        A parsed scenario (:func:`kaifang.scenario.load_scenario`).
    strict
        Turn warnings into a :class:`~kaifang.errors.ScenarioError`.
    progress
        Progress callback for reading the data set.

    Raises
    ------
    UserInputError
        The first mistake found (a sentence naming file, field and value).
    """
    run = prepare_scenario(scenario, progress, strict=strict)
    return ValidationReport(
        scenario=scenario, warnings=run.warnings, complete=run.prepared is not None, summary=run.summary
    )


def solve_prepared(run: PreparedRun, progress: Progress | None = None) -> RunResult:
    """Solve a :class:`PreparedRun` and check the result.

    The result carries every warning of validation and solving (:attr:`RunResult.warnings`);
    nothing is emitted. With ``run.strict``, a warning while solving is an error.

    Raises
    ------
    ResultCheckError
        The result fails a sanity check (:func:`kaifang.results.check_result`).
    """
    from kaifang.results import check_result

    sc = run.scenario
    messages = list(run.warnings)
    module, fn = _module(sc.model, sc.source)
    with _collect(messages):
        if run.prepared is None:
            result = getattr(module, fn)(sc, progress=progress or null_progress)
        else:
            result = module.solve_prepared(run.prepared, progress=progress or null_progress)
    if run.strict and len(messages) > len(run.warnings):
        raise _strict_error(sc, messages[len(run.warnings) :])
    regions = result.raw_tables()["regions"]  # as held: no conversion to a DataFrame here
    if "groups" not in result.provenance and "region" in regions.columns:
        # every run lists, for each group its shocks name, the members absent from the data set
        from kaifang.scenario.select import selection_report

        prov = {**result.provenance, "groups": selection_report(sc, [str(r) for r in regions["region"]])}
        result = result.replace(provenance=prov)
    result = result.replace(warnings=tuple(dict.fromkeys((*result.warnings, *messages))))
    check_result(result)
    return result


def run_scenario(scenario: Scenario, progress: Progress | None = None, *, strict: bool = False) -> RunResult:
    """Validate and solve ``scenario`` with its model; return the checked :class:`RunResult`.

    Warnings are in :attr:`RunResult.warnings` and are also emitted once each as
    :class:`~kaifang.errors.KaifangWarning`: those of validation before the solve, the others
    after it (``strict=True`` makes them errors).
    """
    run = prepare_scenario(scenario, progress, strict=strict)
    for message in run.warnings:  # as soon as validation knows them, before the solve
        warnings.warn(message, KaifangWarning, stacklevel=2)
    result = solve_prepared(run, progress)
    for message in result.warnings:
        if message not in run.warnings:
            warnings.warn(message, KaifangWarning, stacklevel=2)
    return result
