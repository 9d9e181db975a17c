"""Scenario runner of the Caliendo–Parro model: scenario file -> :class:`~kaifang.results.RunResult`.

The model needs a ``multisector`` world (:data:`WORLD_KIND`); it runs on every data set that
provides one (``kaifang data list``): ``cp2015``, the synthetic ``demo``, and the world input-output
tables ``wiod2013``, ``wiod2016``, ``icio`` and a user's own ``mrio`` file, which
:func:`kaifang.baseline.multisector_world` calibrates (``[baseline]`` ``year``, ``file``,
``tariff_file``, ``regions``/``sectors`` aggregation; ``[parameters] theta`` overrides).

Steps (section 5.1 of Caliendo and Parro 2015):

1. build the baseline from the data set;
2. solve the **baseline equilibrium**: the data's tariffs, deficits set to zero
   (``[baseline] deficits = "zero"``, the default and the paper's choice) or kept as observed
   (``"keep"``);
3. solve the **counterfactual** from that equilibrium with the scenario's shocks and the same
   deficits;
4. report the counterfactual relative to the baseline equilibrium.

Output columns (percent changes, counterfactual vs. baseline equilibrium):

* ``welfare_pct`` = 100 (I'/I / P-hat - 1): the exact change in real income (equivalent
  variation in percent of baseline income; :mod:`.welfare`, ``diagnostics.welfare_measure``);
* its parts, the Caliendo–Parro decomposition integrated along the shock's path
  (:func:`.welfare.integrate`, ``[solver] welfare_steps``): ``terms_of_trade_pct``,
  ``volume_of_trade_pct``, ``technical_efficiency_pct`` (iceberg, ntb and embargo shocks),
  ``productivity_pct``, ``deficit_pct``; ``welfare_residual_pct`` = ``welfare_pct`` minus their
  sum (``diagnostics.welfare_residual_max_pct`` is its largest absolute value);
* ``real_wage_pct`` = 100 (w-hat / P-hat - 1); ``wage_pct``; ``price_index_pct`` (P-hat_n);
* ``exports_pct``, ``imports_pct``: international trade at producer prices (in units of world
  value added, the numeraire); ``tariff_revenue_pct``;
* ``welfare_first_order_pct`` = ``terms_of_trade_first_order_pct +
  volume_of_trade_first_order_pct + technical_efficiency_first_order_pct`` (+ the deficit
  change over income): the paper's first-order measure (:func:`.welfare.decompose`, its Table 2).

The ``sectors`` and ``bilateral`` tables split the integrated parts (and the first-order terms
of trade and volume of trade) by sector and by partner; they add up to the regional parts. The
``bilateral`` table has a row for the home market (partner = region), where iceberg changes on
domestic sales and productivity changes enter.

The ``sectors`` and ``bilateral`` tables have a boolean ``no_trade`` column: true where the
baseline has no trade to compare with (the services sectors of ``cp2015``, which have no trade
data; zero domestic sales; a pair that does not trade), and then ``exports_pct``,
``imports_pct`` (and ``domestic_share_pct``) are empty rather than a number.

:func:`prepare` does every check before solving (``kaifang validate``); :func:`solve_prepared`
solves; :func:`run` is the two in a row.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.baseline.worlds import TableSpec, multisector_world
from kaifang.data.registry import get_dataset, providers
from kaifang.errors import KaifangWarning, ScenarioError
from kaifang.models import Progress, null_progress
from kaifang.models.caliendo_parro.solver import Equilibrium, SolverSettings, solve
from kaifang.models.caliendo_parro.uncertainty import UncertaintySettings, theta_bands
from kaifang.models.caliendo_parro.welfare import (
    IntegratedWelfare,
    decompose,
    integrate,
    welfare_diagnostics,
)
from kaifang.results import Columns, RunResult, flag_no_trade, package_version
from kaifang.results._columns import as_frame
from kaifang.results._impl import DOCUMENT_TABLES
from kaifang.results.diversion import diversion_tables
from kaifang.scenario import Scenario, resolve, scenario_file, validate_section
from kaifang.scenario.fields import refuse_sections
from kaifang.scenario.shocks import ShockArrays, check_supported, compose_shocks, parse_shocks, scale_deficits

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BaselineSettings", "Prepared", "load_baseline", "prepare", "run", "solve_prepared"]

#: The kind of world this model solves from (:data:`kaifang.data.registry.WORLD_KINDS`).
WORLD_KIND = "multisector"
#: Shock types this model applies (kaifang.scenario.shocks); others are refused, not ignored.
SHOCK_TYPES = ("tariff", "retaliation", "iceberg", "ntb", "embargo", "productivity", "deficit")
_TRADE_SHOCKS = ("tariff", "retaliation", "iceberg", "ntb", "embargo")


Selector = str | list[str]


class BaselineSettings(BaseModel):
    """The scenario's ``[baseline]`` section.

    Attributes
    ----------
    deficits
        ``"zero"``: the baseline equilibrium has zero trade deficits (the paper's section 5.1);
        ``"keep"``: deficits stay at their observed values (in units of world value added).
    year
        Year of an input-output table data set (``wiod2013``: 1995-2011, default 2011;
        ``wiod2016``: 2000-2014; ``icio``: 1995-2020).
    file
        A table file to read instead of the registered one (required for ``mrio``); relative to
        the scenario file.
    tariff_file
        A tariff table (importer, exporter, sector, rate in percent) for a table data set, which
        has no tariffs of its own; relative to the scenario file.
    final_demand
        Final-demand categories of a ``mrio`` file (default: every use that is not a sector).
    regions, sectors
        Aggregation: new label -> a label, a group or a list of them; unlisted regions go into
        ``rest_region``, unlisted sectors into ``rest_sector``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    deficits: Literal["zero", "keep"] = "zero"
    year: int | None = None
    file: str | None = None
    tariff_file: str | None = None
    final_demand: list[str] | None = None
    regions: dict[str, Selector] | None = None
    sectors: dict[str, Selector] | None = None
    rest_region: str = Field(default="ROW", min_length=1)
    rest_sector: str = Field(default="other", min_length=1)


class OutputSettings(BaseModel):
    """The scenario's ``[output]`` section.

    Attributes
    ----------
    value_chains
        Add value-chain tables (:func:`kaifang.valuechains.counterfactual.compare`) of the
        baseline equilibrium, the counterfactual and the change: ``value_chains`` (indicators by
        region), ``value_chains_sectors`` (by region and sector) and ``value_added_origin``
        (value added by source in each region's exports).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value_chains: bool = False


class ParameterSettings(BaseModel):
    """The scenario's ``[parameters]`` section.

    Attributes
    ----------
    theta
        Trade elasticities by sector label, overriding the defaults (see
        :mod:`kaifang.baseline.elasticities`).
    theta_default
        theta of every sector without a default (a user's own classification).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    theta: dict[str, float] = Field(default_factory=dict)
    theta_default: float | None = Field(default=None, gt=0.0)


#: The sections this model reads (for the JSON Schema and the template of ``kaifang new``).
SECTION_MODELS: dict[str, type[BaseModel]] = {
    "baseline": BaselineSettings,
    "parameters": ParameterSettings,
    "solver": SolverSettings,
    "uncertainty": UncertaintySettings,
    "output": OutputSettings,
}


def load_baseline(
    dataset: str,
    baseline: BaselineSettings | None = None,
    parameters: ParameterSettings | None = None,
    scenario: Scenario | None = None,
) -> tuple[MultiSectorBaseline, dict[str, Callable[[], np.ndarray]]]:
    """The data baseline of ``dataset`` and the tariff tables it offers to shocks.

    ``baseline`` and ``parameters`` are the scenario's sections (defaults when ``None``);
    ``scenario`` resolves file names and the groups in ``[baseline.regions]``.
    """
    b = baseline or BaselineSettings()
    par = parameters or ParameterSettings()
    source = scenario.source if scenario is not None else "<scenario>"
    resolver = None
    if scenario is not None:
        from kaifang.scenario.select import label_resolver

        resolver = label_resolver(scenario)

    spec = TableSpec(
        dataset=dataset,
        year=b.year,
        file=scenario_file(b.file, scenario),
        tariff_file=scenario_file(b.tariff_file, scenario),
        final_demand=tuple(b.final_demand) if b.final_demand is not None else None,
        regions=b.regions,
        sectors=b.sectors,
        rest_region=b.rest_region,
        rest_sector=b.rest_sector,
        theta=par.theta,
        theta_default=par.theta_default,
        source=source,
    )
    return multisector_world(spec, resolve=resolver)


def _sector_groups_of(world: MultiSectorBaseline, scenario: Scenario) -> dict[str, list[str]]:
    """Sector groups (goods, services, ...) of an aggregated world: a merged sector is in a group
    when all its members are (for the shocks' selectors; user groups of the same name win)."""
    agg = world.provenance.get("aggregation")
    if not agg:
        return {}
    from kaifang.scenario.groups import sector_groups

    members = agg["sectors"]
    old = [m for mem in members.values() for m in mem]
    out: dict[str, list[str]] = {}
    for name, group in sector_groups(scenario.dataset, old).items():
        if name.upper() in {k.upper() for k in scenario.groups}:
            continue
        chosen = [new for new, mem in members.items() if set(mem) <= set(group)]
        if chosen:
            out[name] = chosen
    return out


def _pct(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """100 (new/old - 1); NaN (null in JSON) where the baseline value is zero."""
    new, old = np.asarray(new, dtype=float), np.asarray(old, dtype=float)
    out = np.full(np.broadcast(new, old).shape, np.nan)
    np.divide(new, old, out=out, where=old != 0)
    return 100.0 * (out - 1.0)


def _international(x: np.ndarray) -> np.ndarray:
    out = x.copy()
    n = x.shape[0]
    out[np.arange(n), np.arange(n)] = 0.0
    return out


def _check_traded(
    shocks: list, b: MultiSectorBaseline, scenario: Scenario, skip: Collection[int] = ()
) -> None:
    """A trade shock that selects only non-traded sectors would silently change nothing: refuse it.

    ``skip``: shocks already reported as changing nothing (their selection may be empty)."""
    traded = [s for s, t in zip(b.sectors, b.tradable, strict=True) if t]
    for k, shock in enumerate(shocks):
        if k in skip or shock.type not in _TRADE_SHOCKS or getattr(shock, "include_domestic", False):
            continue  # productivity and deficit shocks, and domestic iceberg costs, apply anywhere
        idx = resolve(
            shock.sector,
            b.sectors,
            what="sector",
            field=f"shocks[{k}].sector",
            source=scenario.source,
            groups=scenario.groups,
            dataset=scenario.dataset,
        )
        if not any(b.tradable[i] for i in idx):
            names = ", ".join(b.sectors[i] for i in idx)
            raise ScenarioError(
                f"{scenario.source}: field 'shocks[{k}].sector' selects only sectors with no international "
                f"trade in {b.dataset!r} ({names}), so this {shock.type} shock would change nothing. Select "
                f"traded sectors ({', '.join(traded)}) or, for an iceberg shock on domestic costs, set "
                f"include_domestic = true."
            )


def tables(e: Equilibrium, welfare: IntegratedWelfare) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The per-region table and the extra tables of a solved counterfactual, as DataFrames.

    ``welfare`` is the exact welfare change of ``e`` and its decomposition integrated along the
    shock's path (:func:`.welfare.integrate`); the paper's first-order decomposition
    (:func:`.welfare.decompose`) fills the ``*_first_order_pct`` columns.
    """
    reg, extra = _tables(e, welfare)
    return reg.to_pandas(), {k: v.to_pandas() for k, v in extra.items()}


def _tables(e: Equilibrium, welfare: IntegratedWelfare) -> tuple[Columns, dict[str, Columns]]:
    """:func:`tables` as :class:`~kaifang.results.Columns` (what a run holds until read)."""
    b = e.baseline
    regions, sectors = list(b.regions), list(b.sectors)
    n, j = b.n_regions, b.n_sectors
    w = welfare
    fo = decompose(e)
    x0, x1 = _international(b.flows), _international(e.flows)
    reg = Columns(
        {
            "region": regions,
            "welfare_pct": 100 * w.exact,
            "terms_of_trade_pct": 100 * w.tot.sum(axis=(1, 2)),
            "volume_of_trade_pct": 100 * w.vot.sum(axis=(1, 2)),
            "technical_efficiency_pct": 100 * w.efficiency.sum(axis=(1, 2)),
            "productivity_pct": 100 * w.productivity.sum(axis=(1, 2)),
            "deficit_pct": 100 * w.deficit,
            "welfare_residual_pct": 100 * w.residual,
            "real_wage_pct": _pct(e.real_wage, 1.0),
            "exports_pct": _pct(x1.sum(axis=(0, 2)), x0.sum(axis=(0, 2))),
            "imports_pct": _pct(x1.sum(axis=(1, 2)), x0.sum(axis=(1, 2))),
            "wage_pct": _pct(e.w_hat, 1.0),
            "price_index_pct": _pct(e.price_index, 1.0),
            "tariff_revenue_pct": _pct(e.tariff_revenue, b.tariff_revenue),
            "welfare_first_order_pct": 100 * fo.total,
            "terms_of_trade_first_order_pct": 100 * fo.tot.sum(axis=(1, 2)),
            "volume_of_trade_first_order_pct": 100 * fo.vot.sum(axis=(1, 2)),
            "technical_efficiency_first_order_pct": 100 * fo.efficiency.sum(axis=(1, 2)),
        }
    )
    rr, ss = np.meshgrid(np.arange(n), np.arange(j), indexing="ij")
    sec = Columns(
        {
            "region": np.array(regions)[rr.ravel()],
            "sector": np.array(sectors)[ss.ravel()],
            "price_index_pct": _pct(e.p_hat, 1.0).ravel(),
            "input_cost_pct": _pct(e.c_hat, 1.0).ravel(),
            "gross_output_pct": _pct(e.gross_output, b.gross_output).ravel(),
            "exports_pct": _pct(x1.sum(axis=0), x0.sum(axis=0)).ravel(),
            "imports_pct": _pct(x1.sum(axis=1), x0.sum(axis=1)).ravel(),
            "expenditure_pct": _pct(e.expenditure, b.expenditure).ravel(),
            "domestic_share_pct": _pct(
                e.shares[np.arange(n), np.arange(n)], b.shares[np.arange(n), np.arange(n)]
            ).ravel(),
            "terms_of_trade_pct": 100 * w.tot.sum(axis=1).ravel(),
            "volume_of_trade_pct": 100 * w.vot.sum(axis=1).ravel(),
            "technical_efficiency_pct": 100 * w.efficiency.sum(axis=1).ravel(),
            "productivity_pct": 100 * w.productivity.sum(axis=1).ravel(),
            "terms_of_trade_first_order_pct": 100 * fo.tot.sum(axis=1).ravel(),
            "volume_of_trade_first_order_pct": 100 * fo.vot.sum(axis=1).ravel(),
        }
    )
    ii, pp = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    bil = Columns(  # partner == region: the home market (iceberg and productivity parts)
        {
            "region": np.array(regions)[ii.ravel()],
            "partner": np.array(regions)[pp.ravel()],
            "terms_of_trade_pct": 100 * w.tot.sum(axis=2).ravel(),
            "volume_of_trade_pct": 100 * w.vot.sum(axis=2).ravel(),
            "technical_efficiency_pct": 100 * w.efficiency.sum(axis=2).ravel(),
            "productivity_pct": 100 * w.productivity.sum(axis=2).ravel(),
            "exports_pct": _pct(e.flows.sum(axis=2).T, b.flows.sum(axis=2).T).ravel(),
            "imports_pct": _pct(e.flows.sum(axis=2), b.flows.sum(axis=2)).ravel(),
            "terms_of_trade_first_order_pct": 100 * fo.tot.sum(axis=2).ravel(),
            "volume_of_trade_first_order_pct": 100 * fo.vot.sum(axis=2).ravel(),
        }
    )
    nz = b.flows > 0
    idx = np.argwhere(nz)
    flows = Columns(
        {
            "importer": np.array(regions)[idx[:, 0]],
            "exporter": np.array(regions)[idx[:, 1]],
            "sector": np.array(sectors)[idx[:, 2]],
            "baseline": b.flows[nz],
            "counterfactual": e.flows[nz],
            "change_pct": _pct(e.flows[nz], b.flows[nz]),
            "tariff_baseline_pct": 100 * b.tariff[nz],
            "tariff_counterfactual_pct": 100 * e.tariff_new[nz],
        }
    )
    return reg, {"sectors": sec, "bilateral": bil, "flows": flows}


def _value_chains(b1: MultiSectorBaseline, e1: Equilibrium, composed, extra: dict[str, object]) -> dict:
    """Add the value-chain tables of the baseline equilibrium ``b1`` and the counterfactual ``e1``
    to ``extra``; return what the diagnostics record about them (row gaps of the rebuilt tables
    and the regions the shocks touch, which the report charts first)."""
    from kaifang.valuechains.counterfactual import compare, table_from_world

    before = table_from_world(b1, note="rebuilt from the baseline equilibrium")
    after = table_from_world(
        e1.to_baseline(note="counterfactual equilibrium"), note="rebuilt from the counterfactual"
    )
    extra.update(compare(before, after))
    touched = np.asarray(composed.touched)
    named = (
        touched.any(axis=(1, 2)) | touched.any(axis=(0, 2))
        if touched.ndim == 3
        else np.zeros(b1.n_regions, bool)
    )
    return {
        "tables": list(DOCUMENT_TABLES),
        "focus": [r for r, k in zip(b1.regions, named, strict=True) if k],
        "sourcing": "proportional (every use of a good buys from each origin in the trade shares)",
        "notes": {"baseline": list(before.notes[1:]), "counterfactual": list(after.notes[1:])},
    }


@dataclass(frozen=True, eq=False)
class Prepared:
    """A validated Caliendo–Parro scenario, ready to solve (:func:`prepare`).

    Attributes
    ----------
    scenario
        The scenario.
    baseline_settings, settings, uncertainty
        Its ``[baseline]``, ``[solver]`` and ``[uncertainty]`` sections.
    baseline
        The data baseline.
    shocks
        The shocks composed onto the baseline's regions and sectors.
    deficits, deficits_cf
        Deficits of the baseline equilibrium and of the counterfactual.
    output
        Its ``[output]`` section.
    """

    scenario: Scenario
    baseline_settings: BaselineSettings
    settings: SolverSettings
    uncertainty: UncertaintySettings
    baseline: MultiSectorBaseline
    shocks: ShockArrays
    deficits: np.ndarray
    deficits_cf: np.ndarray
    output: OutputSettings = field(default_factory=OutputSettings)

    def summary(self) -> dict[str, object]:
        """Regions, sectors and shocked cells (for validation reports)."""
        return {
            "regions": len(self.baseline.regions),
            "sectors": len(self.baseline.sectors),
            "shocks": len(self.scenario.shocks),
            "shocked_cells": int(self.shocks.touched.sum()),
        }


def prepare(scenario: Scenario, progress: Progress = null_progress) -> Prepared:
    """Everything a run does before solving: sections, data set, shocks composed (no solving).

    Raises
    ------
    ScenarioError
        Any mistake in the scenario, naming file, field and value.
    """
    ds = get_dataset(scenario.dataset)  # unknown names get the registry's message
    if WORLD_KIND not in ds.provides:
        raise ScenarioError(
            f"{scenario.source}: field 'dataset' has value {scenario.dataset!r}, but the caliendo_parro "
            f"model needs a multi-sector data set (a {WORLD_KIND} world), which {scenario.dataset!r} does not "
            f"provide; data sets that do: {', '.join(providers(WORLD_KIND))}."
        )
    refuse_sections(scenario, ("baseline", "parameters", "solver", "uncertainty", "output"), "caliendo_parro")
    bset = validate_section(BaselineSettings, scenario.baseline, scenario, "baseline")
    pset = validate_section(ParameterSettings, scenario.parameters, scenario, "parameters")
    settings = validate_section(SolverSettings, scenario.solver, scenario, "solver")
    output = validate_section(OutputSettings, scenario.output, scenario, "output")
    uncertainty = validate_section(UncertaintySettings, scenario.uncertainty, scenario, "uncertainty")
    shocks = parse_shocks(scenario)
    check_supported(shocks, SHOCK_TYPES, scenario, "caliendo_parro")
    if not shocks:
        warnings.warn(
            f"{scenario.source}: the scenario has no [[shocks]], so the counterfactual is the baseline "
            f"equilibrium and every change is zero; add a shock.",
            KaifangWarning,
            stacklevel=2,
        )

    progress(f"reading data set {scenario.dataset}")
    b0, tariff_tables = load_baseline(scenario.dataset, bset, pset, scenario)
    derived = _sector_groups_of(b0, scenario)
    if derived:  # selectors such as "services" keep working on merged sectors
        scenario = scenario.model_copy(update={"groups": {**derived, **scenario.groups}})
    composed = compose_shocks(
        shocks,
        regions=b0.regions,
        sectors=b0.sectors,
        tariff_base=np.asarray(b0.tariff),
        scenario=scenario,
        tables=tariff_tables,
        aggregates=(b0.provenance.get("aggregation") or {}).get("regions"),
    )
    _check_traded(shocks, b0, scenario, skip=composed.unchanged)
    if bset.deficits == "zero":
        d_new = np.zeros(b0.n_regions)
    else:  # observed deficits, with the rounding residual spread so that they sum to zero
        va = b0.value_added
        d_new = b0.deficit - b0.deficit.sum() * va / va.sum()
    # deficit shocks scale the counterfactual deficits (world total kept at zero)
    d_cf = scale_deficits(d_new, composed.deficit_scale, b0.value_added)
    return Prepared(scenario, bset, settings, uncertainty, b0, composed, d_new, d_cf, output)


def _no_trade(e: Equilibrium, extra: dict[str, Columns]) -> dict[str, Columns]:
    """Flag the rows of the sector and bilateral tables whose baseline trade flow is zero."""
    b = e.baseline
    n = b.n_regions
    x0 = _international(b.flows)
    dom = b.shares[np.arange(n), np.arange(n)]  # (region, sector) domestic expenditure shares
    sec_flag = (x0.sum(axis=0) == 0) | (x0.sum(axis=1) == 0) | (dom == 0)
    out = dict(extra)
    out["sectors"] = flag_no_trade(
        extra["sectors"], sec_flag.ravel(), ("exports_pct", "imports_pct", "domestic_share_pct")
    )
    tot = b.flows.sum(axis=2)  # the bilateral table has every pair, the home market included
    bil_flag = ((tot.T == 0) | (tot == 0)).ravel()
    out["bilateral"] = flag_no_trade(extra["bilateral"], bil_flag, ("exports_pct", "imports_pct"))
    return out


def solve_prepared(prepared: Prepared, progress: Progress = null_progress) -> RunResult:
    """Solve a prepared scenario: the baseline equilibrium, then the counterfactual."""
    scenario, bset, settings = prepared.scenario, prepared.baseline_settings, prepared.settings
    uncertainty, output = prepared.uncertainty, prepared.output
    b0, composed, d_new, d_cf = prepared.baseline, prepared.shocks, prepared.deficits, prepared.deficits_cf
    ds = get_dataset(scenario.dataset)

    t0 = time.perf_counter()
    progress("solving the baseline equilibrium")
    e0 = solve(b0, b0.tariff, None, d_new, settings)
    b1 = e0.to_baseline(note=f"equilibrium of the {scenario.dataset} data with deficits '{bset.deficits}'")
    progress("solving the counterfactual")
    # productivity enters as a cost change of the producers' deliveries (ShockArrays.cost_factor)
    # embargoed cells carry no trade at all (pi' = 0 exactly), not just a prohibitive cost
    embargo = composed.embargo if composed.embargo is not None and composed.embargo.any() else None
    e1 = solve(b1, composed.tariff_new, composed.cost_factor(), d_cf, settings, embargo=embargo)
    solve_seconds = time.perf_counter() - t0

    welfare = integrate(
        e1,
        steps=settings.welfare_steps,
        extrapolation=settings.welfare_extrapolation,
        productivity=composed.productivity,
        settings=settings,
        progress=progress,
    )
    progress("tabulating")
    regions, extra = _tables(e1, welfare)
    extra = _no_trade(e1, extra)
    extra.update(diversion_tables(b1.flows, e1.flows, b1.regions))
    bands = None
    if uncertainty.draws:
        progress(f"solving {uncertainty.draws} draws of the trade elasticities")
        bands = theta_bands(
            b0,
            composed.tariff_new,
            composed.cost_factor(),
            d_new,
            d_cf,
            uncertainty,
            settings,
            source=scenario.source,
            embargo=embargo,
        )
        regions = as_frame(regions).merge(bands.columns, on="region", how="left", validate="one_to_one")
        extra["draws"], extra["theta_draws"] = bands.draws, bands.theta
    value_chain_info = None
    if output.value_chains:
        progress("value chains of the baseline and the counterfactual")
        value_chain_info = _value_chains(b1, e1, composed, extra)
    diagnostics = {
        "converged": True,
        "iterations": e0.diagnostics.iterations + e1.diagnostics.iterations,
        "residual": max(e0.diagnostics.residual, e1.diagnostics.residual),
        "solve_seconds": solve_seconds,
        "method": e1.diagnostics.method,
        **welfare_diagnostics(welfare),  # welfare_measure, welfare_residual_max_pct, welfare_decomposition
        "equilibria": {
            name: {
                "iterations": e.diagnostics.iterations,
                "residual": e.diagnostics.residual,
                "seconds": e.diagnostics.seconds,
                **{f"{k}_error": v for k, v in e.residuals.items()},
            }
            for name, e in (("baseline", e0), ("counterfactual", e1))
        },
        "shocked_cells": int(composed.touched.sum()),
    }
    if value_chain_info is not None:
        diagnostics["value_chains"] = value_chain_info
    if e1.separate_economies:  # embargoes split the world: nominal changes compare within a group only
        diagnostics["separate_economies"] = {
            "groups": [list(g) for g in e1.separate_economies],
            "note": "these groups trade only among themselves; each keeps its value added unchanged in total "
            "(its own numeraire), so wage and price changes compare within a group, real ones everywhere",
        }
    not_applicable: dict[str, list[str]] = {}
    if not welfare.steps:  # [solver] welfare_steps = []: the exact change without its parts
        parts = ["terms_of_trade_pct", "volume_of_trade_pct", "technical_efficiency_pct", "productivity_pct"]
        not_applicable = {
            "regions": [*parts, "deficit_pct", "welfare_residual_pct"],
            "sectors": parts,
            "bilateral": parts,
        }
    if (b1.tariff_revenue == 0).any():  # no tariffs in the baseline (e.g. an input-output table)
        not_applicable.setdefault("regions", []).append("tariff_revenue_pct")
    if not_applicable:
        diagnostics["not_applicable"] = not_applicable
    if bands is not None:
        diagnostics["uncertainty"] = dict(bands.diagnostics)
    provenance = {
        "dataset": ds.name,
        "citation": ds.citation,
        "files": dict(b0.files),
        "scenario_sha256": scenario.sha256,
        "scenario_text": scenario.text,
        "scenario_source": scenario.source,
        "parameters": {
            "theta": dict(zip(b0.sectors, b0.theta.tolist(), strict=True)),
            "theta_source": (b0.provenance.get("theta") or {}).get("source", ""),
            "deficits": bset.deficits,
        },
        "solver": settings.model_dump(),
        "baseline_note": b0.note,
        "baseline_year": b0.year,
        "world": dict(b0.provenance),
        "baseline_tariffs": b0.provenance.get("tariffs", "the data set's tariffs"),
        "groups": dict(composed.groups),
        "kaifang_version": package_version(),
    }
    return RunResult(
        model="caliendo_parro",
        scenario=scenario.name,
        regions=regions,
        tables=extra,
        diagnostics=diagnostics,
        provenance=provenance,
        synthetic=ds.synthetic or b0.synthetic,
    )


def run(scenario: Scenario, progress: Progress = null_progress) -> RunResult:
    """Run a Caliendo–Parro scenario (see the module docstring for the steps and columns)."""
    return solve_prepared(prepare(scenario, progress), progress)
