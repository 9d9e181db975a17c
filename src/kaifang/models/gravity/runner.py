"""Runner of ``model = "gravity"`` scenarios: estimate, build the baseline, shock, solve, report.

:func:`prepare` does everything before solving (sections, data, estimation, shocks; what
``kaifang validate`` runs), :func:`solve_prepared` solves, :func:`run` is the two in a row.

The model needs a one-sector world (:data:`WORLD_KIND` ``"onesector"``: one square matrix of
flows, exporter by importer, domestic sales included) and runs on every data set that provides
one (:func:`kaifang.baseline.worlds.onesector_world`): the gravity panels ``agtpa`` and
``wiod44`` (a year of the panel), ``liberation2025`` (the 2023 world of 194 economies, domestic
sales from the 2025 tariff model's calibration), and every multi-sector data set with its flows
summed over sectors (``wiod2013``, ``wiod2016``, ``icio``, ``mrio``, ``cp2015``, ``demo``).
Estimation, estimated baseline costs and ``policy`` shocks read pair variables of a panel and
need a data set that provides a ``gravity_panel`` (:data:`PANEL_KIND`); on other worlds shocks
are sized by numbers (``iceberg``, ``ntb``, ``embargo``, ``tariff_equivalent``, ``agreement``
with ``estimate``).

Scenario sections (validated here):

``[baseline]``
    ``year`` (baseline year: required for panels; for tables as for the multi-sector model,
    ``wiod2013`` 2011 by default; not needed for the one-year data sets), ``file`` (a registered
    file of a panel, or a table file relative to the scenario, required for ``mrio``),
    ``costs = "estimated" | "observed"`` (estimated: panels only).
``[estimation]``
    An :class:`kaifang.estimate.EstimationSpec` without ``dataset`` (taken from the scenario),
    plus ``fill_regressors`` (second-stage prediction of unidentified pair costs). Panels only.
``[parameters]``
    ``sigma`` (or ``theta = sigma - 1``), ``reference`` (ISO3), ``imbalance =
    "multiplicative" | "additive"``, ``normalisation = "reference" | "world_output"``.
``[[shocks]]``
    ``type = "policy"``: a pair-level policy variable changes -- ``variable``, either
    ``value`` (new value) or ``from_year`` (its value in that year), ``importer``/``exporter``
    selectors (international pairs only), and ``coefficient``: the name of an estimated
    coefficient (default: ``variable``) or a number; the partial effect is
    ``B_ij = exp(b * (x'_ij - x_ij))`` (panels only). ``type = "iceberg"``, ``"ntb"``,
    ``"embargo"`` and ``"agreement"`` shocks of the shared language also work:
    ``B = dhat^(1-sigma)``, and ``exp(estimate)`` for agreements. ``type = "tariff_equivalent"``
    (this model's own): an ad-valorem tariff modelled as a trade cost -- the fields of a
    ``tariff`` shock (``op``, ``value`` in percent or ``from_table``, e.g. ``ustr2025`` of
    ``liberation2025``, ``mirror``); the one-sector world has no tariffs, so
    ``B = (1 + t')^(1-sigma)``, a cost with no revenue.
``[solver]``
    ``tol`` (default 1e-12), ``maxiter``.
``[output]``
    ``draws`` (Monte Carlo draws of the shock coefficients from the estimated covariance; 0 =
    none), ``seed``, ``level`` (of the intervals; 0.95): adds ``<column>_lo``/``_hi``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kaifang.baseline.onesector import GravityBaseline, calibrate_flows, cost_matrix, square_matrix
from kaifang.baseline.worlds import TableSpec, onesector_world
from kaifang.data.mrio import TABLE_DATASETS
from kaifang.data.registry import get_dataset, providers
from kaifang.errors import DataError, KaifangWarning, ScenarioError, suggest
from kaifang.estimate import PPMLEstimate
from kaifang.estimate.spec import EstimationSpec, derive_columns, prepare_data, run_spec
from kaifang.models import Progress, null_progress
from kaifang.models.gravity.equations import exports_international
from kaifang.models.gravity.solver import GESolution, GravitySolution, solve_gravity
from kaifang.results import RunResult, flag_no_trade, package_version
from kaifang.scenario import Scenario, resolve, scenario_file, validate_section
from kaifang.scenario.fields import bounded, refuse_sections
from kaifang.scenario.select import EmptySelectionError, SelectorField, label_resolver
from kaifang.scenario.shocks import TariffShock

__all__ = ["OUTCOMES", "WELFARE_MEASURE", "Prepared", "prepare", "run", "solve_prepared"]

#: The definition of ``welfare_pct`` as stated in a run's ``diagnostics.welfare_measure``.
WELFARE_MEASURE = (
    "welfare_pct is the exact change in real expenditure, 100 (E-hat / P-hat - 1), with expenditure E "
    "(output plus the trade deficit) and the CES price index P (the inward multilateral resistance, "
    "imr_pct) of the full-endowment equilibrium: the equivalent variation in "
    "percent of baseline expenditure under CES preferences (ge_gravity's welfare); real_gdp_pct is "
    "Y/P, equal to it with multiplicative imbalances."
)

OUTCOMES = (
    "exports_pct",
    "output_pct",
    "producer_price_pct",
    "imr_pct",
    "omr_pct",
    "welfare_pct",
    "real_gdp_pct",
)


#: Most Monte Carlo draws in one run (each solves the model once); memory is checked too.
MAX_DRAWS = 100_000

_Year = bounded(int, "year", ge=1900, le=2100, description="a year of the data set")
_EstTol = bounded(float, "tol", ge=1e-14, le=1e-2, description="PPML convergence tolerance")
_EstMaxiter = bounded(int, "maxiter", ge=1, le=10_000, description="most PPML iterations")
_PolicyValue = bounded(float, "value", ge=-1e6, le=1e6, description="new value of the variable")
_Coefficient = bounded(float, "coefficient", ge=-20, le=20, description="the coefficient, in log points")
_Tol = bounded(float, "tol", ge=1e-15, le=1e-3, description="convergence tolerance on log prices")
_Maxiter = bounded(int, "maxiter", ge=1, le=10_000_000, description="most fixed-point iterations")
_Draws = bounded(int, "draws", ge=0, le=MAX_DRAWS, description="Monte Carlo draws (0 = none)")
_Seed = bounded(int, "seed", ge=0, le=2**32 - 1, description="seed of the random draws")
_Level = bounded(float, "level", ge=0.5, le=0.999, description="level of the intervals")


class BaselineSection(BaseModel):
    """The scenario's ``[baseline]`` section.

    ``regions`` aggregates the regions of a world input-output table (``wiod2013``,
    ``wiod2016``, ``icio``, ``mrio``) before its flows are summed over sectors: new label -> a
    label, a group or a list of them; unlisted regions go into ``rest_region``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    file: str | None = None
    year: _Year | None = None
    costs: Literal["estimated", "observed"] = "observed"
    regions: dict[str, str | list[str]] | None = None
    rest_region: str = Field(default="ROW", min_length=1)


