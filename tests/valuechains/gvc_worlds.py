"""Small tables for the value-chain tests."""

from __future__ import annotations

import numpy as np

from kaifang.baseline import InputOutputTable


def random_table(
    seed: int,
    G: int = 3,
    N: int = 2,
    *,
    balanced: bool = True,
    zero_output: bool = False,
    inventories: bool = False,
    sparse: float = 0.2,
) -> InputOutputTable:
    """A random G x N table: positive flows with some zeros; value added at least 40% of output.

    ``balanced=False`` perturbs gross output by up to 0.5% (within the table's balance check),
    as a rounded published table does; ``zero_output`` gives the last industry of the first
    region no output, inputs or sales; ``inventories`` adds a second final-demand category with
    some negative entries.
    """
    rng = np.random.default_rng(seed)
    n = G * N
    # input coefficients first (each column's inputs at most 60% of output), then output from
    # final demand, so that value added is positive everywhere
    A = rng.uniform(0.0, 1.0, size=(n, n)) * (rng.uniform(size=(n, n)) > sparse)
    A *= rng.uniform(0.1, 0.6, size=n)[None, :] / np.maximum(A.sum(axis=0), 1e-12)[None, :]
    k = 2 if inventories else 1
    Y = rng.uniform(5.0, 40.0, size=(n, G * k))
    if inventories:
        Y[:, 1::2] = rng.uniform(-3.0, 3.0, size=(n, G))
    if zero_output:
        A[N - 1, :] = 0.0
        A[:, N - 1] = 0.0
        Y[N - 1, :] = 0.0
    x = np.linalg.solve(np.eye(n) - A, Y.sum(axis=1))
    x[np.abs(x) < 1e-12] = 0.0
    Z = A * x[None, :]
    if not balanced:
        x = x * (1.0 + rng.uniform(-0.005, 0.005, size=n))
    cats = ("final", "inventories") if inventories else ("final",)
    return InputOutputTable.from_arrays(
        Z,
        Y,
        x,
        regions=[f"R{s}" for s in range(G)],
        sectors=[f"i{j}" for j in range(N)],
        fd_categories=cats,
        dataset="random",
    )
