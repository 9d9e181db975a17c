"""The batched sweep gives the same answers as one solve at a time."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.models.ims2025 import outcome_arrays, solve, sweep

pytestmark = pytest.mark.data


def test_sweep_matches_single_solves(cal, econ, ustr):
    others = [k for k in range(cal.n) if k != cal.us]
    rates = [0.0, 0.1, 0.2, 0.3]
    mats = []
    for r in rates:
        t = ustr.copy()
        t[cal.us, others] = r
        mats.append(t)
    res = sweep(econ, mats)
    assert res.x.shape == (4, 3 * cal.n) and (res.residual <= 1e-10).all()
    for k, t in enumerate(mats):
        one = solve(econ, t)
        np.testing.assert_allclose(res.x[k], one.x, atol=1e-8)
        np.testing.assert_allclose(
            res.outcomes["welfare_pct"][k], outcome_arrays(econ, one.eq)["welfare_pct"], atol=1e-8
        )