class EstimationSection(EstimationSpec):
    """``[estimation]``: an :class:`~kaifang.estimate.EstimationSpec` with bounded PPML settings."""

    tol: _EstTol = 1e-8
    maxiter: _EstMaxiter = 100
    fill_regressors: list[str] = Field(default_factory=list)


#: Elasticity of substitution (theta = sigma - 1 is the trade elasticity): from 1.1, where the
#: exponent 1/(1 - sigma) of the resistances is already -10, to 100, far above applied values
#: (Yotov et al. 2016 use sigma = 7).
_Sigma = bounded(float, "sigma", ge=1.1, le=100.0, description="elasticity of substitution")
_Theta = bounded(float, "theta", ge=0.1, le=99.0, description="trade elasticity, sigma - 1")


class ParametersSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    sigma: _Sigma | None = None
    theta: _Theta | None = None
    reference: str | None = None
    imbalance: Literal["multiplicative", "additive"] = "multiplicative"
    normalisation: Literal["reference", "world_output"] = "reference"

    @model_validator(mode="after")
    def _one_elasticity(self) -> ParametersSection:
        if (self.sigma is None) == (self.theta is None):
            raise ValueError(
                "give exactly one of 'sigma' (elasticity of substitution) or 'theta' (= sigma - 1)"
            )
        return self

    @property
    def sigma_value(self) -> float:
        return float(self.sigma if self.sigma is not None else self.theta + 1.0)  # type: ignore[operator]


