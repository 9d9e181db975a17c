"""Uncertainty bands from the trade elasticities: a scenario's ``[uncertainty]`` section.

Every multi-sector result hangs on the sectoral trade elasticities theta_j. With
``[uncertainty] draws = 1000, seed = 1`` the scenario is solved again for ``draws`` vectors of
elasticities drawn around the data set's estimates, and every regional outcome gets a
``<column>_lo`` / ``<column>_hi`` band (the central ``level`` share of the draws; 95 % by
default).

Distribution (documented in ``docs/uncertainty.md``): theta_j are independent across sectors and
log-normal with mean theta_j-hat and standard deviation s_j,

    log theta_j ~ N(log theta_j-hat - sigma_j^2 / 2, sigma_j^2),  sigma_j^2 = log(1 + (s_j / theta_j-hat)^2),

so every draw is positive. ``s_j`` is the standard error the user gives for sector j
(``[uncertainty.se]``), else ``cv x theta_j-hat`` with the coefficient of variation ``cv``
(default :data:`DEFAULT_CV`, an assumption of kaifang, not an estimate). With s_j -> 0 the band
collapses to the point result.

Each draw is solved from the data like the point result: the baseline equilibrium (the data's
tariffs, the scenario's baseline deficits) and the counterfactual, both relative to the data
with the draw's elasticities (hat algebra composes exactly, so for the point elasticities this is
the point run). All draws are solved together (:func:`~.batch.solve_batch`); a draw that fails
to converge is counted and reported, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.errors import ConvergenceError, ScenarioError, suggest
from kaifang.models.caliendo_parro.batch import batch_memory, solve_batch
from kaifang.models.caliendo_parro.solver import SolverSettings

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEFAULT_CV", "UncertaintySettings", "theta_bands", "theta_draws"]

#: Coefficient of variation of theta_j when no standard error is given (an assumption).
DEFAULT_CV = 0.2
#: Most draws accepted in one scenario.
MAX_DRAWS = 100_000
#: Outcome columns that get bands (percent changes, counterfactual vs. baseline equilibrium).
BANDED = (
    "welfare_pct",
    "real_wage_pct",
    "exports_pct",
    "imports_pct",
    "wage_pct",
    "price_index_pct",
    "tariff_revenue_pct",
)


class UncertaintySettings(BaseModel):
    """The scenario's ``[uncertainty]`` section.

    Attributes
    ----------
    draws
        Number of elasticity draws (0 = no bands).
    seed
        Seed of the random draws (a non-negative integer).
    level
        Share of the draws inside each band, in (0, 1).
    cv
        Coefficient of variation of theta_j for sectors without a standard error.
    se
        Standard errors of theta by sector name (e.g. ``{Agriculture = 1.8}``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    draws: StrictInt = Field(0, ge=0, le=MAX_DRAWS)
    seed: StrictInt = Field(1, ge=0, le=2**63 - 1)
    level: StrictFloat = Field(0.95, gt=0.0, lt=1.0)
    cv: StrictFloat | StrictInt = Field(DEFAULT_CV, ge=0.0, le=5.0)
    se: dict[str, StrictFloat | StrictInt] = Field(default_factory=dict)


def theta_draws(theta: np.ndarray, se: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """``draws`` log-normal vectors with mean ``theta`` and standard deviation ``se``, ``(draws, J)``."""
    rng = np.random.default_rng(seed)
    sigma2 = np.log1p((np.asarray(se, dtype=float) / theta) ** 2)
    z = rng.standard_normal((draws, theta.size))
    out = np.exp(np.log(theta) - sigma2 / 2 + np.sqrt(sigma2) * z)
    return np.where(sigma2 > 0, out, theta)  # a sector without uncertainty keeps its theta exactly


def _standard_errors(spec: UncertaintySettings, b: MultiSectorBaseline, source: str) -> np.ndarray:
    se = spec.cv * np.asarray(b.theta, dtype=float)
    for name, value in spec.se.items():
        if name not in b.sectors:
            raise ScenarioError(
                f"{source}: field 'uncertainty.se' names sector {name!r}, which data set {b.dataset!r} does "
                f"not have.{suggest(name, b.sectors)} Sectors: {', '.join(b.sectors)}."
            )
        if not (np.isfinite(value) and value >= 0):
            raise ScenarioError(
                f"{source}: field 'uncertainty.se.{name}' has value {value!r}; a standard error must be a "
                f"finite number >= 0."
            )
        se[b.sectors.index(name)] = float(value)
    return se


@dataclass(frozen=True)
class Bands:
    """What :func:`theta_bands` adds to a run."""

    columns: pd.DataFrame  # region + <col>_lo/_hi
    draws: pd.DataFrame  # one row per draw and region
    theta: pd.DataFrame  # one row per draw and sector
    diagnostics: Mapping[str, object]


def _pct(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(new, old).shape, np.nan)
    np.divide(new, old, out=out, where=old != 0)
    return 100.0 * (out - 1.0)


def theta_bands(
    b0: MultiSectorBaseline,
    tariff_cf: np.ndarray,
    d_hat_cf: np.ndarray | None,
    deficit_bl: np.ndarray,
    deficit_cf: np.ndarray,
    spec: UncertaintySettings,
    settings: SolverSettings,
    *,
    source: str,
    max_memory: float = 1.5e9,
    embargo: np.ndarray | None = None,
) -> Bands:
    """Solve the scenario for ``spec.draws`` elasticity draws and return the bands.

    Parameters
    ----------
    b0
        The data's world (before the baseline equilibrium).
    tariff_cf, d_hat_cf
        The counterfactual's tariffs and trade-cost (and productivity) changes relative to ``b0``.
    deficit_bl, deficit_cf
        Deficits of the baseline equilibrium and of the counterfactual (levels).
    spec
        The ``[uncertainty]`` section.
    settings
        The solver settings of the scenario.
    source
        The scenario file, for messages.
    embargo
        Cells with no trade in the counterfactual (``ShockArrays.embargo``), or ``None``.
    """
    se = _standard_errors(spec, b0, source)
    thetas = theta_draws(np.asarray(b0.theta, dtype=float), se, spec.draws, spec.seed)
    need = batch_memory(b0, min(spec.draws, 256), b0.n_regions**2 * b0.n_sectors, settings.memory)
    if need > 8 * max_memory:
        raise ScenarioError(
            f"{source}: field 'uncertainty.draws' = {spec.draws} on a world of {b0.n_regions} regions x "
            f"{b0.n_sectors} sectors needs about {need / 1e9:.1f} GB per batch; lower it."
        )
    failed: list[int] = []
    try:
        bl = solve_batch(b0, b0.tariff, None, deficit_bl, settings, theta=thetas, max_memory=max_memory)
        cf = solve_batch(
            b0,
            tariff_cf,
            d_hat_cf,
            deficit_cf,
            settings,
            theta=thetas,
            embargo=embargo,
            start=(bl.w_hat, bl.p_hat, bl.expenditure),
            max_memory=max_memory,
        )
    except ConvergenceError as exc:  # a draw failing alone: solve the draws one by one, count failures
        bl, cf, failed = _one_by_one(
            b0, tariff_cf, d_hat_cf, deficit_bl, deficit_cf, settings, thetas, exc, embargo
        )
    ok = np.setdiff1d(np.arange(spec.draws), failed)
    outcomes = {
        "welfare_pct": _pct(cf.real_income, bl.real_income),
        "real_wage_pct": _pct(cf.real_wage, bl.real_wage),
        "exports_pct": _pct(cf.exports, bl.exports),
        "imports_pct": _pct(cf.imports, bl.imports),
        "wage_pct": _pct(cf.w_hat, bl.w_hat),
        "price_index_pct": _pct(cf.price_index, bl.price_index),
        "tariff_revenue_pct": _pct(cf.tariff_revenue, bl.tariff_revenue),
    }
    lo_q, hi_q = 50 * (1 - spec.level), 100 - 50 * (1 - spec.level)
    regions = list(b0.regions)
    cols: dict[str, object] = {"region": regions}
    for name, arr in outcomes.items():
        good = arr[ok]
        with np.errstate(invalid="ignore"):
            cols[f"{name}_lo"] = np.nanpercentile(good, lo_q, axis=0) if good.size else np.nan
            cols[f"{name}_hi"] = np.nanpercentile(good, hi_q, axis=0) if good.size else np.nan
    import pandas as pd

    n = b0.n_regions
    draw_idx = np.repeat(ok, n)
    draws_df = pd.DataFrame(
        {
            "draw": draw_idx,
            "region": np.tile(regions, ok.size),
            **{k: v[ok].ravel() for k, v in outcomes.items()},
        }
    )
    theta_df = pd.DataFrame(
        {
            "draw": np.repeat(np.arange(spec.draws), b0.n_sectors),
            "sector": np.tile(list(b0.sectors), spec.draws),
            "theta": thetas.ravel(),
            "failed": np.repeat(np.isin(np.arange(spec.draws), failed), b0.n_sectors),
        }
    )
    diagnostics = {
        "draws": spec.draws,
        "failed_draws": len(failed),
        "failed_draw_ids": failed,
        "seed": spec.seed,
        "level": spec.level,
        "distribution": (
            "theta_j independent log-normal with mean theta_j-hat and standard deviation "
            f"{'the given standard errors and ' if spec.se else ''}cv x theta_j-hat (cv {spec.cv:g})"
        ),
        "standard_errors": dict(zip(b0.sectors, se.tolist(), strict=True)),
        "solved_alone": sorted(set(bl.solved_alone) | set(cf.solved_alone)),
        "seconds": bl.seconds + cf.seconds,
        "iterations_mean": float(np.mean(bl.iterations + cf.iterations)),
    }
    return Bands(pd.DataFrame(cols), draws_df, theta_df, diagnostics)


def _one_by_one(b0, tariff_cf, d_hat_cf, deficit_bl, deficit_cf, settings, thetas, exc, embargo=None):
    """Solve the draws in batches of one so that failing draws are counted, not fatal."""
    from kaifang.models.caliendo_parro.batch import BatchEquilibrium

    parts_bl, parts_cf, failed = [], [], []
    for b in range(thetas.shape[0]):
        try:
            bl = solve_batch(b0, b0.tariff, None, deficit_bl, settings, theta=thetas[b : b + 1])
            cf = solve_batch(
                b0, tariff_cf, d_hat_cf, deficit_cf, settings, theta=thetas[b : b + 1], embargo=embargo
            )
        except ConvergenceError:
            failed.append(b)
            bl = cf = None
        parts_bl.append(bl)
        parts_cf.append(cf)

    def stack(parts: list) -> BatchEquilibrium:
        template = next(p for p in parts if p is not None)
        fields = ("w_hat", "p_hat", "c_hat", "expenditure", "income", "imports", "exports", "tariff_revenue")
        arrays = {
            f: np.concatenate(
                [
                    getattr(p, f) if p is not None else np.full_like(getattr(template, f), np.nan)
                    for p in parts
                ]
            )
            for f in fields
        }
        return BatchEquilibrium(
            baseline=b0,
            tariff_new=template.tariff_new,
            d_hat=template.d_hat,
            deficit_new=template.deficit_new,
            theta=thetas,
            embargo=template.embargo,
            iterations=np.array([p.iterations[0] if p is not None else 0 for p in parts]),
            residual=np.array([p.residual[0] if p is not None else np.nan for p in parts]),
            solved_alone=(),
            seconds=sum(p.seconds for p in parts if p is not None),
            **arrays,
        )

    if len(failed) == thetas.shape[0]:
        raise exc
    return stack(parts_bl), stack(parts_cf), failed
