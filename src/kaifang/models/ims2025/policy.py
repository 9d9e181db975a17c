"""Tariff policies of the paper, usable in any scenario (``[policy]``) or from Python.

Orientation as in the model: ``t[j, i]`` is the tariff on goods from exporter ``j`` entering
importer ``i`` (fractions). Every function returns a new array; none changes its input.
Formulas: ``shared/models/ims2025.md``, "Policies in the paper".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kaifang.models.ims2025.equations import Economy

__all__ = [
    "USTR_FLOOR",
    "block_delta",
    "delta",
    "optimal_retaliation",
    "optimal_retaliation_rate",
    "optimal_tariff",
    "optimal_tariff_rate",
    "reciprocal_retaliation",
    "ustr_tariffs",
]

#: The model's floor on the announced US tariffs (note, "USTR tariffs").
USTR_FLOOR = 0.10


def ustr_tariffs(announced: np.ndarray, us: int, floor: float = USTR_FLOOR) -> np.ndarray:
    """``t[j, US] = max(floor, tariff_j)`` for every exporter ``j != US``; all else 0."""
    n = announced.shape[0]
    t = np.zeros((n, n))
    t[:, us] = np.maximum(floor, announced)
    t[us, us] = 0.0
    return t


def reciprocal_retaliation(t: np.ndarray, against: int, by: Sequence[int]) -> np.ndarray:
    """Every region ``r`` in ``by`` taxes goods of ``against`` at the rate ``against`` taxes
    ``r``'s goods: ``t[against, r] = t[r, against]``."""
    out = np.array(t, dtype=float, copy=True)
    for r in by:
        if r != against:
            out[against, r] = t[r, against]
    return out


def delta(econ: Economy, denominator: str = "spending") -> np.ndarray:
    """``delta_i = sum_{k != i} (1 - nu_k) X_ik (1 - lam_ik) / ((1 - nu_i)(E_i - X_ii))``.

    Baseline flows ``X = lam E``. With ``denominator="income"`` the denominator uses
    ``Y_i - X_ii`` instead of ``E_i - X_ii``.
    """
    X = econ.lam * econ.E[None, :]
    off = 1.0 - np.eye(econ.n)
    num = (X * (1.0 - econ.nu)[None, :] * off * (1.0 - econ.lam)).sum(axis=1)
    base = econ.E if denominator == "spending" else econ.Y
    return num / ((1.0 - econ.nu) * (base - np.diag(X)))


def optimal_tariff_rate(econ: Economy, i: int) -> float:
    """The optimal uniform import tariff of region ``i``: ``t* = 1/((1 + delta_i eps) phi_i - 1)``
    (note, "Optimal US tariff"), evaluated at baseline shares."""
    d = delta(econ)[i]
    return float(1.0 / ((1.0 + d * econ.eps) * econ.phi[i] - 1.0))


def optimal_tariff(t: np.ndarray, econ: Economy, i: int) -> np.ndarray:
    """Set ``t[j, i] = t*_i`` on the goods of every exporter ``j != i``."""
    out = np.array(t, dtype=float, copy=True)
    out[:, i] = optimal_tariff_rate(econ, i)
    out[i, i] = 0.0
    return out


def block_delta(econ: Economy, coalition: Sequence[int], against: int) -> float:
    """``delta`` of a coalition on the world aggregated into blocks (note, "Optimal retaliation").

    Blocks: the coalition ``C``, the target, and (when not empty) all other regions ``O``.
    ``delta_C = sum_{k != C} (1 - nu_k) X_Ck (1 - lam_Ck) / ((1 - nu_C)(Y_C - X_CC))`` with
    ``lam_Ck = X_Ck / E_k`` on the aggregate and a block's ν the spending-weighted mean of its
    members' (exact when they share one ν, as in the paper, where ``C`` is every non-US country
    and ``O`` is empty).
    """
    n = econ.n
    c = sorted(set(coalition) - {against})
    others = sorted(set(range(n)) - set(c) - {against})
    blocks = [c, [against]] + ([others] if others else [])
    agg = np.zeros((len(blocks), n))
    for b, members in enumerate(blocks):
        agg[b, members] = 1.0
    X = econ.lam * econ.E[None, :]
    X2 = agg @ X @ agg.T
    Y2 = agg @ econ.Y
    E2 = X2.sum(axis=0)
    nu2 = (agg @ (econ.nu * econ.E)) / (agg @ econ.E)
    lam2 = X2 / E2[None, :]
    num = sum((1.0 - nu2[k]) * X2[0, k] * (1.0 - lam2[0, k]) for k in range(1, len(blocks)))
    return float(num / ((1.0 - nu2[0]) * (Y2[0] - X2[0, 0])))


def optimal_retaliation_rate(econ: Economy, coalition: Sequence[int], against: int) -> np.ndarray:
    """Rates at which each coalition member ``r`` taxes the target's goods:
    ``1/((1 + delta_C eps) phi_r - 1)`` (one value per region; NaN outside the coalition)."""
    d = block_delta(econ, coalition, against)
    out = np.full(econ.n, np.nan)
    for r in coalition:
        if r != against:
            out[r] = 1.0 / ((1.0 + d * econ.eps) * econ.phi[r] - 1.0)
    return out


def optimal_retaliation(t: np.ndarray, econ: Economy, coalition: Sequence[int], against: int) -> np.ndarray:
    """Every coalition member taxes the target's goods at its optimal retaliation rate."""
    out = np.array(t, dtype=float, copy=True)
    rates = optimal_retaliation_rate(econ, coalition, against)
    for r in coalition:
        if r != against:
            out[against, r] = rates[r]
    return out
