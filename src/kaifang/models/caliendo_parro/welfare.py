"""Welfare and its decomposition into terms of trade and volume of trade.

Caliendo and Parro (2015), section 4 (welfare effects of tariff changes, their Table 2 of the
NAFTA results), as written out in ``shared/models/cp2015.md``. With levels from the baseline
``b`` (imports M_{nij} of n from i at producer prices, exports E_{nij} = M_{inj}, tariffs
tau_{nij}, income I_n) and input-cost changes c-hat of the counterfactual ``e``:

* terms of trade  ToT_{nij} = [E_{nij}(c-hat_{nj} - 1) - M_{nij}(c-hat_{ij} - 1)] / I_n;
* volume of trade VoT_{nij} = tau_{nij} (M'_{nij} - c-hat_{ij} M_{nij}) / I_n;
* welfare = sum_{i,j} (ToT_{nij} + VoT_{nij}) (the paper's first-order measure).

The terms of these sums are the bilateral (over j) and sectoral (over i) contributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kaifang.models.caliendo_parro.solver import Equilibrium

__all__ = ["WelfareDecomposition", "decompose", "terms_of_trade", "volume_of_trade"]


def terms_of_trade(flows: np.ndarray, c_hat: np.ndarray, income: np.ndarray) -> np.ndarray:
    """ToT_{nij} = [E_{nij}(c-hat_{nj} - 1) - M_{nij}(c-hat_{ij} - 1)] / I_n, ``(N, N, J)``.

    ``flows[n, i, j]`` = M_{nij} (imports of n from i at producer prices); E_{nij} = M_{inj}.
    """
    exports = flows.transpose(1, 0, 2)
    tot = exports * (c_hat[:, None, :] - 1.0) - flows * (c_hat[None, :, :] - 1.0)
    return tot / income[:, None, None]


def volume_of_trade(
    flows: np.ndarray, flows_new: np.ndarray, tariff: np.ndarray, c_hat: np.ndarray, income: np.ndarray
) -> np.ndarray:
    """VoT_{nij} = tau_{nij} (M'_{nij} - c-hat_{ij} M_{nij}) / I_n, ``(N, N, J)``."""
    return tariff * (flows_new - c_hat[None, :, :] * flows) / income[:, None, None]


def technical_efficiency(
    flows: np.ndarray, tariff: np.ndarray, d_hat: np.ndarray, income: np.ndarray
) -> np.ndarray:
    """-M_{nij}(1 + tau_{nij})(d-hat_{nij} - 1) / I_n: the iceberg-cost term, ``(N, N, J)``."""
    return -flows * (1.0 + tariff) * (d_hat - 1.0) / income[:, None, None]


@dataclass(frozen=True)
class WelfareDecomposition:
    """Terms of the decomposition, as fractions (not percent), each ``(N, N, J)``."""

    tot: np.ndarray
    vot: np.ndarray
    efficiency: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """Welfare change by region: sum of all terms, ``(N,)``."""
        return (self.tot + self.vot + self.efficiency).sum(axis=(1, 2))


def decompose(e: Equilibrium) -> WelfareDecomposition:
    """Decompose the welfare change of ``e`` relative to its baseline."""
    b = e.baseline
    income = b.income
    return WelfareDecomposition(
        tot=terms_of_trade(b.flows, e.c_hat, income),
        vot=volume_of_trade(b.flows, e.flows, b.tariff, e.c_hat, income),
        efficiency=technical_efficiency(b.flows, b.tariff, e.d_hat, income),
    )
