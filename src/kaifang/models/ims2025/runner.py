"""Scenario runner of the ims2025 model: ``[baseline]``, ``[parameters]``, ``[[shocks]]``,
``[policy]``, ``[solver]`` -> :class:`~kaifang.results.RunResult`.

Order in which the new tariffs are built: the shocks (shared shock language, one sector
``"goods"``, table ``ustr2025`` for ``from_table``), then ``[policy] optimal_tariff``, then each
``[[policy.retaliation]]`` in file order. A policy entry that leaves every tariff as it was is a
:class:`~kaifang.errors.KaifangWarning`.

:func:`prepare` does everything before solving (what ``kaifang validate`` runs),
:func:`solve_prepared` solves, :func:`run` is the two in a row.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from kaifang.baseline.ims2025 import calibrate
from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.models import Progress, null_progress
from kaifang.models.ims2025 import policy as pol
from kaifang.models.ims2025.model import ModelSettings, build_economy
from kaifang.models.ims2025.outcomes import outcomes, weighted_average
from kaifang.models.ims2025.solver import SolverSettings, solve, solve_reference
from kaifang.results import RunResult, package_version
from kaifang.results.diversion import diversion_tables
from kaifang.scenario import Scenario, validate_section
from kaifang.scenario.fields import bounded, refuse_sections
from kaifang.scenario.select import EmptySelectionError, SelectorField, resolve
from kaifang.scenario.shocks import IcebergShock, check_supported, compose_shocks, parse_shocks

__all__ = [
    "AVERAGE_COLUMNS",
    "SECTORS",
    "TABLES",
    "WELFARE_MEASURE",
    "BaselineSection",
    "ParametersSection",
    "PolicySection",
    "Prepared",
    "averages_table",
    "prepare",
    "run",
    "solve_prepared",
]

#: The model's one sector (for ``sector = "goods"`` in shocks).
SECTORS = ("goods",)
#: Named tariff tables for ``from_table``.
TABLES = ("ustr2025",)

#: Columns of the ``averages`` table (the aggregates of the paper's Table 2).
AVERAGE_COLUMNS = ("welfare_pct", "deficit_pct", "employment_pct", "cpi_pct")

#: What ``welfare_pct`` measures (``diagnostics.welfare_measure``).
WELFARE_MEASURE = (
    "exact welfare change of Ignatenko et al. (2025): W_hat_i = delta_i E_hat_i/P_hat_i "
    "+ (1 - delta_i) w_hat_i L_hat_i/P_hat_i with delta_i = E_i/(E_i - kappa (1 - tau_i) Y_i/(1 + kappa)), "
    "real spending net of the disutility of labour supply; welfare_pct = 100 (W_hat_i - 1), "
    "no linearisation"
)


Selector = SelectorField

#: Trade elasticity: the paper's 4, with room for the robustness values of applied work; below
#: 0.5 the optimal-tariff formulas and the Newton system become degenerate.
_Eps = bounded(float, "eps", ge=0.5, le=50.0, description="trade elasticity (paper: 4)")
_Kappa = bounded(float, "kappa", ge=0.0, le=10.0, description="labour-supply elasticity (paper: 0.5)")
_Psi = bounded(float, "psi", ge=0.0, le=1.0, description="scale elasticity (default 0.67 / eps)")
_Tol = bounded(float, "tol", ge=1e-15, le=1e-3, description="largest Newton residual at the solution")
_MaxIterations = bounded(int, "max_iterations", ge=1, le=1000, description="most Newton steps")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BaselineSection(_Section):
    """``[baseline]``: an optional replacement of the data set's announced-tariff file."""

    tariff_file: str | None = Field(
        default=None,
        description="CSV like tariffs.csv (column applied_tariff, one row per region); relative to the scenario file",
    )


class ParametersSection(_Section):
    """``[parameters]`` (see :class:`~kaifang.models.ims2025.model.ModelSettings`)."""

    eps: _Eps = 4.0
    kappa: _Kappa = 0.5
    psi: _Psi | None = None
    pass_through: Literal["complete", "incomplete"] = "complete"
    revenue_use: Literal["income_tax_relief", "lump_sum"] = "income_tax_relief"
    variant: Literal["benchmark", "eaton_kortum"] = "benchmark"


