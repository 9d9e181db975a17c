"""The shared fixed-point toolkit: Anderson acceleration, diagnostics and failures."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import ConvergenceError
from kaifang.models._solver import anderson


def test_linear_contraction_converges_to_the_exact_fixed_point():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, size=(30, 30))
    a *= 0.95 / np.max(np.abs(np.linalg.eigvals(a)))  # spectral radius 0.95: slow for plain iteration
    b = rng.uniform(size=30)
    exact = np.linalg.solve(np.eye(30) - a, b)
    out = anderson(lambda x: a @ x + b, np.zeros(30), tol=1e-12, max_iter=500, memory=30)
    np.testing.assert_allclose(out.x, exact, rtol=1e-9)
    assert out.diagnostics.converged and out.diagnostics.iterations < 60
    plain = anderson(lambda x: a @ x + b, np.zeros(30), tol=1e-12, max_iter=5000, memory=0)
    assert plain.diagnostics.iterations > out.diagnostics.iterations


def test_max_iter_message_and_attributes():
    with pytest.raises(
        ConvergenceError,
        match=r"did not converge: .* after 3 iterations with residual .* > tol 1e-12\. fix it",
    ) as exc:
        anderson(lambda x: 0.5 * x + 1, np.zeros(2), tol=1e-12, max_iter=3, memory=0, hint="fix it")
    assert exc.value.iterations == 3 and exc.value.residual > 1e-12


def test_non_finite_map_at_the_start_is_an_error():
    with pytest.raises(ConvergenceError, match=r"non-finite value at iteration 1"):
        anderson(lambda x: np.log(x - 5), np.zeros(2), tol=1e-10, max_iter=10)