class PolicyShock(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["policy"]
    variable: str
    value: _PolicyValue | None = None
    from_year: _Year | None = None
    coefficient: str | _Coefficient | None = None
    importer: SelectorField = "all"
    exporter: SelectorField = "all"
    label: str = ""

    @model_validator(mode="after")
    def _one_source(self) -> PolicyShock:
        if (self.value is None) == (self.from_year is None):
            raise ValueError("give exactly one of 'value' (new value of the variable) or 'from_year'")
        return self


class TariffEquivalentShock(TariffShock):
    """An ad-valorem tariff modelled as a trade cost: the fields of a ``tariff`` shock; the
    partial effect is ``B = ((1 + t')/(1 + t))^(1-sigma)`` with ``t = 0`` in a one-sector world."""

    type: Literal["tariff_equivalent"]  # type: ignore[assignment]


class SolverSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    tol: _Tol = 1e-12
    maxiter: _Maxiter = 100_000


class OutputSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    draws: _Draws = 0
    seed: _Seed = 1
    level: _Level = 0.95


#: The kind of world this model solves from (:data:`kaifang.data.registry.WORLD_KINDS`).
WORLD_KIND = "onesector"
#: The kind a data set must also provide for estimation, estimated costs and ``policy`` shocks.
PANEL_KIND = "gravity_panel"
#: Data sets this model runs on (every provider of :data:`WORLD_KIND`).
DATASETS = providers(WORLD_KIND)
#: Shock types this model applies: its own ``policy`` and ``tariff_equivalent`` and these of
#: the shared language.
#: The shared shock types it applies (composed by :func:`kaifang.scenario.shocks.compose_shocks`).
_SHARED = ("iceberg", "ntb", "embargo", "agreement")
SHOCK_TYPES = ("policy", "tariff_equivalent", *_SHARED)
#: Shock types of this model's own (not in :mod:`kaifang.scenario.shocks`).
OWN_SHOCKS: dict[str, type[BaseModel]] = {"policy": PolicyShock, "tariff_equivalent": TariffEquivalentShock}
#: The sections this model reads (for the JSON Schema and the template of ``kaifang new``).
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "baseline": BaselineSection,
    "estimation": EstimationSection,
    "parameters": ParametersSection,
    "solver": SolverSection,
    "output": OutputSection,
}


def _pct(x: np.ndarray) -> np.ndarray:
    return (x - 1.0) * 100.0


def outcomes(X: np.ndarray, sol: GESolution, sigma: float) -> dict[str, np.ndarray]:
    """Percent changes per country (last axis) of one equilibrium; works on a batch axis.

    ``exports_pct`` international exports; ``output_pct`` ``Y``; ``producer_price_pct``
    factory-gate price ``p``; ``imr_pct``/``omr_pct`` inward/outward multilateral resistance
    (``P``, ``Pi``, not raised to ``1-sigma``); ``welfare_pct`` real expenditure ``E/P``;
    ``real_gdp_pct`` ``Y/P`` (equal to welfare with multiplicative imbalances).
    """
    inv = 1.0 / (1.0 - sigma)
    P = sol.P_hat**inv
    return {
        "exports_pct": _pct(exports_international(sol.X) / exports_international(X)),
        "output_pct": _pct(sol.Y_hat),
        "producer_price_pct": _pct(sol.p_hat),
        "imr_pct": _pct(P),
        "omr_pct": _pct(sol.Pi_hat**inv),
        "welfare_pct": _pct(sol.E_hat / P),
        "real_gdp_pct": _pct(sol.Y_hat / P),
    }


def _build_baseline(
    scenario: Scenario, base: BaselineSection, est_spec: EstimationSection | None, progress: Progress
) -> tuple[GravityBaseline, PPMLEstimate | None, dict[str, Callable[[], np.ndarray]]]:
    src = scenario.source
    panel = PANEL_KIND in get_dataset(scenario.dataset).provides
    progress(f"reading data set {scenario.dataset}")
    file: Path | None = None
    if base.file is not None:
        file = Path(base.file) if panel else scenario_file(base.file, scenario)
    if base.regions is not None and scenario.dataset not in TABLE_DATASETS:
        raise ScenarioError(
            f"{src}: field 'baseline.regions' aggregates the regions of a world input-output table "
            f"({', '.join(TABLE_DATASETS)}); data set {scenario.dataset!r} is not one. Remove the field, "
            f"or define a group in [groups] to shock several regions together."
        )
    spec = TableSpec(
        dataset=scenario.dataset,
        year=base.year,
        file=file,
        regions=base.regions,
        rest_region=base.rest_region,
        source=src,
    )
    bl, tables = onesector_world(spec, resolve=label_resolver(scenario))
    estimate = None
    if est_spec is not None:
        progress("estimating the gravity equation (PPML)")
        estimate = run_spec(est_spec, bl.data, source=src, progress=progress)  # type: ignore[arg-type]
    notes: dict[str, object] = {"costs": base.costs, **bl.notes}
    if base.costs == "estimated":
        if estimate is None:
            raise ScenarioError(
                f"{src}: field 'baseline.costs' is 'estimated' but the scenario has no 'estimation' section; "
                f'add one or use costs = "observed".'
            )
        data = bl.data
        assert data is not None
        year_panel = data[data["year"] == bl.year]
        ypanel = prepare_data(
            year_panel, est_spec.model_copy(update={"years": [], "international_only": False}), src
        )  # type: ignore[union-attr]
        lnT, more = cost_matrix(
            estimate,
            ypanel,
            bl.regions,
            pair_effect=est_spec.pair_effect,  # type: ignore[union-attr]
            fill_regressors=est_spec.fill_regressors,  # type: ignore[union-attr]
            source=src,
        )
        notes.update(more)
        notes["flows"] = (
            f"structural-gravity fitted values with the estimated costs and the {bl.year} output and "
            f"expenditure of the {scenario.dataset} panel"
        )
        X = calibrate_flows(np.exp(lnT), bl.X.sum(axis=1), bl.X.sum(axis=0))
        bl = replace(bl, X=X)
    return replace(bl, notes=notes), estimate, tables