class SolverSection(_Section):
    """``[solver]``."""

    method: Literal["newton", "scipy_lm"] = "newton"
    tol: _Tol = 1e-12
    max_iterations: _MaxIterations = 50


class Retaliation(_Section):
    """One ``[[policy.retaliation]]`` entry: ``by`` (a region, group or list; one coalition)
    retaliates against one region."""

    kind: Literal["reciprocal", "optimal"]
    against: str
    by: Selector = "all"


class PolicySection(_Section):
    """``[policy]``: optimal uniform import tariffs and retaliation."""

    optimal_tariff: Selector | None = None
    optimal_tariff_denominator: Literal["spending", "income"] = Field(
        default="spending",
        description=(
            "denominator of delta_i in t* = 1/((1 + delta_i eps) phi_i - 1): (1 - nu_i)(E_i - X_ii) "
            "('spending', Table 1) or (1 - nu_i)(Y_i - X_ii) ('income', Table 2 case (4))"
        ),
    )
    retaliation: list[Retaliation] = Field(default_factory=list)


#: The data set this model runs on.
DATASETS = ("liberation2025",)
#: Shock types this model applies.
SHOCK_TYPES = ("tariff", "retaliation")
#: The sections this model reads (for the JSON Schema and the template of ``kaifang new``).
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "baseline": BaselineSection,
    "parameters": ParametersSection,
    "solver": SolverSection,
    "policy": PolicySection,
}


def _one_region(sel: str, regions, field: str, sc: Scenario) -> int:
    idx = resolve(sel, regions, what="region", field=field, source=sc.source, groups=sc.groups)
    if len(idx) != 1:
        raise ScenarioError(
            f"{sc.source}: field {field!r} must name one region, got {sel!r} ({len(idx)} regions)."
        )
    return idx[0]


def _tariff_file(sc: Scenario, b: BaselineSection) -> Path | None:
    if b.tariff_file is None:
        return None
    p = Path(b.tariff_file)
    if not p.is_absolute() and sc.source != "<string>":
        p = Path(sc.source).parent / p
    return p


