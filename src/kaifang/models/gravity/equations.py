"""One-sector structural gravity (Armington-CES) in changes ("hat algebra").

Notation (Yotov, Piermartini, Monteiro and Larch 2016, ch. 2, eqs. (1)-(5); Baier, Yotov and
Zylkin 2019, sec. 6). Arrays are ``(exporter i, importer j)``; there are ``N`` countries.

* ``X[i, j]`` baseline flows (domestic flows on the diagonal), ``Y_i = sum_j X_ij`` output,
  ``E_j = sum_i X_ij`` expenditure, ``D_j = E_j - Y_j`` the trade deficit.
* ``B[i, j]`` the partial (direct) effect of the shock on flows, ``(t'_ij / t_ij)^(1-sigma)``;
  for a policy dummy with coefficient ``b`` that changes by ``dx``, ``B = exp(b * dx)``.
* ``Pi_hat``, ``P_hat`` changes of the outward and inward multilateral resistances *raised to
  the power 1 - sigma* (``Pi^(1-sigma)``, ``P^(1-sigma)``); ``p_hat`` change of factory-gate
  prices (output ``Y'_i = p_hat_i Y_i``).

The book writes the system without dividing by world output (``Pi_i^(1-s) = sum_j (t_ij/P_j)^(1-s) E_j``,
``P_j^(1-s) = sum_i (t_ij/Pi_i)^(1-s) Y_i``, ``X_ij = Y_i E_j (t_ij/(Pi_i P_j))^(1-s)``); ``P_j`` is then
the CES price index of country ``j``, normalised to 1 for the reference country.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "acr_welfare",
    "exports_international",
    "factory_gate_price_update",
    "inward_resistance_hat",
    "outward_resistance_hat",
    "price_index_hat",
    "trade_hat",
]


def outward_resistance_hat(XB: np.ndarray, Y: np.ndarray, E_hat: np.ndarray, P_hat: np.ndarray) -> np.ndarray:
    """Change of ``Pi_i^(1-sigma)``: ``sum_j (X_ij / Y_i) B_ij E_hat_j / P_hat_j``.

    Yotov et al. (2016), ch. 2 eq. (3), in changes; ``XB = X * B``. Works on a leading batch axis.
    """
    return np.matmul(XB, (E_hat / P_hat)[..., None])[..., 0] / Y


def inward_resistance_hat(XB: np.ndarray, E: np.ndarray, Y_hat: np.ndarray, Pi_hat: np.ndarray) -> np.ndarray:
    """Change of ``P_j^(1-sigma)``: ``sum_i (X_ij / E_j) B_ij Y_hat_i / Pi_hat_i``.

    Yotov et al. (2016), ch. 2 eq. (4), in changes; ``XB = X * B``.
    """
    return np.matmul((Y_hat / Pi_hat)[..., None, :], XB)[..., 0, :] / E


def price_index_hat(lamB: np.ndarray, p_hat: np.ndarray, sigma: float) -> np.ndarray:
    """CES price index change ``P_hat_j = sum_i lambda_ij B_ij p_hat_i^(1-sigma)`` (power 1-sigma).

    ``lamB = lambda * B`` with import shares ``lambda_ij = X_ij / E_j``. Baier, Yotov and
    Zylkin (2019), sec. 6.
    """
    return np.matmul((p_hat ** (1.0 - sigma))[..., None, :], lamB)[..., 0, :]


def factory_gate_price_update(Pi_hat: np.ndarray, sigma: float) -> np.ndarray:
    """Market clearing ``Y_i = (beta_i p_i Pi_i)^(1-sigma)`` with ``Y'_i = p_i' Q_i``:
    ``p_hat_i = Pi_hat_i^(1/sigma)`` (Yotov et al. 2016, ch. 2 eq. (5) with ``Y = pQ``)."""
    return Pi_hat ** (1.0 / sigma)


def trade_hat(B: np.ndarray, Y_hat: np.ndarray, E_hat: np.ndarray, Pi_hat: np.ndarray, P_hat: np.ndarray) -> np.ndarray:
    """Change of bilateral flows ``X_hat_ij = Y_hat_i E_hat_j B_ij / (Pi_hat_i P_hat_j)`` (ch. 2 eq. (1))."""
    return B * (Y_hat / Pi_hat)[..., :, None] * (E_hat / P_hat)[..., None, :]


def exports_international(X: np.ndarray) -> np.ndarray:
    """Exports excluding domestic sales: ``sum_{j != i} X_ij``."""
    return X.sum(axis=-1) - np.diagonal(X, axis1=-2, axis2=-1)


def acr_welfare(lam_ii_new: np.ndarray, lam_ii: np.ndarray, sigma: float) -> np.ndarray:
    """Arkolakis, Costinot and Rodriguez-Clare (2012): ``W_hat = (lambda'_ii / lambda_ii)^(-1/(sigma-1))``.

    Exact for the full-endowment equilibrium with balanced trade.
    """
    return (lam_ii_new / lam_ii) ** (-1.0 / (sigma - 1.0))
