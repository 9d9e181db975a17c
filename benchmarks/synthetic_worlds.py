"""Synthetic multi-sector worlds of any size for benchmarks (gravity-shaped, not real data).

``gravity_world(n, j)`` draws region sizes from a log-normal, bilateral trade costs from
distances on a plane, and flows ``X_nij ∝ size_n size_i d_ni^-theta_j`` with a home bias, plus
random input-output coefficients, value-added shares, tariffs and unbalanced trade; the last
``max(1, j // 4)`` sectors are non-traded, like services in GTAP-style aggregations.
"""

from __future__ import annotations

import numpy as np

from kaifang.baseline import from_raw
from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.data.cp2015 import RawMultiSector


def gravity_world(n: int, j: int, seed: int = 0, *, tariffs: bool = True) -> MultiSectorBaseline:
    """A synthetic ``n`` regions x ``j`` sectors world in the Caliendo–Parro layout."""
    rng = np.random.default_rng(seed)
    jt = j - max(1, j // 4) if j > 1 else 1
    size = rng.lognormal(0.0, 1.2, size=n)
    xy = rng.uniform(0.0, 10.0, size=(n, 2))
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)) + 1.0
    theta = rng.uniform(2.0, 10.0, size=j)
    imports = np.zeros((n, n, j))
    for s in range(jt):
        flows = np.outer(size, size) * dist ** (-theta[s] / 4) * rng.lognormal(0, 0.5, size=(n, n))
        np.fill_diagonal(flows, 0.0)
        imports[:, :, s] = flows
    go = imports.sum(axis=0) * rng.uniform(1.5, 4.0, size=(n, j)) + size[:, None] * rng.uniform(
        0.5, 2, (n, j)
    )
    tariff = np.zeros((n, n, j))
    if tariffs:
        tariff[:, :, :jt] = rng.uniform(0.0, 0.15, size=(n, n, jt))
        tariff[np.arange(n), np.arange(n)] = 0.0
    beta = rng.uniform(0.3, 0.7, size=(n, j))
    coef = rng.dirichlet(np.ones(j) * 0.5, size=(n, j)).transpose(0, 2, 1)
    raw = RawMultiSector(
        dataset="synthetic",
        regions=tuple(f"R{k:03d}" for k in range(n)),
        sectors=tuple(f"S{k:02d}" for k in range(j)),
        imports=imports,
        tariff=tariff,
        gross_output=go,
        va_share=beta,
        io=np.ascontiguousarray(coef),
        theta=theta,
        tradable=np.arange(j) < jt,
        files={},
        synthetic=True,
    )
    return from_raw(raw)