def build_tariffs(sc: Scenario, econ, data, cal) -> tuple[np.ndarray, dict[str, Any]]:
    """New tariffs ``t[exporter, importer]`` of a scenario, and the policy rates used."""
    regions = list(cal.regions)
    n = cal.n
    shocks = parse_shocks(sc)
    for k, s in enumerate(shocks):
        if isinstance(s, IcebergShock):
            raise ScenarioError(
                f"{sc.source}: shocks[{k}] is an iceberg shock; the ims2025 model has tariffs only "
                f"(type = 'tariff'). Use the gravity or caliendo_parro model for trade-cost shocks."
            )
    check_supported(shocks, SHOCK_TYPES, sc, "ims2025")
    ustr = pol.ustr_tariffs(data.tariffs, cal.us)
    arrays = compose_shocks(
        shocks,
        regions=regions,
        sectors=SECTORS,
        tariff_base=np.zeros((n, n, 1)),
        scenario=sc,
        tables={"ustr2025": lambda: ustr.T[:, :, None]},
    )
    t = arrays.tariff_new[:, :, 0].T.copy()
    p = validate_section(PolicySection, sc.policy, sc, "policy")
    if p.optimal_tariff is None and "optimal_tariff_denominator" in (sc.policy or {}):
        raise ScenarioError(
            f"{sc.source}: field 'policy.optimal_tariff_denominator' has value "
            f"{p.optimal_tariff_denominator!r} but no 'policy.optimal_tariff' is set, so it changes nothing; "
            f'add optimal_tariff = "USA" (or the regions that set an optimal tariff) or remove the field.'
        )
    rates: dict[str, Any] = {}

    def unchanged(field: str, reason: str) -> None:
        warnings.warn(
            f"{sc.source}: field {field!r} changes nothing: {reason}. Correct or remove it "
            f"(--strict turns this warning into an error).",
            KaifangWarning,
            stacklevel=3,
        )

    def select(sel: Any, field: str) -> list[int]:
        try:
            return resolve(sel, regions, what="region", field=field, source=sc.source, groups=sc.groups)
        except EmptySelectionError as exc:
            unchanged(
                field,
                f"its selection is empty in this data set ({str(exc).removeprefix(f'{sc.source}: ').rstrip('.')})",
            )
            return []

    if p.optimal_tariff is not None:
        before = t
        for i in select(p.optimal_tariff, "policy.optimal_tariff"):
            t = pol.optimal_tariff(t, econ, i, p.optimal_tariff_denominator)
            rates[f"optimal_tariff[{regions[i]}]"] = pol.optimal_tariff_rate(
                econ, i, p.optimal_tariff_denominator
            )
        if rates and np.array_equal(before, t):
            unchanged("policy.optimal_tariff", "the selected regions already levy their optimal tariffs")
        rates["optimal_tariff_denominator"] = p.optimal_tariff_denominator
    for k, r in enumerate(p.retaliation):
        field = f"policy.retaliation[{k}]"
        target = _one_region(r.against, regions, f"{field}.against", sc)
        by = select(r.by, f"{field}.by")
        if not by:
            continue
        by = [b for b in by if b != target]
        if not by:
            raise ScenarioError(
                f"{sc.source}: field '{field}.by' selects only the target {regions[target]!r}; "
                f"name the regions that retaliate."
            )
        entry: dict[str, Any] = {"kind": r.kind, "against": regions[target], "members": len(by)}
        before = t
        if r.kind == "reciprocal":
            t = pol.reciprocal_retaliation(t, target, by)
        else:
            t = pol.optimal_retaliation(t, econ, by, target)
            rr = pol.optimal_retaliation_rate(econ, by, target)[by]
            entry["delta"] = pol.block_delta(econ, by, target)
            entry["rates"] = sorted({float(x) for x in np.round(rr, 12)})
        if np.array_equal(before, t):
            why = (
                f"{regions[target]} levies no tariffs on the retaliating regions, so reciprocal rates are zero"
                if r.kind == "reciprocal"
                else f"the retaliating regions already tax {regions[target]} at their optimal rates"
            )
            unchanged(field, why)
        rates[f"retaliation[{k}]"] = entry
    if not shocks and p.optimal_tariff is None and not p.retaliation:
        warnings.warn(
            f"{sc.source}: the scenario has no [[shocks]] and no [policy], so every tariff stays zero and "
            f"every change is zero; add a shock or a policy.",
            KaifangWarning,
            stacklevel=2,
        )
    return t, rates


def averages_table(regions: pd.DataFrame, E: np.ndarray, us: int, china: int | None) -> pd.DataFrame:
    """The paper's aggregates (Table 2): rows ``USA``, ``CHN`` and ``non-US``, the last the
    average over every economy but the USA weighted by baseline spending ``E_i``.

    Columns ``group`` then :data:`AVERAGE_COLUMNS`; a weighted average leaves out economies whose
    value is undefined (NaN). Without China in the data the ``CHN`` row is left out.
    """
    n = len(E)
    rows = []
    for label, k in (("USA", us), ("CHN", china)):
        if k is not None:
            rows.append({"group": label, **{c: float(regions[c].iloc[k]) for c in AVERAGE_COLUMNS}})
    non_us = np.arange(n) != us
    avg = weighted_average(regions, E, non_us)
    rows.append({"group": "non-US", **{c: avg[c] for c in AVERAGE_COLUMNS}})
    return pd.DataFrame(rows, columns=["group", *AVERAGE_COLUMNS])


@dataclass(frozen=True, eq=False)
class Prepared:
    """A validated ims2025 scenario, ready to solve (:func:`prepare`): sections, calibrated
    economy and the new tariffs ``t[exporter, importer]``."""

    scenario: Scenario
    solver: SolverSection
    settings: ModelSettings
    data: Any
    calibration: Any
    economy: Any
    tariffs: np.ndarray
    rates: dict[str, Any]

    def summary(self) -> dict[str, object]:
        """Regions and tariffed pairs (for validation reports)."""
        return {
            "regions": int(self.calibration.n),
            "shocks": len(self.scenario.shocks),
            "tariffed_pairs": int(np.count_nonzero(self.tariffs)),
        }


