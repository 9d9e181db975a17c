"""The equilibrium in changes of Ignatenko, Lashkaripour, Macedoni and Simonovska (2025).

Small pure functions in the paper's notation, as written out in ``docs/ims2025.md``
("Equilibrium in changes" and "Outcomes"). Orientation: ``t[j, i]`` is the tariff on goods
from exporter ``j`` entering importer ``i``; ``lam[j, i]`` is ``j``'s share of ``i``'s spending.
Hats (``w_hat = w'/w``) are 1-D arrays over regions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Economy",
    "Equilibrium",
    "cost_shifter",
    "evaluate",
    "factor_income",
    "income_tax",
    "labour_supply",
    "new_flows",
    "price_denominator",
    "price_index",
    "spending",
    "tariff_revenue",
    "trade_shares",
    "welfare",
]


@dataclass(frozen=True)
class Economy:
    """Everything the equilibrium needs besides the tariffs (immutable).

    Attributes
    ----------
    E, Y, T
        Baseline spending, factor income, transfers (``T = E - Y``).
    lam
        Baseline shares ``lam[j, i] = X_ji / E_i``.
    nu
        Local-input shares ν_i.
    phi
        Tariff pass-through parameters φ_i.
    eps, kappa, psi
        Trade elasticity ε, labour-supply elasticity κ, scale elasticity ψ.
    lump_sum
        True: tariff revenue is rebated lump sum (τ = 0); False: income-tax relief.
    """

    E: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    T: np.ndarray = field(repr=False)
    lam: np.ndarray = field(repr=False)
    nu: np.ndarray = field(repr=False)
    phi: np.ndarray = field(repr=False)
    eps: float
    kappa: float
    psi: float
    lump_sum: bool

    @property
    def n(self) -> int:
        """Number of regions."""
        return self.E.shape[0]


def cost_shifter(w_hat: np.ndarray, L_hat: np.ndarray, psi: float) -> np.ndarray:
    """``c_j = w_hat_j L_hat_j^(-psi)`` (scale economies)."""
    return w_hat * L_hat ** (-psi)


def price_denominator(
    lam: np.ndarray, c: np.ndarray, t: np.ndarray, eps: float, phi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``A_ji = lam_ji c_j^(-eps) (1 + t_ji)^(-eps phi_i)`` and ``D_i = sum_k A_ki``.

    Returns ``(A, D)``.
    """
    A = lam * (c ** (-eps))[:, None] * (1.0 + t) ** (-eps * phi[None, :])
    return A, A.sum(axis=0)


def trade_shares(A: np.ndarray, D: np.ndarray) -> np.ndarray:
    """``lam'_ji = A_ji / D_i`` (new spending shares)."""
    return A / D[None, :]


def price_index(
    E_hat: np.ndarray, w_hat: np.ndarray, D: np.ndarray, phi: np.ndarray, eps: float
) -> np.ndarray:
    """``P_hat_i = (E_hat_i / w_hat_i)^(1 - phi_i) D_i^(-1/eps)``."""
    return (E_hat / w_hat) ** (1.0 - phi) * D ** (-1.0 / eps)