def _refuse_panel_needs(scenario: Scenario, base: BaselineSection) -> None:
    """Estimation, estimated costs and ``policy`` shocks need a gravity panel: refuse them elsewhere."""
    ds = scenario.dataset
    if PANEL_KIND in get_dataset(ds).provides:
        return
    have = ", ".join(providers(PANEL_KIND))
    what = (
        f"data set {ds!r} provides a one-sector world (flows only, no pair variables such as agreements, "
        f"distance or borders) but no gravity panel; data sets with a gravity panel: {have}"
    )
    src = scenario.source
    if scenario.estimation:
        raise ScenarioError(
            f"{src}: field 'estimation': the gravity model estimates its trade costs from a bilateral panel, "
            f"but {what}. Remove the [estimation] section and give shock sizes as numbers (e.g. an agreement "
            f"shock with 'estimate', an iceberg or tariff_equivalent shock), or use one of those data sets."
        )
    if base.costs == "estimated":
        raise ScenarioError(
            f"{src}: field 'baseline.costs' has value 'estimated', which needs an estimation on a bilateral "
            f'panel, but {what}. Use costs = "observed" (the default) or one of those data sets.'
        )
    for k, s in enumerate(scenario.shocks):
        if s.get("type") == "policy":
            raise ScenarioError(
                f"{src}: field 'shocks[{k}].type' has value 'policy', which changes a pair variable of a "
                f"bilateral panel, but {what}. Use an iceberg, ntb, tariff_equivalent or agreement shock "
                f"(with 'estimate'), or one of those data sets."
            )


