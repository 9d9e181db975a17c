"""The SYNTHETIC demo world (data set ``demo``): generated here, deterministically, offline.

Five made-up regions with user-assigned ISO-style codes (``XAA`` ... ``XEE``; no real country
has an X code) and four sectors, the last a non-traded service. Flows are positive, cost
shares consistent (value-added plus input shares sum to one), trade is unbalanced (non-zero
deficits). It is illustrative only: every output made from it is labelled synthetic.
"""

from __future__ import annotations

import hashlib

import numpy as np

from kaifang.data.cp2015 import RawMultiSector

__all__ = ["REGIONS", "SECTORS", "SEED", "generate"]

REGIONS: tuple[str, ...] = ("XAA", "XBB", "XCC", "XDD", "XEE")
SECTORS: tuple[str, ...] = ("Farming", "Metals", "Machinery", "Services")
SEED = 2015


def generate(seed: int = SEED) -> RawMultiSector:
    """Generate the demo world's raw tables (same layout as :func:`kaifang.data.cp2015.read_cp2015`).

    Parameters
    ----------
    seed
        Seed of the random generator; the default gives the registered ``demo`` world.

    Returns
    -------
    RawMultiSector
        With ``synthetic=True``; ``files`` holds one pseudo-entry, the SHA-256 of the generated
        arrays, so provenance can tell two demo worlds apart.
    """
    rng = np.random.default_rng(seed)
    n, j, jt = len(REGIONS), len(SECTORS), 3
    size = np.array([8.0, 5.0, 3.0, 2.0, 1.0]) * 1e9  # "GDP" scale, USD
    pos = rng.uniform(0, 10, size=(n, 2))
    dist = 1.0 + np.sqrt(((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1))
    push = np.array([1.8, 0.6, 1.3, 0.5, 1.0])  # exporter propensities: unbalanced trade
    imports = np.zeros((n, n, j))
    for s in range(jt):
        grav = (
            0.25
            * np.outer(size, size)
            / size.sum()
            / dist
            * push[None, :]
            * rng.uniform(0.5, 1.5, size=(n, n))
        )
        np.fill_diagonal(grav, 0.0)
        imports[:, :, s] = grav
    exports = imports.sum(axis=0)
    domestic = size[:, None] * np.array([0.4, 0.4, 0.5, 1.6])[None, :] * rng.uniform(0.8, 1.2, size=(n, j))
    gross_output = exports + domestic
    tariff = np.zeros((n, n, j))
    tariff[:, :, :jt] = rng.choice([0.0, 0.02, 0.05, 0.08, 0.12], size=(n, n, jt))
    for r in range(n):
        tariff[r, r] = 0.0
    va_share = rng.uniform(0.35, 0.6, size=(n, j))
    io = rng.dirichlet(np.array([1.0, 1.0, 1.0, 4.0]), size=(n, j)).transpose(
        0, 2, 1
    )  # io[n, k, j], columns sum to 1
    theta = np.array([8.0, 6.0, 4.0, 5.0])
    digest = hashlib.sha256()
    for arr in (imports, tariff, gross_output, va_share, io, theta):
        digest.update(np.ascontiguousarray(arr).tobytes())
    return RawMultiSector(
        dataset="demo",
        regions=REGIONS,
        sectors=SECTORS,
        imports=imports,
        tariff=tariff,
        gross_output=gross_output,
        va_share=va_share,
        io=np.ascontiguousarray(io),
        theta=theta,
        tradable=np.arange(j) < jt,
        files={f"generated(seed={seed})": digest.hexdigest()},
        synthetic=True,
    )
