"""Baselines of the one-sector gravity model: a square flow matrix for one year.

A one-sector world (kind ``onesector``) comes from any data set that provides one
(:func:`kaifang.baseline.worlds.onesector_world`): a year of a gravity panel, the 2023 world of
the tariff model (domestic sales from its calibration), or a multi-sector world with its flows
summed over sectors. For gravity panels there are two constructions:

``observed``
    The data's flows of the baseline year (``ge_gravity``): ``X`` is the square matrix of
    trade including domestic sales.
``estimated``
    Trade costs from a PPML estimate (Yotov et al. 2016, ch. 2; Anderson and Yotov 2016):
    ``t_ij^(1-sigma) = exp(sum_k b_k x_k,ij + ln t_bar_ij)`` where ``ln t_bar_ij`` is the pair
    fixed effect relative to the (common) domestic pair effect when the estimation has pair
    effects; pairs whose pair effect is not identified get ``t_bar`` predicted by a second
    PPML (of ``t_bar`` on gravity variables with exporter and importer fixed effects, on the
    international pairs of the baseline year); domestic ``t_bar = 1``. The baseline flows are
    the fitted values of the structural gravity equation with these costs and the year's
    output ``Y`` and expenditure ``E`` -- the flows with row sums ``Y`` and column sums ``E``
    proportional to ``Y_i E_j t_ij^(1-sigma)`` (what the book's constrained PPML returns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from kaifang.errors import ConvergenceError, DataError
from kaifang.estimate import PPMLEstimate, ppml
from kaifang.estimate.spec import DOMESTIC_PAIR, derive_columns, pair_costs

__all__ = ["GravityBaseline", "calibrate_flows", "cost_matrix", "square_matrix"]


@dataclass(frozen=True)
class GravityBaseline:
    """A calibrated one-sector world. Immutable.

    Attributes
    ----------
    regions
        Country codes in array order.
    year
        Baseline year (``None`` for the synthetic demo world).
    X
        Baseline flows ``(N, N)`` exporter by importer (domestic on the diagonal).
    variables
        Pair-level variables of the baseline year by name, each ``(N, N)`` (for shocks).
    data
        The tidy panel the baseline was built from (for ``policy`` and ``from_year`` shocks);
        ``None`` for a world that is not a year of a panel.
    notes
        How it was built (``costs``, number of pairs whose costs were predicted, the source of
        the flows, ...); JSON-friendly, copied into each run's diagnostics.
    dataset
        The data set it was built from.
    files
        Data file name -> SHA-256 of the files read (provenance).
    units
        Money unit of the flows.
    """

    regions: tuple[str, ...]
    year: int | None
    X: np.ndarray
    variables: Mapping[str, np.ndarray] = field(default_factory=dict)
    data: pd.DataFrame | None = field(default=None, repr=False)
    notes: Mapping[str, object] = field(default_factory=dict)
    dataset: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    units: str = ""


def square_matrix(
    panel: pd.DataFrame, column: str, regions: Sequence[str], *, fill: float | None = None, what: str = "data"
) -> np.ndarray:
    """``(N, N)`` matrix of ``column`` (exporter rows, importer columns) from one year's rows.

    Missing pairs become ``fill``; with ``fill=None`` a missing pair is an error naming it.
    """
    idx = {r: k for k, r in enumerate(regions)}
    n = len(regions)
    M = np.full((n, n), np.nan)
    e = panel["exporter"].map(idx).to_numpy()
    i = panel["importer"].map(idx).to_numpy()
    ok = ~(pd.isna(e) | pd.isna(i))
    M[e[ok].astype(int), i[ok].astype(int)] = panel[column].to_numpy(dtype=float)[ok]
    if np.isnan(M).any():
        if fill is None:
            a, b = np.argwhere(np.isnan(M))[0]
            kind = "domestic flow" if a == b else "flow"
            raise DataError(
                f"{what}: the {kind} {regions[a]}->{regions[b]} ({column}) is missing; general-equilibrium "
                f"gravity needs a square data set with every country's domestic sales. Add it or drop "
                f"the country."
            )
        M = np.where(np.isnan(M), fill, M)
    return M


def calibrate_flows(
    T: np.ndarray, Y: np.ndarray, E: np.ndarray, *, tol: float = 1e-13, maxiter: int = 100_000
) -> np.ndarray:
    """Flows ``X_ij = a_i T_ij b_j`` with row sums ``Y`` and column sums ``E`` (structural gravity
    with costs ``T = t^(1-sigma)``; the fitted values of PPML with exporter and importer fixed
    effects and offset ``ln T``). Solved by biproportional scaling.
    """
    if abs(Y.sum() - E.sum()) > 1e-9 * Y.sum():
        raise DataError(f"world output {Y.sum():.6g} differs from world expenditure {E.sum():.6g}.")
    b = np.ones_like(E)
    res = np.inf
    for _ in range(maxiter):
        a = Y / (T @ b)
        b_new = E / (a @ T)
        res = float(np.max(np.abs(np.log(b_new / b))))
        b = b_new
        if res < tol:
            break
    else:
        raise ConvergenceError(
            f"baseline calibration (biproportional scaling of trade costs to output and expenditure) did not "
            f"converge in {maxiter} iterations (last change {res:.3g}).",
            iterations=maxiter,
            residual=res,
        )
    a = Y / (T @ b)
    return a[:, None] * T * b[None, :]


def cost_matrix(
    estimate: PPMLEstimate,
    year_panel: pd.DataFrame,
    regions: Sequence[str],
    *,
    pair_effect: str | None,
    fill_regressors: Sequence[str] = (),
    source: str = "<scenario>",
) -> tuple[np.ndarray, dict[str, object]]:
    """``ln t_ij^(1-sigma)`` for every pair of ``regions`` in the baseline year (module docstring).

    Returns the ``(N, N)`` log-cost matrix and notes (``pairs_predicted``, the second-stage
    estimate's coefficients).
    """
    n = len(regions)
    panel = derive_columns(year_panel, list(estimate.spec.regressors) + list(fill_regressors), source)
    lnT = np.zeros((n, n))
    for name, b in estimate.coef.items():
        if (
            name.startswith("intl_border_")
            and name[12:].isdigit()
            and int(name[12:]) != int(panel["year"].iloc[0])
        ):
            continue  # border dummies of other years are zero in the baseline year
        lnT += b * square_matrix(panel, name, regions, fill=0.0, what=source)
    notes: dict[str, object] = {"pairs_predicted": 0}
    if not pair_effect:
        return lnT, notes
    tbar = pair_costs(estimate, pair_effect)
    keys = panel[pair_effect].astype(str)
    keys = keys.where(panel["exporter"] != panel["importer"], DOMESTIC_PAIR)
    lt = keys.map(tbar)
    lt[keys == DOMESTIC_PAIR] = 0.0
    pp = panel.assign(_ln_tbar=lt.to_numpy(dtype=float))
    L = square_matrix(pp, "_ln_tbar", regions, fill=np.nan, what=source)
    missing = np.isnan(L)
    if missing.any():
        if not fill_regressors:
            a, b_ = np.argwhere(missing)[0]
            raise DataError(
                f"{source}: the pair effect of {regions[a]}-{regions[b_]} is not identified (no trade in the "
                f'estimation years); add estimation.fill_regressors (e.g. ["ln_dist", "cntg", "lang", '
                f'"clny"]) to predict it.'
            )
        intl = pp[pp["exporter"] != pp["importer"]].copy()
        intl["_tbar"] = np.exp(intl["_ln_tbar"])
        stage2 = ppml(
            intl,
            "_tbar",
            list(fill_regressors),
            ["exporter", "importer"],
            source=f"{source} (trade-cost prediction)",
        )
        xb = np.zeros((n, n))
        for name, b in stage2.coef.items():
            xb += b * square_matrix(pp, name, regions, fill=0.0, what=source)
        fe_e = stage2.fixed_effects["exporter"].reindex(list(regions)).to_numpy()
        fe_i = stage2.fixed_effects["importer"].reindex(list(regions)).to_numpy()
        pred = xb + fe_e[:, None] + fe_i[None, :]
        bad = missing & ~np.isfinite(pred)
        if bad.any():
            a, b_ = np.argwhere(bad)[0]
            raise DataError(
                f"{source}: cannot predict the trade cost of {regions[a]}-{regions[b_]} (no fixed effect)."
            )
        L = np.where(missing, pred, L)
        notes["pairs_predicted"] = int(missing.sum())
        notes["fill_coefficients"] = {k: float(v) for k, v in stage2.coef.items()}
    return lnT + L, notes
