"""Tariff policies of the paper, usable in any scenario (``[policy]``) or from Python.

Orientation as in the model: ``t[j, i]`` is the tariff on goods from exporter ``j`` entering
importer ``i`` (fractions). Every function returns a new array; none changes its input.
Formulas: Ignatenko, Lashkaripour, Macedoni and Simonovska (2025), the optimal tariff and
retaliation formulas of the paper (Tables 1 and 2); written out in ``docs/ims2025.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

import numpy as np

from kaifang.baseline.ims2025 import USTR_FLOOR, ustr_tariffs
from kaifang.models.ims2025.equations import Economy

__all__ = [
    "DELTA_DENOMINATORS",
    "USTR_FLOOR",
    "DeltaDenominator",
    "best_uniform_tariff",
    "block_delta",
    "delta",
    "optimal_retaliation",
    "optimal_retaliation_rate",
    "optimal_tariff",
    "optimal_tariff_rate",
    "reciprocal_retaliation",
    "ustr_tariffs",
]


#: What the denominator of ``delta_i`` in the optimal-tariff formula subtracts own sales from:
#: ``"spending"`` ``(1 - nu_i)(E_i - X_ii)``, the formula of Table 1 (t* = 21.8 % for the USA), or
#: ``"income"`` ``(1 - nu_i)(Y_i - X_ii)``, what the authors' replication code uses for the US
#: tariff of Table 2, case (4) (t* = 18.5 %, the "19 %" of the abstract).
DeltaDenominator = Literal["spending", "income"]
DELTA_DENOMINATORS: tuple[str, ...] = get_args(DeltaDenominator)


def reciprocal_retaliation(t: np.ndarray, against: int, by: Sequence[int]) -> np.ndarray:
    """Every region ``r`` in ``by`` taxes goods of ``against`` at the rate ``against`` taxes
    ``r``'s goods: ``t[against, r] = t[r, against]``."""
    out = np.array(t, dtype=float, copy=True)
    for r in by:
        if r != against:
            out[against, r] = t[r, against]
    return out


def _check_denominator(denominator: str) -> None:
    if denominator not in DELTA_DENOMINATORS:
        raise ValueError(f"denominator must be one of {list(DELTA_DENOMINATORS)}, got {denominator!r}")


def delta(econ: Economy, denominator: DeltaDenominator = "spending") -> np.ndarray:
    """``delta_i = sum_{k != i} (1 - nu_k) X_ik (1 - lam_ik) / ((1 - nu_i)(E_i - X_ii))``.

    Baseline flows ``X = lam E``. With ``denominator="income"`` the denominator uses
    ``Y_i - X_ii`` instead of ``E_i - X_ii`` (see :data:`DeltaDenominator`).

    Raises
    ------
    ValueError
        ``denominator`` is not one of :data:`DELTA_DENOMINATORS`.
    """
    _check_denominator(denominator)
    X = econ.lam * econ.E[None, :]
    off = 1.0 - np.eye(econ.n)
    num = (X * (1.0 - econ.nu)[None, :] * off * (1.0 - econ.lam)).sum(axis=1)
    base = econ.E if denominator == "spending" else econ.Y
    return num / ((1.0 - econ.nu) * (base - np.diag(X)))


def optimal_tariff_rate(econ: Economy, i: int, denominator: DeltaDenominator = "spending") -> float:
    """The optimal uniform import tariff of region ``i``: ``t* = 1/((1 + delta_i eps) phi_i - 1)``
    (Ignatenko et al. 2025, Table 1, "optimal US tariff"), evaluated at baseline shares, with
    :func:`delta`'s ``denominator``."""
    d = delta(econ, denominator)[i]
    return float(1.0 / ((1.0 + d * econ.eps) * econ.phi[i] - 1.0))


def optimal_tariff(
    t: np.ndarray, econ: Economy, i: int, denominator: DeltaDenominator = "spending"
) -> np.ndarray:
    """Set ``t[j, i] = t*_i`` (:func:`optimal_tariff_rate`) on the goods of every exporter ``j != i``."""
    out = np.array(t, dtype=float, copy=True)
    out[:, i] = optimal_tariff_rate(econ, i, denominator)
    out[i, i] = 0.0
    return out


def block_delta(econ: Economy, coalition: Sequence[int], against: int) -> float:
    """``delta`` of a coalition on the world aggregated into blocks (the paper's optimal retaliation).

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


def best_uniform_tariff(
    econ: Economy,
    i: int,
    t: np.ndarray | None = None,
    *,
    bounds: tuple[float, float] = (0.0, 1.0),
    xatol: float = 1e-6,
) -> tuple[float, float]:
    """The uniform import tariff that maximises region ``i``'s welfare, found numerically.

    Unlike :func:`optimal_tariff_rate` (the paper's formula at baseline shares), this solves the
    full model for each candidate rate (bounded Brent search, :func:`scipy.optimize.minimize_scalar`).

    Parameters
    ----------
    econ
        The economy.
    i
        The taxing region.
    t
        Other tariffs held fixed (default none); column ``i`` is replaced.
    bounds
        Search interval for the rate.
    xatol
        Absolute tolerance on the rate.

    Returns
    -------
    tuple
        ``(rate, welfare_pct)`` at the maximum.
    """
    from scipy.optimize import minimize_scalar

    from kaifang.models.ims2025.outcomes import outcome_arrays
    from kaifang.models.ims2025.solver import solve

    base = np.zeros((econ.n, econ.n)) if t is None else np.asarray(t, dtype=float)

    def loss(rate: float) -> float:
        tt = base.copy()
        tt[:, i] = rate
        tt[i, i] = 0.0
        return -float(outcome_arrays(econ, solve(econ, tt).eq)["welfare_pct"][i])

    res = minimize_scalar(loss, bounds=bounds, method="bounded", options={"xatol": xatol})
    return float(res.x), -float(res.fun)
