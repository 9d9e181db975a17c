"""Outcomes of a solved equilibrium (docs/ims2025.md, "Outcomes"), one row per region."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kaifang.models.ims2025.equations import Economy, Equilibrium, welfare

__all__ = ["COLUMNS", "outcome_arrays", "outcomes", "weighted_average"]

#: Output columns and their formulas (documented in docs/ims2025.md).
COLUMNS = {
    "welfare_pct": "100 (W_hat_i - 1), W_hat = delta E_hat/P_hat + (1 - delta) w_hat L_hat/P_hat",
    "deficit_pct": "100 (D'_i - D_i) / |D_i|, D = imports - exports (producer prices)",
    "exports_to_gdp_pct": "100 (ratio'/ratio - 1), exports excl. own flows over w_hat L_hat Y",
    "imports_to_gdp_pct": "100 (ratio'/ratio - 1), imports excl. own flows over w_hat L_hat Y",
    "employment_pct": "100 (L_hat_i - 1)",
    "cpi_pct": "100 (P_hat_i - 1)",
    "tariff_revenue_share": "R_i / E_i (baseline spending), a fraction",
}


def outcome_arrays(econ: Economy, eq: Equilibrium) -> dict[str, np.ndarray]:
    """The outcome columns as arrays over regions (see :data:`COLUMNS`)."""
    X = econ.lam * econ.E[None, :]
    Xn = eq.X_new
    off = 1.0 - np.eye(econ.n)
    W = welfare(eq.E_hat, eq.w_hat, eq.L_hat, eq.P_hat, eq.tau, econ.E, econ.Y, econ.kappa)
    D0 = X.sum(axis=0) - X.sum(axis=1)
    D1 = Xn.sum(axis=0) - Xn.sum(axis=1)
    Y1 = eq.w_hat * eq.L_hat * econ.Y
    with np.errstate(divide="ignore", invalid="ignore"):
        exp_ratio = ((Xn * off).sum(axis=1) / Y1) / ((X * off).sum(axis=1) / econ.Y)
        imp_ratio = ((Xn * off).sum(axis=0) / Y1) / ((X * off).sum(axis=0) / econ.Y)
        deficit = 100.0 * (D1 - D0) / np.abs(D0)
    return {
        "welfare_pct": 100.0 * (W - 1.0),
        "deficit_pct": deficit,
        "exports_to_gdp_pct": 100.0 * (exp_ratio - 1.0),
        "imports_to_gdp_pct": 100.0 * (imp_ratio - 1.0),
        "employment_pct": 100.0 * (eq.L_hat - 1.0),
        "cpi_pct": 100.0 * (eq.P_hat - 1.0),
        "tariff_revenue_share": eq.R / econ.E,
    }


def outcomes(econ: Economy, eq: Equilibrium, regions: Sequence[str]) -> pd.DataFrame:
    """The per-region table: ``region`` then the :data:`COLUMNS` (NaN where undefined, e.g. the
    deficit change of a region with a zero baseline deficit)."""
    df = pd.DataFrame({"region": list(regions)})
    for k, v in outcome_arrays(econ, eq).items():
        df[k] = v
    return df


def weighted_average(df: pd.DataFrame, weights: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Averages of the outcome columns over ``mask``, weighted by ``weights`` (the paper weights
    by baseline spending E_i), NaN entries left out."""
    out = {}
    for k in COLUMNS:
        v = df[k].to_numpy()[mask]
        w = weights[mask]
        ok = np.isfinite(v)
        out[k] = float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")
    return out
