"""Equilibrium conditions of Caliendo–Parro (2015) in changes (exact hat algebra).

Small pure functions in the paper's notation. Axis order: ``(n, i, j)`` = (importer,
exporter, sector) for bilateral arrays, ``(n, j)`` for region-by-sector arrays. References are
to Caliendo and Parro (2015), "Estimates of the Trade and Welfare Effects of NAFTA", *Review of
Economic Studies* 82(1), section 3 ("equilibrium in relative changes"); the equations are written
out in ``docs/models/caliendo-parro.md``.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "aggregate_price_index",
    "input_cost",
    "kappa_hat",
    "log_input_cost",
    "price_index",
    "trade_shares",
]


def kappa_hat(tariff_old: np.ndarray, tariff_new: np.ndarray, d_hat: np.ndarray) -> np.ndarray:
    """kappa-hat_{nij} = (1 + tau'_{nij}) / (1 + tau_{nij}) * d-hat_{nij}: change in trade costs."""
    return (1.0 + tariff_new) / (1.0 + tariff_old) * d_hat


def log_input_cost(
    log_w_hat: np.ndarray, log_p_hat: np.ndarray, gamma_va: np.ndarray, gamma_io: np.ndarray
) -> np.ndarray:
    """log c-hat_{nj} = gamma_{nj} log w-hat_n + sum_k gamma_{nkj} log P-hat_{nk} (input bundle cost).

    Caliendo–Parro (2015), change in the cost of the input bundle (section 3.3).
    """
    return gamma_va * log_w_hat[:, None] + np.einsum("nkj,nk->nj", gamma_io, log_p_hat)


def input_cost(
    w_hat: np.ndarray, p_hat: np.ndarray, gamma_va: np.ndarray, gamma_io: np.ndarray
) -> np.ndarray:
    """c-hat_{nj} = w-hat_n^{gamma_{nj}} prod_k P-hat_{nk}^{gamma_{nkj}}, ``(N, J)``."""
    return np.exp(log_input_cost(np.log(w_hat), np.log(p_hat), gamma_va, gamma_io))


def price_index(pi: np.ndarray, kappa: np.ndarray, c_hat: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """P-hat_{nj} = [sum_i pi_{nij} (kappa-hat_{nij} c-hat_{ij})^{-theta_j}]^{-1/theta_j}, ``(N, J)``."""
    return np.einsum("nij,nij->nj", pi, (kappa * c_hat[None, :, :]) ** (-theta)) ** (-1.0 / theta)


def trade_shares(
    pi: np.ndarray, kappa: np.ndarray, c_hat: np.ndarray, p_hat: np.ndarray, theta: np.ndarray
) -> np.ndarray:
    """pi'_{nij} = pi_{nij} (kappa-hat_{nij} c-hat_{ij} / P-hat_{nj})^{-theta_j}, ``(N, N, J)``."""
    return pi * (kappa * c_hat[None, :, :] / p_hat[:, None, :]) ** (-theta)


def aggregate_price_index(p_hat: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """P-hat_n = prod_j P-hat_{nj}^{alpha_{nj}}: change in the consumer price index, ``(N,)``."""
    return np.exp((alpha * np.log(p_hat)).sum(axis=1))