def _policy_shocks(
    scenario: Scenario,
    shocks: Sequence[tuple[int, PolicyShock]],
    bl: GravityBaseline,
    estimate: PPMLEstimate | None,
) -> tuple[list[np.ndarray], list[str | float], np.ndarray]:
    """For each policy shock: ``dx`` (N, N) and its coefficient (a name or a number)."""
    src = scenario.source
    regions = list(bl.regions)
    n = len(regions)
    data = bl.data
    offdiag = ~np.eye(n, dtype=bool)
    dxs: list[np.ndarray] = []
    coefs: list[str | float] = []
    touched = np.zeros((n, n), dtype=bool)
    for k, s in shocks:
        assert data is not None  # policy shocks are refused on worlds without a panel
        try:
            data = derive_columns(data, [s.variable], src)
        except DataError:
            raise ScenarioError(
                f"{src}: field 'shocks[{k}].variable' has unknown value {s.variable!r}.{suggest(s.variable, data.columns)} "
                f"Columns of {scenario.dataset}: {', '.join(map(str, data.columns))}."
            ) from None
        yp = data[data["year"] == bl.year]
        x0 = square_matrix(yp, s.variable, regions, fill=0.0, what=src)
        if s.from_year is not None:
            have = sorted(int(y) for y in data["year"].unique())
            if s.from_year not in have:
                raise ScenarioError(
                    f"{src}: field 'shocks[{k}].from_year' has value {s.from_year}, not in the data ({have})."
                )
            x1 = square_matrix(data[data["year"] == s.from_year], s.variable, regions, fill=0.0, what=src)
        else:
            x1 = np.full((n, n), float(s.value))  # type: ignore[arg-type]
        reason = ""
        try:
            imp = resolve(
                s.importer,
                regions,
                what="region",
                field=f"shocks[{k}].importer",
                source=src,
                groups=scenario.groups,
            )
            exp = resolve(
                s.exporter,
                regions,
                what="region",
                field=f"shocks[{k}].exporter",
                source=src,
                groups=scenario.groups,
            )
        except EmptySelectionError as exc:
            imp, exp = [], []
            reason = (
                f"its selection is empty in this data set ({str(exc).removeprefix(f'{src}: ').rstrip('.')})"
            )
        mask = np.zeros((n, n), dtype=bool)
        mask[np.ix_(exp, imp)] = True  # arrays are (exporter, importer)
        mask &= offdiag
        if imp and exp and not mask.any():
            reason = "it selects no international pair (importer and exporter are the same region)"
        dx = np.where(mask, x1 - x0, 0.0)
        if mask.any() and not (dx != 0).any():
            when = f"in {s.from_year}" if s.from_year is not None else f"= {s.value:g}"
            reason = (
                f"{s.variable!r} {when} equals its {bl.year} value for every selected pair, so the policy "
                f"variable does not change"
            )
        if (dx != 0).any() and s.coefficient is not None and not isinstance(s.coefficient, str):
            if s.coefficient == 0:
                reason = "its coefficient is 0"
        if reason:
            label = f" ({s.label!r})" if s.label else ""
            warnings.warn(
                f"{src}: shocks[{k}]{label} changes nothing: {reason}. Correct or remove the shock "
                f"(--strict turns this warning into an error).",
                KaifangWarning,
                stacklevel=2,
            )
        coef: str | float = s.coefficient if s.coefficient is not None else s.variable
        if isinstance(coef, str):
            if estimate is None:
                raise ScenarioError(
                    f"{src}: shocks[{k}] takes its size from the estimate {coef!r} but the scenario has no "
                    f"'estimation' section; add one or give 'coefficient' as a number."
                )
            if coef not in estimate.coef.index:
                raise ScenarioError(
                    f"{src}: field 'shocks[{k}].coefficient' names the estimate {coef!r}, which does not exist."
                    f"{suggest(coef, estimate.coef.index)} Estimated coefficients: {', '.join(estimate.coef.index)}."
                )
        dxs.append(dx)
        coefs.append(coef)
        touched |= mask & (dx != 0)
    return dxs, coefs, touched


def _log_partial(dxs: Sequence[np.ndarray], values: np.ndarray) -> np.ndarray:
    """``ln B = sum_s b_s dx_s``; ``values`` is ``(S,)`` or ``(D, S)``."""
    if not dxs:
        return np.zeros((*values.shape[:-1], 0, 0))
    stack = np.stack(dxs)  # (S, N, N)
    return np.tensordot(values, stack, axes=([-1], [0]))