def prepare(scenario: Scenario, progress: Progress = null_progress) -> Prepared:
    """Everything a run does before solving: sections, data, calibration, new tariffs (no solving)."""
    from kaifang.data import liberation2025 as lib

    sc = scenario
    if sc.dataset != lib.DATASET:
        raise ScenarioError(
            f"{sc.source}: field 'dataset' has value {sc.dataset!r}; the ims2025 model runs on "
            f"dataset = {lib.DATASET!r}."
        )
    refuse_sections(sc, ("baseline", "parameters", "solver", "policy"), "ims2025")
    b = validate_section(BaselineSection, sc.baseline, sc, "baseline")
    prm = validate_section(ParametersSection, sc.parameters, sc, "parameters")
    sol_s = validate_section(SolverSection, sc.solver, sc, "solver")
    validate_section(PolicySection, sc.policy, sc, "policy")
    progress("loading data")
    data = lib.load(tariff_file=_tariff_file(sc, b))
    cal = calibrate(data.trade, data.gdp, data.regions)
    settings = ModelSettings(**prm.model_dump())
    econ = build_economy(cal, settings)
    t, rates = build_tariffs(sc, econ, data, cal)
    return Prepared(sc, sol_s, settings, data, cal, econ, t, rates)


def solve_prepared(prepared: Prepared, progress: Progress = null_progress) -> RunResult:
    """Solve a prepared ims2025 scenario."""
    from kaifang.data import liberation2025 as lib

    sc, sol_s, settings = prepared.scenario, prepared.solver, prepared.settings
    data, cal, econ, t, rates = (
        prepared.data,
        prepared.calibration,
        prepared.economy,
        prepared.tariffs,
        prepared.rates,
    )
    progress("solving the equilibrium")
    t0 = time.perf_counter()
    if sol_s.method == "newton":
        sol = solve(econ, t, SolverSettings(tol=sol_s.tol, max_iterations=sol_s.max_iterations))
    else:
        sol = solve_reference(econ, t)
    solve_seconds = time.perf_counter() - t0
    regions = outcomes(econ, sol.eq, cal.regions)
    avg = averages_table(regions, cal.E, cal.us, cal.regions.index("CHN") if "CHN" in cal.regions else None)
    j, i = np.nonzero(t)
    tariffs = pd.DataFrame(
        {"importer": [cal.regions[k] for k in i], "exporter": [cal.regions[k] for k in j], "tariff": t[j, i]}
    )
    walras = float(np.abs(sol.eq.residual_a[-1]))
    diagnostics = {
        "converged": sol.converged,
        "iterations": sol.iterations,
        "residual": sol.residual,
        "walras_residual": walras,
        "solve_seconds": solve_seconds,
        "method": sol.method,
        "welfare_measure": WELFARE_MEASURE,
    }
    provenance = {
        "dataset": lib.DATASET,
        "files": dict(data.files),
        "scenario_sha256": sc.sha256,
        "scenario_text": sc.text,
        "parameters": {
            **asdict(settings),
            "psi_value": settings.psi_value,
            "nu_nonUS": cal.nu_pair[0],
            "nu_US": cal.nu_pair[1],
            "phi_US": float(econ.phi[cal.us]),
            "phi_nonUS": float(econ.phi[0 if cal.us != 0 else 1]),
            "policy_rates": rates,
        },
        "solver": sol_s.model_dump(),
        "kaifang_version": package_version(),
    }
    return RunResult(
        model="ims2025",
        scenario=sc.name,
        regions=regions,
        tables={
            "averages": avg,
            "tariffs": tariffs,
            # trade diversion by partner; X[j, i] is exporter j -> importer i, diversion takes (importer, exporter)
            **diversion_tables(np.asarray(cal.X).T, np.asarray(sol.eq.X_new).T, list(cal.regions)),
        },
        diagnostics=diagnostics,
        provenance=provenance,
    )


def run(scenario: Scenario, progress: Progress = null_progress) -> RunResult:
    """Solve an ims2025 scenario (see the module docstring and docs/ims2025.md)."""
    return solve_prepared(prepare(scenario, progress), progress)