def new_flows(lam_new: np.ndarray, E_hat: np.ndarray, E: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``X'_ji = lam'_ji E_hat_i E_i / (1 + t_ji)`` (producer prices)."""
    return lam_new * (E_hat * E)[None, :] / (1.0 + t)


def tariff_revenue(lam_new: np.ndarray, t: np.ndarray, E_hat: np.ndarray, E: np.ndarray) -> np.ndarray:
    """``R_i = sum_j lam'_ji t_ji / (1 + t_ji) E_hat_i E_i``."""
    return (lam_new * (t / (1.0 + t))).sum(axis=0) * E_hat * E


def income_tax(
    R: np.ndarray, w_hat: np.ndarray, L_hat: np.ndarray, Y: np.ndarray, lump_sum: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Revenue use: ``tau_i = R_i / (w_hat_i L_hat_i Y_i)``, ``tau_hat_i = 1/(1 - tau_i)``.

    With a lump-sum rebate ``tau = 0`` and ``tau_hat = 1``. Returns ``(tau, tau_hat)``.
    """
    if lump_sum:
        return np.zeros_like(R), np.ones_like(R)
    tau = R / (w_hat * L_hat * Y)
    return tau, 1.0 / (1.0 - tau)


def factor_income(X_new: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """Left side of (a): ``sum_i (1 - nu_i) X'_ji + nu_j sum_k X'_kj``."""
    return (X_new * (1.0 - nu)[None, :]).sum(axis=1) + nu * X_new.sum(axis=0)


def spending(R: np.ndarray, w_hat: np.ndarray, L_hat: np.ndarray, Y: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Right side of (b): ``R_i + w_hat_i L_hat_i Y_i + T_i sum_k w_hat_k L_hat_k Y_k / sum_k Y_k``.

    Deficits (transfers) are scaled with world income.
    """
    H = w_hat * L_hat * Y
    return R + H + T * (H.sum() / Y.sum())


def labour_supply(tau_hat: np.ndarray, w_hat: np.ndarray, P_hat: np.ndarray, kappa: float) -> np.ndarray:
    """Right side of (c): ``L_hat_i = (tau_hat_i w_hat_i / P_hat_i)^kappa``."""
    return (tau_hat * w_hat / P_hat) ** kappa


def welfare(
    E_hat: np.ndarray,
    w_hat: np.ndarray,
    L_hat: np.ndarray,
    P_hat: np.ndarray,
    tau: np.ndarray,
    E: np.ndarray,
    Y: np.ndarray,
    kappa: float,
) -> np.ndarray:
    """``W_hat_i = delta_i E_hat_i/P_hat_i + (1 - delta_i) w_hat_i L_hat_i / P_hat_i``.

    ``delta_i = E_i / (E_i - kappa (1 - tau_i) Y_i / (1 + kappa))`` (docs/ims2025.md, "Outcomes"). This is the exact
    welfare change of the model, not an approximation.
    """
    delta = E / (E - kappa * (1.0 - tau) * Y / (1.0 + kappa))
    return delta * E_hat / P_hat + (1.0 - delta) * w_hat * L_hat / P_hat


@dataclass(frozen=True)
class Equilibrium:
    """All endogenous quantities at given hats (what :func:`evaluate` computes)."""

    w_hat: np.ndarray
    E_hat: np.ndarray
    L_hat: np.ndarray
    P_hat: np.ndarray
    lam_new: np.ndarray
    X_new: np.ndarray
    R: np.ndarray
    tau: np.ndarray
    tau_hat: np.ndarray
    D: np.ndarray
    residual_a: np.ndarray
    residual_b: np.ndarray
    residual_c: np.ndarray
    normalisation: float


def evaluate(
    econ: Economy, t: np.ndarray, w_hat: np.ndarray, E_hat: np.ndarray, L_hat: np.ndarray
) -> Equilibrium:
    """Evaluate the model at given hats; residuals of equations (a)-(c) of ``docs/ims2025.md``,
    scaled to be relative.

    ``residual_a[j] = (factor_income_j - w_hat_j L_hat_j Y_j) / Y_j`` for every ``j`` (the
    one the normalisation replaces included: it holds by Walras' law),
    ``residual_b[i] = (spending_i - E_hat_i E_i) / E_i``,
    ``residual_c[i] = L_hat_i - labour_supply_i``,
    ``normalisation = sum_i (P_hat_i - 1) E_i / sum_i E_i``.
    """
    c = cost_shifter(w_hat, L_hat, econ.psi)
    A, D = price_denominator(econ.lam, c, t, econ.eps, econ.phi)
    lam_new = trade_shares(A, D)
    P_hat = price_index(E_hat, w_hat, D, econ.phi, econ.eps)
    X_new = new_flows(lam_new, E_hat, econ.E, t)
    R = tariff_revenue(lam_new, t, E_hat, econ.E)
    tau, tau_hat = income_tax(R, w_hat, L_hat, econ.Y, econ.lump_sum)
    ra = (factor_income(X_new, econ.nu) - w_hat * L_hat * econ.Y) / econ.Y
    rb = (spending(R, w_hat, L_hat, econ.Y, econ.T) - E_hat * econ.E) / econ.E
    rc = L_hat - labour_supply(tau_hat, w_hat, P_hat, econ.kappa)
    norm = float(((P_hat - 1.0) * econ.E).sum() / econ.E.sum())
    return Equilibrium(w_hat, E_hat, L_hat, P_hat, lam_new, X_new, R, tau, tau_hat, D, ra, rb, rc, norm)