#: Peak bytes per Monte Carlo draw and country pair while the draws are solved at once: float64
#: arrays of shape (draws, N, N). tracemalloc measured about 5.2 such arrays inside
#: :func:`solve_gravity` (flows and temporaries of both equilibria; 69 and 40 countries, 200 and
#: 400 draws), plus the draws' log partial effects, their sum and exponential here: 10, rounded up.
BYTES_PER_DRAW_PAIR = 8 * 10


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``; else total physical memory)."""
    import os

    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def _check_draw_memory(draws: int, n: int, scenario: Scenario) -> None:
    """Refuse Monte Carlo draws that would not fit in memory, before any is drawn."""
    need = draws * n * n * BYTES_PER_DRAW_PAIR
    have = _available_memory()
    if have is not None and need > have:
        fit = max(1, int(have // (n * n * BYTES_PER_DRAW_PAIR)))
        raise ScenarioError(
            f"{scenario.source}: field 'output.draws' has value {draws}: solving {draws} draws at once for "
            f"{n} countries would need about {_gib(need)} of memory ({draws} x {n}^2 pairs x "
            f"{BYTES_PER_DRAW_PAIR} bytes), more than the {_gib(have)} available; use at most {fit} draws."
        )


@dataclass(frozen=True, eq=False)
class Prepared:
    """A validated gravity scenario, ready to solve (:func:`prepare`): sections, baseline
    (estimated when asked), the shocks as log partial effects, the coefficients they use."""

    scenario: Scenario
    base: BaselineSection
    params: ParametersSection
    solver: SolverSection
    output: OutputSection
    est_spec: EstimationSection | None
    baseline: GravityBaseline
    estimate: PPMLEstimate | None
    reference: int | None
    dxs: list[np.ndarray]
    coefs: list[str | float]
    point: np.ndarray
    log_partial: np.ndarray
    touched: np.ndarray
    shared_shocks: bool

    def summary(self) -> dict[str, object]:
        """Countries, baseline year and shocked pairs (for validation reports)."""
        return {
            "regions": len(self.baseline.regions),
            "year": self.baseline.year,
            "shocks": len(self.scenario.shocks),
            "pairs_shocked": int(self.touched.sum()),
            "estimated_coefficients": list(self.estimate.coef.index) if self.estimate is not None else [],
        }


def prepare(scenario: Scenario, progress: Progress = null_progress) -> Prepared:
    """Everything a run does before solving: sections, data, estimation, shocks (no solving)."""
    src = scenario.source
    ds = get_dataset(scenario.dataset)  # unknown names get the registry's message
    if WORLD_KIND not in ds.provides:
        raise ScenarioError(
            f"{src}: field 'dataset' has value {scenario.dataset!r}, but the gravity model needs a one-sector "
            f"world (a {WORLD_KIND} world: flows with domestic sales), which {scenario.dataset!r} does not "
            f"provide; data sets that do: {', '.join(providers(WORLD_KIND))}."
        )
    refuse_sections(scenario, ("baseline", "parameters", "solver", "estimation", "output"), "gravity")
    base = validate_section(BaselineSection, scenario.baseline, scenario, "baseline")
    _refuse_panel_needs(scenario, base)
    params = validate_section(ParametersSection, scenario.parameters, scenario, "parameters")
    solver = validate_section(SolverSection, scenario.solver, scenario, "solver")
    output = validate_section(OutputSection, scenario.output, scenario, "output")
    est_spec = None
    if scenario.estimation:
        est = dict(scenario.estimation)
        est.setdefault("dataset", scenario.dataset)
        est.setdefault("file", base.file)
        est_spec = validate_section(EstimationSection, est, scenario, "estimation")
    policy: list[tuple[int, PolicyShock]] = []
    others: list[dict] = []
    for k, s in enumerate(scenario.shocks):
        if s.get("type") == "policy":
            policy.append((k, validate_section(PolicyShock, s, scenario, f"shocks[{k}]")))
        elif s.get("type") == "tariff":
            raise ScenarioError(
                f"{src}: field 'shocks[{k}].type' has value 'tariff', but the gravity model has no tariffs "
                f'(no tariff revenue); to model the tariff as a trade cost use type = "tariff_equivalent" '
                f"(same fields), or use the caliendo_parro or ims2025 model."
            )
        elif s.get("type") == "tariff_equivalent":
            validate_section(TariffEquivalentShock, s, scenario, f"shocks[{k}]")
            # composed by the shared shock language as a tariff on a world without tariffs
            others.append({**s, "type": "tariff"})
        else:
            others.append(s)
    if not scenario.shocks:
        raise ScenarioError(
            f"{src}: the scenario has no shocks; add at least one 'shocks' table (e.g. type = \"iceberg\", "
            f'"tariff_equivalent" or "policy").'
        )
    sigma = params.sigma_value

    bl, estimate, tables = _build_baseline(scenario, base, est_spec, progress)
    regions = list(bl.regions)
    n = len(regions)
    aggregates = (bl.notes.get("aggregation") or {}).get("regions")  # type: ignore[union-attr]
    ref = None
    if params.reference is not None:
        ref = resolve(
            params.reference,
            regions,
            what="region",
            field="parameters.reference",
            source=src,
            aggregates=aggregates,
        )[0]
    elif params.normalisation == "reference":
        raise ScenarioError(
            f"{src}: field 'parameters.reference' is required with normalisation = 'reference' (e.g. reference = \"DEU\")."
        )
    dxs, coefs, touched = _policy_shocks(scenario, policy, bl, estimate)
    arr = None
    if others:
        from kaifang.scenario.shocks import check_supported, compose_shocks, parse_shocks

        sub = scenario.model_copy(update={"shocks": others})
        parsed = parse_shocks(sub)
        check_supported(parsed, (*_SHARED, "tariff"), sub, "gravity")
        arr = compose_shocks(
            parsed,
            regions=regions,
            sectors=["all"],
            tariff_base=np.zeros((n, n, 1)),
            scenario=sub,
            tables=tables,
            aggregates=aggregates,
        )
        # agreement shocks: a policy dummy switching on (join, +1) or off (leave, -1) for the
        # selected pairs, sized by 'estimate' or the named estimated 'coefficient' (so Monte
        # Carlo draws cover it too); shared arrays are (importer, exporter), ours (exporter, importer)
        for a, mask in arr.agreements:
            m = mask[:, :, 0].T
            coef: str | float = a.coefficient if a.coefficient is not None else float(a.estimate)  # type: ignore[arg-type]
            if isinstance(coef, str) and (estimate is None or coef not in estimate.coef.index):
                have = (
                    ", ".join(estimate.coef.index)
                    if estimate is not None
                    else "none (no [estimation] section)"
                )
                raise ScenarioError(
                    f"{src}: an agreement shock takes its size from the estimate {coef!r}, which this scenario "
                    f"does not estimate.{suggest(coef, estimate.coef.index) if estimate is not None else ''} "
                    f"Estimated coefficients: {have}; or give 'estimate' as a number."
                )
            dxs.append(np.where(m, 1.0 if a.op == "join" else -1.0, 0.0))
            coefs.append(coef)
    point = np.array([estimate.coef[c] if isinstance(c, str) else c for c in coefs], dtype=float)  # type: ignore[union-attr]
    lnB = _log_partial(dxs, point) if dxs else np.zeros((n, n))
    if arr is not None:
        # trade costs, and tariff equivalents as costs: B = (dhat (1 + t'))^(1-sigma), t = 0 before
        lnB = lnB + (1.0 - sigma) * (np.log(arr.dhat[:, :, 0].T) + np.log1p(arr.tariff_new[:, :, 0].T))
        touched |= arr.touched[:, :, 0].T
    if output.draws:
        if not any(isinstance(c, str) for c in coefs):
            raise ScenarioError(
                f"{src}: field 'output.draws' needs at least one shock whose size comes from an estimate."
            )
        _check_draw_memory(output.draws, n, scenario)
    return Prepared(
        scenario=scenario,
        base=base,
        params=params,
        solver=solver,
        output=output,
        est_spec=est_spec,
        baseline=bl,
        estimate=estimate,
        reference=ref,
        dxs=dxs,
        coefs=coefs,
        point=point,
        log_partial=lnB,
        touched=touched,
        shared_shocks=arr is not None,
    )


def solve_prepared(prepared: Prepared, progress: Progress = null_progress) -> RunResult:
    """Solve a prepared gravity scenario (both GE variants; Monte Carlo draws when asked)."""
    pr = prepared
    scenario, base, params, solver, output = pr.scenario, pr.base, pr.params, pr.solver, pr.output
    bl, estimate, est_spec, ref = pr.baseline, pr.estimate, pr.est_spec, pr.reference
    dxs, coefs, point, lnB, touched = pr.dxs, pr.coefs, pr.point, pr.log_partial, pr.touched
    regions = list(bl.regions)
    n = len(regions)
    sigma = params.sigma_value

    def solve_for(log_partial: np.ndarray) -> GravitySolution:
        """Both GE variants for partial effects ``exp(log_partial)`` (one or a batch of draws)."""
        return solve_gravity(
            bl.X,
            np.exp(log_partial),
            sigma,
            imbalance=params.imbalance,
            normalisation=params.normalisation,
            reference=ref,
            tol=solver.tol,
            maxiter=solver.maxiter,
            labels=regions,
        )

    progress("solving the general equilibrium")
    sol = solve_for(lnB)
    full = outcomes(bl.X, sol.full, sigma)
    cond = outcomes(bl.X, sol.conditional, sigma)
    table = {"region": regions}
    for name in OUTCOMES:
        table[name] = full[name]
    for name in OUTCOMES:
        table[f"{name}_conditional"] = cond[name]
    regions_df = pd.DataFrame(table)
    solve_seconds = sol.solve_seconds

    draw_diag: dict[str, object] = {"draws": output.draws}
    if output.draws:
        names = [c for c in coefs if isinstance(c, str)]
        need = output.draws * n * n * BYTES_PER_DRAW_PAIR
        progress(f"solving {output.draws} Monte Carlo draws (about {_gib(need)} of memory)")
        uniq = list(dict.fromkeys(names))
        V = estimate.vcov.loc[uniq, uniq].to_numpy()  # type: ignore[union-attr]
        rng = np.random.default_rng(output.seed)
        draws = rng.multivariate_normal(estimate.coef[uniq].to_numpy(), V, size=output.draws)  # type: ignore[union-attr]
        vals = np.repeat(point[None, :], output.draws, axis=0)
        for s, c in enumerate(coefs):
            if isinstance(c, str):
                vals[:, s] = draws[:, uniq.index(c)]
        lnBd = _log_partial(dxs, vals)
        if pr.shared_shocks:
            lnBd = lnBd + (lnB - _log_partial(dxs, point))[None]
        t0 = time.perf_counter()
        sd = solve_for(lnBd)
        solve_seconds += time.perf_counter() - t0
        fd = outcomes(bl.X, sd.full, sigma)
        cd = outcomes(bl.X, sd.conditional, sigma)
        lo_q, hi_q = 50 * (1 - output.level), 100 - 50 * (1 - output.level)
        for name in OUTCOMES:
            for suffix, arr in (("", fd[name]), ("_conditional", cd[name])):
                regions_df[f"{name}{suffix}_lo"] = np.percentile(arr, lo_q, axis=0)
                regions_df[f"{name}{suffix}_hi"] = np.percentile(arr, hi_q, axis=0)
        draw_diag.update(
            {
                "seed": output.seed,
                "level": output.level,
                "method": "normal draws of the shock coefficients from the "
                "estimated covariance; baseline held at the point estimate",
                "draw_iterations": sd.full.iterations,
            }
        )

    ex, im = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    bilateral = pd.DataFrame(
        {
            "exporter": np.array(regions)[ex.ravel()],
            "importer": np.array(regions)[im.ravel()],
            "trade_baseline": bl.X.ravel(),
            "trade_conditional": sol.conditional.X.ravel(),
            "trade_full": sol.full.X.ravel(),
            "partial_effect": np.exp(lnB).ravel(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        bilateral["trade_conditional_pct"] = _pct(
            bilateral["trade_conditional"] / bilateral["trade_baseline"]
        )
        bilateral["trade_full_pct"] = _pct(bilateral["trade_full"] / bilateral["trade_baseline"])
    # pairs without baseline trade have no percent change: empty cells flagged no_trade
    bilateral = flag_no_trade(
        bilateral, bilateral["trade_baseline"].to_numpy() == 0, ("trade_conditional_pct", "trade_full_pct")
    )
    tables = {"bilateral": bilateral}
    # trade diversion by partner (kaifang.results.diversion takes (importer, exporter) flows)
    from kaifang.results.diversion import diversion_tables

    tables.update(diversion_tables(bl.X.T, sol.full.X.T, regions))
    if estimate is not None:
        tables["estimates"] = estimate.table()

    world0, world1 = bl.X.sum(), sol.full.X.sum()
    diagnostics = {
        "converged": bool(sol.full.converged and sol.conditional.converged),
        "iterations": int(sol.full.iterations),
        "residual": float(sol.full.residual),
        "solve_seconds": float(solve_seconds),
        "iterations_conditional": int(sol.conditional.iterations),
        "residual_conditional": float(sol.conditional.residual),
        "pairs_shocked": int(touched.sum()),
        "welfare_measure": WELFARE_MEASURE,
        "world_output_change_pct": float(_pct(world1 / world0)),
        "market_clearing_gap": float(
            np.max(np.abs(sol.full.X.sum(axis=1) / (sol.full.p_hat * bl.X.sum(axis=1)) - 1.0))
        ),
        "baseline": dict(bl.notes),
        "uncertainty": draw_diag,
    }
    if estimate is not None:
        diagnostics["estimation"] = {k: v for k, v in estimate.diagnostics.items() if k != "seconds"} | {
            "nobs": estimate.nobs,
            "seconds": estimate.diagnostics.get("seconds"),
        }
    provenance = {
        "dataset": scenario.dataset,
        "files": dict(bl.files),
        "world": {"kind": WORLD_KIND, "year": bl.year, "units": bl.units, "flows": bl.notes.get("flows")},
        "scenario_sha256": scenario.sha256,
        "scenario_text": scenario.text,
        "parameters": {
            "sigma": sigma,
            "reference": params.reference,
            "imbalance": params.imbalance,
            "normalisation": params.normalisation,
            "baseline_year": bl.year,
            "costs": base.costs,
            "shock_coefficients": {str(c): float(v) for c, v in zip(coefs, point, strict=True)},
        },
        "solver": {
            "tol": solver.tol,
            "maxiter": solver.maxiter,
            "method": "fixed point (MR iteration; factory-gate prices with damping 1/sigma)",
        },
        "kaifang_version": package_version(),
    }
    if estimate is not None:
        provenance["estimation"] = {
            "spec": est_spec.model_dump() if est_spec is not None else None,
            "coefficients": {k: float(v) for k, v in estimate.coef.items()},
            "std_errors": {k: float(v) for k, v in estimate.se.items()},
        }
    return RunResult(
        model="gravity",
        scenario=scenario.name,
        regions=regions_df,
        tables=tables,
        diagnostics=diagnostics,
        provenance=provenance,
    )


def run(scenario: Scenario, progress: Progress = null_progress) -> RunResult:
    """Solve a ``model = "gravity"`` scenario (module docstring for the sections)."""
    return solve_prepared(prepare(scenario, progress), progress)
