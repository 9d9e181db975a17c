"""Model settings and the economy they define from a calibration (benchmark, incomplete
pass-through, Eaton-Kortum), as in ``docs/ims2025.md`` ("Calibration", "Variants")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from kaifang.baseline.ims2025 import Calibration
from kaifang.models.ims2025.equations import Economy

__all__ = ["ModelSettings", "PassThrough", "RevenueUse", "Variant", "build_economy", "phi_tilde"]

PassThrough = Literal["complete", "incomplete"]
RevenueUse = Literal["income_tax_relief", "lump_sum"]
Variant = Literal["benchmark", "eaton_kortum"]

#: The paper's share behind theta = eps / 0.67 and psi = 0.67 / eps.
SCALE_SHARE = 0.67
#: Offset of phi = offset + phi_tilde: 1 with complete pass-through, 0.25 with incomplete.
PHI_OFFSET = {"complete": 1.0, "incomplete": 0.25}


@dataclass(frozen=True)
class ModelSettings:
    """Parameters of the model (the scenario's ``[parameters]`` section).

    Attributes
    ----------
    eps
        Trade elasticity ε (paper: 4).
    kappa
        Labour-supply elasticity κ (paper: 0.5).
    psi
        Scale elasticity ψ; ``None`` means ``0.67 / eps``.
    pass_through
        ``"complete"``: φ_i = 1 + φ̃_i (benchmark); ``"incomplete"``: φ_i = 0.25 + φ̃_i.
    revenue_use
        ``"income_tax_relief"`` (benchmark) or ``"lump_sum"`` rebate of tariff revenue.
    variant
        ``"benchmark"`` or ``"eaton_kortum"`` (ν = 0, φ = 1, ``Y_i = sum_k X_ik``).
    """

    eps: float = 4.0
    kappa: float = 0.5
    psi: float | None = None
    pass_through: PassThrough = "complete"
    revenue_use: RevenueUse = "income_tax_relief"
    variant: Variant = "benchmark"

    def __post_init__(self) -> None:
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0, got {self.eps}")
        if not self.kappa >= 0:
            raise ValueError(f"kappa must be >= 0, got {self.kappa}")
        if self.pass_through not in PHI_OFFSET:
            raise ValueError(f"pass_through must be one of {list(PHI_OFFSET)}, got {self.pass_through!r}")
        if self.revenue_use not in ("income_tax_relief", "lump_sum"):
            raise ValueError(
                f"revenue_use must be 'income_tax_relief' or 'lump_sum', got {self.revenue_use!r}"
            )
        if self.variant not in ("benchmark", "eaton_kortum"):
            raise ValueError(f"variant must be 'benchmark' or 'eaton_kortum', got {self.variant!r}")

    @property
    def psi_value(self) -> float:
        """ψ actually used (``0.67 / eps`` unless given)."""
        return SCALE_SHARE / self.eps if self.psi is None else float(self.psi)

    @property
    def theta(self) -> float:
        """θ = ε / 0.67."""
        return self.eps / SCALE_SHARE


def phi_tilde(nu: np.ndarray, theta: float) -> np.ndarray:
    """``phi_tilde_i = (1 + theta) / ((1 - nu_i) theta) - 1/theta - 1`` (calibration step 4)."""
    return (1.0 + theta) / ((1.0 - nu) * theta) - 1.0 / theta - 1.0


def build_economy(cal: Calibration, settings: ModelSettings | None = None) -> Economy:
    """The economy the equilibrium solves, for a calibration and model settings.

    Eaton-Kortum variant (docs/ims2025.md, "Variants"): ν = 0, φ = 1, ``Y_i = sum_k X_ik``,
    ``T_i = E_i - Y_i``, spending and shares as calibrated.
    """
    s = settings or ModelSettings()
    if s.variant == "eaton_kortum":
        nu = np.zeros(cal.n)
        phi = np.ones(cal.n)
        Y = cal.X.sum(axis=1)
        T = cal.E - Y
    else:
        nu = cal.nu
        phi = PHI_OFFSET[s.pass_through] + phi_tilde(cal.nu, s.theta)
        Y, T = cal.Y, cal.T
    return Economy(
        E=cal.E,
        Y=Y,
        T=T,
        lam=cal.lam,
        nu=nu,
        phi=phi,
        eps=float(s.eps),
        kappa=float(s.kappa),
        psi=s.psi_value,
        lump_sum=s.revenue_use == "lump_sum",
    )
