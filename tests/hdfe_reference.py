"""Reference computations for the fixed-effect kernels, written with numpy (``from hdfe_reference import ...``)."""

from __future__ import annotations

import numpy as np


def sweep_reference(fe, w, S, inv_w, a_in):
    """Block Gauss-Seidel sweep written with numpy: each dimension in turn."""
    a = a_in.copy()
    cg = fe.cg.astype(np.int64)
    for d in range(fe.n_dims):
        others = sum(a[cg[e]] for e in range(fe.n_dims) if e != d)
        acc = np.zeros_like(a)
        np.add.at(acc, cg[d], w[:, None] * others)
        lo, hi = fe.bounds[d], fe.bounds[d + 1]
        a[lo:hi] = (S[lo:hi] - acc[lo:hi]) * inv_w[lo:hi, None]
    return a
