"""The calibrated one-sector world of the 2025 tariff model: local-input share ν, transfers,
domestic sales.

Ignatenko, Lashkaripour, Macedoni and Simonovska (2025), calibration steps 1-3 as written out
in ``docs/ims2025.md`` ("Calibration"). Arrays use the paper's orientation:
``X[j, i]`` is the value of goods from exporter ``j`` to importer ``i``. :func:`calibrate` builds
the world from plain trade and GDP arrays; :func:`one_sector_baseline` from the
``liberation2025`` data set, as labelled arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from kaifang.errors import BaselineError, ConvergenceError

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

    from kaifang.data.liberation2025 import Liberation2025

__all__ = [
    "NU_TARGETS",
    "USTR_FLOOR",
    "Calibration",
    "aggregate_two_regions",
    "calibrate",
    "domestic_sales",
    "nu_moments",
    "one_sector_baseline",
    "solve_nu",
    "transfers",
    "ustr_tariffs",
]

#: The two targets of the ν calibration (calibration step 2): 0.12 and 0.26.
NU_TARGETS = (0.12, 0.26)


@dataclass(frozen=True)
class Calibration:
    """The calibrated baseline world (immutable).

    Attributes
    ----------
    regions
        Region codes, array order.
    X
        ``(exporter, importer)`` flows incl. domestic sales on the diagonal (thousands of USD).
    E
        Spending ``E_i = sum_j X_ji`` (incl. own).
    Y
        Factor income ``Y_i = sum_k (1 - nu_k) X_ik + nu_i sum_j X_ji``.
    T
        Transfers ``T_i = E_i - Y_i`` (sum to zero).
    lam
        Spending shares ``lambda_ji = X_ji / E_i`` (columns sum to one).
    nu
        Local-input share of each region (two values: USA and the rest).
    nu_pair
        ``(nu_nonUS, nu_US)`` as solved on the two-region aggregate.
    us
        Index of the USA.
    """

    regions: tuple[str, ...]
    X: np.ndarray = field(repr=False)
    E: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    T: np.ndarray = field(repr=False)
    lam: np.ndarray = field(repr=False)
    nu: np.ndarray = field(repr=False)
    nu_pair: tuple[float, float]
    us: int

    @property
    def n(self) -> int:
        """Number of regions."""
        return len(self.regions)


def aggregate_two_regions(X: np.ndarray, Y: np.ndarray, us: int) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate flows and income into region 1 = non-US, region 2 = USA (calibration step 2).

    Returns ``(X2, Y2)`` with ``X2[r, s]`` the flow from aggregate ``r`` to ``s`` (own flows
    included when ``X`` has them) and ``Y2`` the summed income.
    """
    agg = np.zeros((2, X.shape[0]))
    agg[0, :] = 1.0
    agg[0, us] = 0.0
    agg[1, us] = 1.0
    return agg @ X @ agg.T, agg @ Y


def nu_moments(nu: np.ndarray, X2: np.ndarray, Y2: np.ndarray) -> np.ndarray:
    """The two ν moments on the two-region aggregate (calibration step 2), minus their targets.

    ``E_r = Y_r + (1 - nu_r)(M_r - sum_s (1 - nu_s) X_rs)`` with ``M_r = sum_s X_sr``, both sums
    over ``s = 1, 2`` *including* ``s = r``: ``X2[0, 0]`` is the trade among the non-US
    economies (most of world trade), not domestic sales, and stays in; ``X2[1, 1]`` is zero
    because the data hold no domestic sales.
    ``r11 = (E1 - X21)/(E1 - X21 + X12)``, ``r22 = (E2 - X12)/(E2 - X12 + X21)``;
    returns ``[(1 - r11) nu2 + r11 nu1 - 0.12, r22 nu2 + (1 - r22) nu1 - 0.26]``.
    """
    M = X2.sum(axis=0)
    E = Y2 + (1.0 - nu) * (M - (X2 * (1.0 - nu)[None, :]).sum(axis=1))
    r11 = (E[0] - X2[1, 0]) / (E[0] - X2[1, 0] + X2[0, 1])
    r22 = (E[1] - X2[0, 1]) / (E[1] - X2[0, 1] + X2[1, 0])
    return np.array(
        [
            (1.0 - r11) * nu[1] + r11 * nu[0] - NU_TARGETS[0],
            r22 * nu[1] + (1.0 - r22) * nu[0] - NU_TARGETS[1],
        ]
    )


def solve_nu(X: np.ndarray, Y: np.ndarray, us: int) -> tuple[float, float]:
    """Solve the two ν moments for ``(nu_nonUS, nu_US)``; negative values are set to 0.

    Raises
    ------
    ConvergenceError
        The two-equation system has no solution from the start ``(0.1, 0.24)``.
    """
    X2, Y2 = aggregate_two_regions(X, Y, us)
    from scipy.optimize import root  # here: the module is imported on every run's start-up

    sol = root(nu_moments, np.array([0.1, 0.24]), args=(X2, Y2), method="hybr", tol=1e-14)
    res = float(np.max(np.abs(nu_moments(sol.x, X2, Y2))))
    if not sol.success or res > 1e-10:
        raise ConvergenceError(
            f"calibration of nu did not converge (scipy.optimize.root 'hybr' from (0.1, 0.24), "
            f"residual {res:.2e}); check the trade and GDP data.",
            iterations=int(sol.nfev),
            residual=res,
        )
    nu = np.maximum(sol.x, 0.0)
    return float(nu[0]), float(nu[1])


