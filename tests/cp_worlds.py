"""Random small multi-sector worlds for property tests (consistent equilibria)."""

from __future__ import annotations

import numpy as np

from kaifang.baseline import from_raw
from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.data.cp2015 import RawMultiSector
from kaifang.models.caliendo_parro import solve


def random_raw(seed: int, n: int, j: int, *, io: bool = True, tariffs: bool = True) -> RawMultiSector:
    """A random raw world: positive flows, shares consistent, unbalanced trade."""
    rng = np.random.default_rng(seed)
    jt = max(1, j - 1) if j > 1 else 1  # the last sector is non-traded when there are several
    imports = np.zeros((n, n, j))
    imports[:, :, :jt] = rng.uniform(0.5, 3.0, size=(n, n, jt))
    for r in range(n):
        imports[r, r] = 0.0
    go = imports.sum(axis=0) + rng.uniform(5.0, 20.0, size=(n, j))
    tariff = np.zeros((n, n, j))
    if tariffs:
        tariff[:, :, :jt] = rng.uniform(0.0, 0.3, size=(n, n, jt))
        for r in range(n):
            tariff[r, r] = 0.0
    if io:
        beta = rng.uniform(0.3, 0.8, size=(n, j))
        coef = rng.dirichlet(np.ones(j), size=(n, j)).transpose(0, 2, 1)
    else:
        beta = np.ones((n, j))
        coef = np.zeros((n, j, j))
    return RawMultiSector(
        dataset="random",
        regions=tuple(f"R{k}" for k in range(n)),
        sectors=tuple(f"S{k}" for k in range(j)),
        imports=imports,
        tariff=tariff,
        gross_output=go,
        va_share=beta,
        io=np.ascontiguousarray(coef),
        theta=rng.uniform(2.0, 10.0, size=j),
        tradable=np.arange(j) < jt,
        files={},
    )


def random_world(seed: int, n: int, j: int, *, deficits: str = "keep", **kw: bool) -> MultiSectorBaseline:
    """A random world moved to its equilibrium (deficits kept or set to zero)."""
    b = from_raw(random_raw(seed, n, j, **kw))
    d = (
        np.zeros(n)
        if deficits == "zero"
        else b.deficit - b.deficit.sum() * b.value_added / b.value_added.sum()
    )
    return solve(b, b.tariff, None, d).to_baseline()


def independent_real_income(e) -> np.ndarray:
    """(I'/I) / P-hat recomputed from the equilibrium's arrays (no kaifang welfare code)."""
    b = e.baseline
    x0 = b.shares * b.expenditure[:, None, :] / (1.0 + b.tariff)
    x1 = e.shares * e.expenditure[:, None, :] / (1.0 + e.tariff_new)
    income = []
    for x, tau, deficit in ((x0, b.tariff, b.deficit), (x1, e.tariff_new, e.deficit_new)):
        value_added = (b.gamma_va * x.sum(axis=0)).sum(axis=1)  # labour demand sum_j gamma_nj Y_nj
        revenue = (tau * x).sum(axis=(1, 2))
        income.append(value_added + revenue + deficit)
    p_hat = np.exp((b.alpha * np.log(e.p_hat)).sum(axis=1))
    return income[1] / income[0] / p_hat
