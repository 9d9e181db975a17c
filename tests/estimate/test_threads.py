"""The PPML engine's thread choice: a pure function of problem size, cores and load; settings.

No timings here: the rule is checked on its inputs, and the estimates are checked not to
depend on the thread count.
"""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import UserInputError
from kaifang.estimate.hdfe import choose_threads, ppml_hdfe
from kaifang.estimate.hdfe._threads import ENV_VAR, MIN_PARALLEL_ROWS, resolve_threads
from kaifang.estimate.synthetic import gravity_panel


def test_small_problems_use_one_thread_whatever_the_machine():
    for cpus, load in [(2, 0.0), (16, 0.0), (64, 1.0)]:
        assert choose_threads(28_566, cpus=cpus, load=load, limit=8) == 1
        assert choose_threads(MIN_PARALLEL_ROWS - 1, cpus=cpus, load=load, limit=8) == 1


def test_large_problems_use_the_idle_cores_only():
    n = 1_000_000
    assert choose_threads(n, cpus=2, load=0.0, limit=8) == 2
    assert choose_threads(n, cpus=2, load=0.4, limit=8) == 2  # 1.6 idle cores round to 2
    assert choose_threads(n, cpus=2, load=1.0, limit=8) == 1  # another process holds a core
    assert choose_threads(n, cpus=2, load=3.7, limit=8) == 1  # saturated: never fewer than one
    assert choose_threads(n, cpus=16, load=5.2, limit=8) == 8  # capped by the limit
    assert choose_threads(n, cpus=16, load=10.0, limit=8) == 6
    assert choose_threads(n, cpus=16, load=0.0, limit=1) == 1  # numba allows one thread only


def test_explicit_setting_wins_over_the_automatic_choice(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert resolve_threads(None, 1_000) == 1
    assert resolve_threads(1, 10_000_000) == 1
    monkeypatch.setenv(ENV_VAR, "1")
    assert resolve_threads(None, 10_000_000) == 1
    monkeypatch.setenv(ENV_VAR, "auto")
    assert resolve_threads(None, 1_000) == 1


@pytest.mark.parametrize("bad", [0, -2, "two", 1.5, True])
def test_bad_thread_counts_are_user_errors(bad, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(UserInputError, match=r"threads has value .*give a positive number of threads"):
        resolve_threads(bad, 1_000)


def test_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "many")
    with pytest.raises(UserInputError, match=rf"environment variable {ENV_VAR} has value 'many'"):
        resolve_threads(None, 1_000)


def test_estimates_do_not_depend_on_the_thread_count():
    """One and two threads (rows split in two blocks) give the same fit to rounding."""
    d = gravity_panel(20_000, n_years=5, seed=11, zero_share=0.2).data
    args = (
        d["trade"].to_numpy(),
        d[["rta", "ln_tariff", "x1", "x2"]].to_numpy(),
        [d[f].to_numpy() for f in ("exp_year", "imp_year", "pair")],
    )
    one = ppml_hdfe(*args, cluster=d["pair"].to_numpy(), threads=1)
    two = ppml_hdfe(*args, cluster=d["pair"].to_numpy(), threads=2)
    assert one.diagnostics["threads"] == 1
    assert two.diagnostics["threads"] >= 1  # capped at numba's pool on a one-core machine
    np.testing.assert_allclose(two.coef, one.coef, rtol=1e-9)
    np.testing.assert_allclose(two.se, one.se, rtol=1e-7)
