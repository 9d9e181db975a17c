"""Seeded synthetic gravity panels with known coefficients (for tests and benchmarks).

The data-generating process is a structural-gravity panel (Yotov et al. 2016, ch. 1, eq. 1-4
in PPML form)::

    E[X_ijt] = exp(b_rta * rta_ijt + b_tariff * ln(1 + tariff_ijt) + b_x1 * x1_ijt
                   + b_x2 * x2_ijt + pi_it + chi_jt + mu_ij)

with exporter-year ``pi``, importer-year ``chi`` and pair effects ``mu`` (the pair effect
includes ``-1 * ln dist``). The observed flow is ``X = 0`` with probability ``zero_share`` and
otherwise ``E[X] / (1 - zero_share)`` times a mean-one gamma draw, so the conditional mean is
exactly the one above at any share of zeros and PPML is consistent for the true coefficients
(Santos Silva and Tenreyro 2006).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from kaifang.errors import UserInputError

#: true coefficients used unless others are given
TRUE_COEF: dict[str, float] = {"rta": 0.30, "ln_tariff": -4.0, "x1": 0.10, "x2": -0.05}


@dataclass(frozen=True)
class SyntheticPanel:
    """A synthetic gravity panel and the truth behind it.

    Attributes
    ----------
    data
        One row per (exporter, importer, year): integer columns ``exporter``, ``importer``,
        ``year``, ``pair``, ``exp_year``, ``imp_year`` (codes of the fixed-effect groups), the
        flow ``trade``, the regressors ``rta``, ``ln_tariff``, ``x1``, ``x2`` and ``ln_dist``.
    coef
        True coefficients of the regressors.
    mean
        ``E[trade]`` for every row (the model's conditional mean).
    seed, zero_share
        How the panel was drawn.
    """

    data: pd.DataFrame
    coef: dict[str, float]
    mean: np.ndarray
    seed: int
    zero_share: float


def gravity_panel(
    n_rows: int = 20_000,
    *,
    n_years: int = 10,
    zero_share: float = 0.0,
    seed: int = 0,
    coef: dict[str, float] | None = None,
    dispersion: float = 1.0,
    profile: Literal["simple", "agtpa"] = "simple",
) -> SyntheticPanel:
    """Draw a gravity panel of about ``n_rows`` rows (exactly ``n_rows`` when possible).

    Parameters
    ----------
    n_rows
        Rows wanted (thousands to tens of millions). Countries are chosen so that
        ``countries * (countries - 1) * n_years >= n_rows``; the panel is then cut to
        ``n_rows`` whole (exporter, importer) pairs' worth of rows, keeping every year of a pair.
    n_years
        Years per pair.
    zero_share
        Probability that a flow is zero, in ``[0, 1)``.
    seed
        Seed of the numpy random generator (same seed, same panel).
    coef
        True coefficients for ``rta``, ``ln_tariff``, ``x1``, ``x2`` (defaults in ``TRUE_COEF``).
    dispersion
        Variance of the multiplicative gamma noise (0 gives ``trade = E[trade]`` when
        ``zero_share = 0``).

    profile
        ``"simple"``: countries of similar size (country-year effects with standard deviation
        about 1), pair effects ``-ln dist + N(0, 0.5)``, zeros at random. ``"agtpa"``: moments
        of the Advanced Guide panel (Yotov et al. 2016; 69 countries, 1986-2006), from
        kaifang's PPML fit with exporter-year, importer-year and pair effects on its
        international flows: exporter-year effects with standard deviation 2.35, importer-year
        2.0 x 0.89 (1.79), correlated 0.93 through country size; pair effects with standard
        deviation 1.48 (distance plus N(0, 1.35)); zeros where the mean is small, as in real
        trade (``P(X = 0) = exp(-E[X] / kappa)`` with ``kappa`` set to give ``zero_share``; the
        positive flows are scaled by ``1 / (1 - P(X = 0))`` so ``E[X]`` is unchanged). Real
        gravity data have that spread of country sizes; it makes the weighted fixed-effect
        problem much harder to solve than the simple profile.

    Returns
    -------
    SyntheticPanel
    """
    if n_rows < 4 * n_years or n_years < 1:
        raise UserInputError(
            f"gravity_panel needs n_years >= 1 and n_rows >= 4 * n_years, got n_rows={n_rows}, n_years={n_years}."
        )
    if profile not in ("simple", "agtpa"):
        raise UserInputError(f"profile must be 'simple' or 'agtpa', got {profile!r}.")
    if not 0.0 <= zero_share < 1.0:
        raise UserInputError(f"zero_share must be in [0, 1), got {zero_share}.")
    c = dict(TRUE_COEF)
    if coef:
        unknown = set(coef) - set(c)
        if unknown:
            raise UserInputError(f"unknown coefficient(s) {sorted(unknown)}; valid: {sorted(c)}.")
        c.update(coef)
    rng = np.random.default_rng(seed)
    n_pairs_wanted = -(-n_rows // n_years)
    n_c = int(np.ceil((1 + np.sqrt(1 + 4 * n_pairs_wanted)) / 2))
    while n_c * (n_c - 1) < n_pairs_wanted:
        n_c += 1
    # pairs: a random subset of the ordered pairs (i != j), all years for each
    all_pairs = n_c * (n_c - 1)
    chosen = np.sort(rng.choice(all_pairs, size=n_pairs_wanted, replace=False))
    exp_c = (chosen // (n_c - 1)).astype(np.int32)
    rest = (chosen % (n_c - 1)).astype(np.int32)
    imp_c = rest + (rest >= exp_c)
    n_pairs = chosen.shape[0]
    # geography and pair-level variables
    coords = rng.uniform(0, 100, size=(n_c, 2))
    dist = np.hypot(*(coords[exp_c] - coords[imp_c]).T) + 1.0
    ln_dist = np.log(dist * 100.0)
    pair_sd = 1.35 if profile == "agtpa" else 0.5
    pair_effect = -1.0 * ln_dist + rng.normal(0.0, pair_sd, n_pairs)
    rta_start = np.where(rng.random(n_pairs) < 0.4, rng.integers(0, n_years + 1, n_pairs), n_years + 1)
    tariff0 = rng.uniform(0.0, 0.25, n_pairs)
    # country-year effects: size trends plus noise
    size_sd, chi_scale = (2.35, 0.76) if profile == "agtpa" else (1.0, 0.5)
    size = rng.normal(0.0, size_sd, n_c)
    growth = rng.normal(0.02, 0.02, n_c)
    years = np.arange(n_years, dtype=np.int32)
    pi = size[:, None] + growth[:, None] * years[None, :] + rng.normal(0.0, 0.1, (n_c, n_years))
    chi = chi_scale * size[:, None] + rng.normal(0.0, 0.1 if profile == "simple" else 0.7, (n_c, n_years))
    # panel rows: pair-major, years inner
    n = n_pairs * n_years
    pair = np.repeat(np.arange(n_pairs, dtype=np.int32), n_years)
    year = np.tile(years, n_pairs)
    exporter = exp_c[pair]
    importer = imp_c[pair]
    rta = (year >= rta_start[pair]).astype(np.float64)
    tariff = np.clip(tariff0[pair] * (1.0 - 0.05 * year) * (1.0 - rta) + rng.normal(0, 0.01, n), 0.0, None)
    ln_tariff = np.log1p(tariff)
    x1 = rng.normal(0.0, 1.0, n)
    x2 = 0.3 * x1 + rng.normal(0.0, 1.0, n)
    eta = (
        c["rta"] * rta
        + c["ln_tariff"] * ln_tariff
        + c["x1"] * x1
        + c["x2"] * x2
        + pi[exporter, year]
        + chi[importer, year]
        + pair_effect[pair]
        + 12.0
    )
    mean = np.exp(eta)
    if dispersion > 0:
        shape = 1.0 / dispersion
        noise = rng.gamma(shape, 1.0 / shape, n)
    else:
        noise = np.ones(n)
    trade = mean * noise
    if zero_share > 0 and profile == "agtpa":
        p0 = _zero_probabilities(mean, zero_share)
        positive = rng.random(n) >= p0
        trade = np.where(positive, trade / (1.0 - p0), 0.0)
    elif zero_share > 0:
        positive = rng.random(n) >= zero_share
        trade = np.where(positive, trade / (1.0 - zero_share), 0.0)
    data = pd.DataFrame(
        {
            "exporter": exporter,
            "importer": importer,
            "year": year,
            "pair": pair,
            "exp_year": exporter * n_years + year,
            "imp_year": importer * n_years + year,
            "trade": trade,
            "rta": rta,
            "ln_tariff": ln_tariff,
            "x1": x1,
            "x2": x2,
            "ln_dist": ln_dist[pair],
        }
    )
    if n > n_rows:
        data = data.iloc[:n_rows].reset_index(drop=True)
        mean = mean[:n_rows]
    return SyntheticPanel(data=data, coef=c, mean=mean, seed=seed, zero_share=zero_share)


def _zero_probabilities(mean: np.ndarray, share: float) -> np.ndarray:
    """``P(X = 0) = min(exp(-E[X] / kappa), 0.99)`` with ``kappa`` such that the average is ``share``."""
    lo, hi = np.log(mean.min()) - 5.0, np.log(mean.max()) + 5.0
    for _ in range(100):  # bisection on log kappa; the average rises with kappa
        mid = 0.5 * (lo + hi)
        avg = float(np.minimum(np.exp(-mean / np.exp(mid)), 0.99).mean())
        lo, hi = (lo, mid) if avg > share else (mid, hi)
    return np.minimum(np.exp(-mean / np.exp(0.5 * (lo + hi))), 0.99)