def transfers(X: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """``T_i = (1 - nu_i)(sum_j X_ji - sum_k (1 - nu_k) X_ik)`` (calibration step 3)."""
    return (1.0 - nu) * (X.sum(axis=0) - (X * (1.0 - nu)[None, :]).sum(axis=1))


def domestic_sales(E: np.ndarray, X: np.ndarray) -> np.ndarray:
    """``X_ii = max(E_i - sum_{j != i} X_ji, 0)`` (calibration step 3)."""
    imports = X.sum(axis=0) - np.diag(X)
    return np.maximum(E - imports, 0.0)


def calibrate(
    trade: np.ndarray,
    gdp: np.ndarray,
    regions: Sequence[str],
    *,
    us: str = "USA",
    nu: tuple[float, float] | None = None,
) -> Calibration:
    """Build the baseline of the paper from trade (thousands of USD) and GDP (USD).

    Parameters
    ----------
    trade
        ``(exporter, importer)`` flows without own flows.
    gdp
        GDP in USD (divided by 1000 to match the flows).
    regions
        Region codes; ``us`` must be one of them.
    us
        Code of the country with its own ν.
    nu
        ``(nu_nonUS, nu_US)`` to use instead of calibrating them.

    Raises
    ------
    BaselineError
        The USA is missing or the calibrated world is inconsistent (non-positive spending).
    """
    regions = tuple(regions)
    if us not in regions:
        raise BaselineError(f"region {us!r} is not in the data; the ν calibration needs it.")
    k_us = regions.index(us)
    X = np.array(trade, dtype=float)
    np.fill_diagonal(X, 0.0)
    Y = np.asarray(gdp, dtype=float) / 1000.0
    pair = solve_nu(X, Y, k_us) if nu is None else (float(nu[0]), float(nu[1]))
    nu_v = np.full(len(regions), pair[0])
    nu_v[k_us] = pair[1]
    T = transfers(X, nu_v)
    E = Y + T
    np.fill_diagonal(X, domestic_sales(E, X))
    E = X.sum(axis=0)
    Y = (X * (1.0 - nu_v)[None, :]).sum(axis=1) + nu_v * E
    T = E - Y
    if (E <= 0).any():
        k = int(np.flatnonzero(E <= 0)[0])
        raise BaselineError(f"region {regions[k]!r} has spending {E[k]} <= 0 after calibration.")
    lam = X / E[None, :]
    return Calibration(regions, X, E, Y, T, lam, nu_v, pair, k_us)


def one_sector_baseline(data: Liberation2025 | None = None) -> xr.Dataset:
    """The calibrated one-sector 2023 world of Ignatenko et al. (2025), as labelled arrays.

    Domestic sales are built from GDP the paper's way (local-input share ν calibrated on a
    US/non-US aggregate, transfers, ``X_ii = max(E_i - imports_i, 0)``; see
    ``docs/ims2025.md``, calibration steps 1-3, and :func:`calibrate`).

    Parameters
    ----------
    data
        The loaded data set (default: :func:`kaifang.data.liberation2025.load`).

    Returns
    -------
    xarray.Dataset
        ``flows(importer, exporter)`` incl. domestic sales (thousands of USD, at producer
        prices, no tariffs in the baseline), ``output(region)`` (value of each region's sales
        to all destinations incl. itself, ``sum_k X_ik``), ``expenditure(region)`` (``E_i``),
        ``income(region)`` (``Y_i``, factor income), ``transfers(region)`` (``T_i = E_i - Y_i``),
        ``nu(region)``.
    """
    import xarray as xr

    from kaifang.data.liberation2025 import DATASET, load

    d = data if data is not None else load()
    cal = calibrate(d.trade, d.gdp, d.regions)
    regions = list(d.regions)
    region = ("region", cal.E)
    return xr.Dataset(
        {
            "flows": (("importer", "exporter"), cal.X.T.copy()),
            "output": ("region", cal.X.sum(axis=1)),
            "expenditure": region,
            "income": ("region", cal.Y),
            "transfers": ("region", cal.T),
            "nu": ("region", cal.nu),
        },
        coords={"importer": regions, "exporter": regions, "region": regions},
        attrs={
            "dataset": DATASET,
            "units": "thousands of USD (2023)",
            "note": "flows[importer, exporter]; domestic sales on the diagonal built from GDP",
        },
    )


#: The model's floor on the announced US tariffs (the paper applies at least 10 %).
USTR_FLOOR = 0.10


def ustr_tariffs(announced: np.ndarray, us: int, floor: float = USTR_FLOOR) -> np.ndarray:
    """``t[j, US] = max(floor, tariff_j)`` for every exporter ``j != US``; all else 0."""
    n = announced.shape[0]
    t = np.zeros((n, n))
    t[:, us] = np.maximum(floor, announced)
    t[us, us] = 0.0
    return t
