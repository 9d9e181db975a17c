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
    """A random G x N table: positive flows with some zeros; value added most of output.

    ``balanced=False`` perturbs gross output by up to 0.5% (within the table's balance check),
    as a rounded published table does; ``zero_output`` gives the last industry of the first
    region no output, inputs or sales; ``inventories`` adds a second final-demand category with
    some negative entries.
    """
    rng = np.random.default_rng(seed)
    n = G * N
    Z = rng.uniform(0.0, 10.0, size=(n, n)) * (rng.uniform(size=(n, n)) > sparse)
    k = 2 if inventories else 1
    Y = rng.uniform(5.0, 40.0, size=(n, G * k))
    if inventories:
        Y[:, 1::2] = rng.uniform(-3.0, 3.0, size=(n, G))
    if zero_output:
        Z[N - 1, :] = 0.0
        Z[:, N - 1] = 0.0
        Y[N - 1, :] = 0.0
    rows = Z.sum(axis=1) + Y.sum(axis=1)
    # intermediate inputs (about 4N per column) stay well below output (about 4N + 22 G k)
    x = rows.copy()
    if not balanced:
        x = x * (1.0 + rng.uniform(-0.005, 0.005, size=n))
        if zero_output:
            x[N - 1] = 0.0
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
