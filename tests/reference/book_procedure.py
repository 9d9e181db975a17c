"""The Advanced Guide's general-equilibrium procedure, step by step, as published.

A literal re-implementation of the Stata do-files of Yotov et al. (2016), ch. 2
(``TradeWithoutBorder.do``, ``RTAsEffects.do``; their logs are in the book's replication
archive): every GE step is a PPML regression of trade on exporter and importer fixed effects
with the trade costs as an offset (here ``pyfixest.fepois``), the multilateral resistances come
from the fixed effects with the reference country's importer effect set to zero, and the
full-endowment effects come from the book's iterative loop, which stops when the factory-gate
prices move by less than 0.01 between rounds (standard deviation and maximum). It shares no code
with kaifang's solver and is used only by tests.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd


def _ppml_offset(df: pd.DataFrame, y: np.ndarray, offset: np.ndarray, reference: str) -> dict:
    """``ppml y EXPORTER_FE* IMPORTER_FE*, offset(offset) noconst`` (reference importer dropped)."""
    import pyfixest as pf

    d = pd.DataFrame({"y": y, "off": offset, "exporter": df["exporter"].to_numpy(), "importer": df["importer"].to_numpy()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.fepois("y ~ 1 | exporter + importer", d, offset="off", iwls_tol=1e-13, iwls_maxiter=200)
    mu = np.asarray(fit._Y_hat_response).ravel()
    eta = np.log(mu) - offset
    # exp_pi_i * exp_chi_j = exp(eta); the reference importer's effect is 0 (dropped dummy)
    ref = d["importer"].to_numpy() == reference
    pi = pd.Series(eta[ref], index=d["exporter"].to_numpy()[ref])
    chi = pd.Series(eta - pi.reindex(d["exporter"]).to_numpy(), index=d["importer"].to_numpy()).groupby(level=0).mean()
    return {"mu": mu, "exp_pi": np.exp(pi), "exp_chi": np.exp(chi)}


def book_ge(
    df: pd.DataFrame, ln_t_bln: np.ndarray, ln_t_cfl: np.ndarray, *, sigma: float, reference: str, tol: float = 0.01, max_rounds: int = 50
) -> tuple[pd.DataFrame, int]:
    """The book's baseline, conditional and full-endowment GE on one year's square data.

    ``tol`` is the book's stopping threshold (0.01); a small ``tol`` iterates the same loop to
    convergence.

    ``df`` has ``exporter``, ``importer``, ``trade`` (domestic flows included); ``ln_t_*`` are
    ``ln t_ij^(1-sigma)`` in the rows' order. Returns per-country indexes (levels, as the book's
    variables: ``Xi_BLN``, ``Xi_CDL``, ``Xi_FULL``, ``Y_BLN``, ``Y_FULL``, ``OMR_*``, ``IMR_*``
    (raised to 1-sigma), ``change_pricei_FULL``) and the number of loop rounds.
    """
    ex = df["exporter"].to_numpy()
    im = df["importer"].to_numpy()
    trade = df["trade"].to_numpy(dtype=float)
    Y = pd.Series(trade).groupby(ex).sum()
    E = pd.Series(trade).groupby(im).sum()
    E_R = float(E[reference])
    phi = E / Y

    def by_exp(s: pd.Series) -> np.ndarray:
        return s.reindex(ex).to_numpy()

    def by_imp(s: pd.Series) -> np.ndarray:
        return s.reindex(im).to_numpy()

    def xi(mu: np.ndarray) -> pd.Series:
        return pd.Series(np.where(ex != im, mu, 0.0)).groupby(ex).sum()

    bln = _ppml_offset(df, trade, ln_t_bln, reference)
    cdl = _ppml_offset(df, trade, ln_t_cfl, reference)
    OMR_BLN = Y * E_R / bln["exp_pi"]
    IMR_BLN = E / (bln["exp_chi"] * E_R)
    OMR_CDL = Y * E_R / cdl["exp_pi"]
    IMR_CDL = E / (cdl["exp_chi"] * E_R)

    # --- the iterative full-endowment loop (RTAsEffects.do, Step III.b) ---
    exp_pi = {0: bln["exp_pi"], 1: cdl["exp_pi"]}
    E_Rs = {0: E_R, 1: E_R}
    tradehat = {1: cdl["mu"]}
    cp_i = {0: pd.Series(0.0, index=Y.index), 1: ((exp_pi[1] / exp_pi[0]) / (E_Rs[1] / E_Rs[0])) ** (1 / (1 - sigma))}
    OMR = {1: Y * E_R / exp_pi[1]}
    IMR = {1: E / (cdl["exp_chi"] * E_R)}
    cOMR = {1: pd.Series(1.0, index=Y.index)}
    cIMR = {1: pd.Series(1.0, index=Y.index)}
    exp_chi = {1: cdl["exp_chi"]}
    Es = {1: E}
    s = 3
    rounds = 0
    history: list[dict[str, float]] = []
    sd_dif = max_dif = 1.0
    while (sd_dif > tol or max_dif > tol) and rounds < max_rounds:
        s1, s2, s3 = s - 1, s - 2, s - 3
        trade_s = tradehat[s2] * by_exp(cp_i[s2]) * by_imp(cp_i[s2]) / (by_exp(cOMR[s2]) * by_imp(cIMR[s2]))
        fit = _ppml_offset(df, trade_s, ln_t_cfl, reference)
        tradehat[s1] = fit["mu"]
        Y_s = pd.Series(fit["mu"]).groupby(ex).sum()
        Es[s1] = phi * Y_s
        E_Rs[s1] = float(Es[s1][reference])
        exp_pi[s1] = fit["exp_pi"]
        exp_chi[s1] = fit["exp_chi"]
        cp_i[s1] = ((exp_pi[s1] / exp_pi[s2]) / (E_Rs[s1] / E_Rs[s2])) ** (1 / (1 - sigma))
        OMR[s1] = Y_s * E_Rs[s1] / exp_pi[s1]
        cOMR[s1] = OMR[s1] / OMR[s2]
        IMR[s1] = Es[s1] / (exp_chi[s1] * E_Rs[s1])
        cIMR[s1] = IMR[s1] / IMR[s2]
        dif = by_exp(cp_i[s2]) - by_exp(cp_i[s3])  # over all 4761 rows, as in Stata
        sd_dif, max_dif = float(np.std(dif, ddof=1)), float(abs(np.max(dif)))
        history.append(
            {"mean": float(np.mean(dif)), "sd": sd_dif, "min": float(np.min(dif)), "max": float(np.max(dif))}
        )
        s += 1
        rounds += 1
    S = s - 2
    cp_full = ((exp_pi[S] / exp_pi[0]) / (E_Rs[S] / E_Rs[0])) ** (1 / (1 - sigma))
    Y_FULL = cp_full * Y
    E_FULL = phi * Y_FULL
    OMR_FULL = Y_FULL * E_Rs[S] / exp_pi[S]
    IMR_FULL = Es[S] / (exp_chi[S] * E_Rs[S])
    X_FULL = by_exp(Y_FULL) * by_imp(E_FULL) * np.exp(ln_t_cfl) / (by_imp(IMR_FULL) * by_exp(OMR_FULL))
    out = pd.DataFrame(
        {
            "Xi_BLN": xi(bln["mu"]),
            "Xi_CDL": xi(cdl["mu"]),
            "Xi_FULL": xi(X_FULL),
            "Y_BLN": Y,
            "Y_FULL": Y_FULL,
            "Y_LOOP": pd.Series(tradehat[S]).groupby(ex).sum(),
            "change_pricei_FULL": cp_full,
            "OMR_BLN": OMR_BLN,
            "OMR_CDL": OMR_CDL,
            "OMR_FULL": OMR_FULL,
            "IMR_BLN": IMR_BLN,
            "IMR_CDL": IMR_CDL,
            "IMR_FULL": IMR_FULL,
        }
    )
    out.attrs["history"] = history
    return out, rounds
