"""A fit's freed working arrays are kept for the next step (glibc's thresholds, set once).

Why this is the right check: the kernel's count of minor page faults of the process (getrusage)
is independent of kaifang; without the setting, every fit maps and zeroes its working arrays
afresh (thousands of faults a fit), with it a repeated fit faults (almost) never.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

GLIBC = sys.platform.startswith("linux") and os.confstr("CS_GNU_LIBC_VERSION") is not None
pytestmark = pytest.mark.skipif(not GLIBC, reason="the allocator setting applies to Linux with glibc only")

SCRIPT = textwrap.dedent(
    """
    import json, resource
    from kaifang.estimate.hdfe import ppml_hdfe
    from kaifang.estimate.hdfe._memory import keep_freed_memory
    from kaifang.estimate.synthetic import gravity_panel

    warm = gravity_panel(3_000, n_years=5, seed=1).data
    d = gravity_panel(200_000, n_years=20, zero_share=0.0, seed=2026, profile="simple").data

    def fit(d):  # the columns converted at every call, as a user's script (and the benchmark) does
        return ppml_hdfe(d["trade"].to_numpy(), d[["rta", "ln_tariff", "x1", "x2"]].to_numpy(),
                         [d[f].to_numpy() for f in ("exp_year", "imp_year", "pair")],
                         cluster=d["pair"].to_numpy(), separation=("fe",))

    fit(warm)
    fit(d)
    faults = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        fit(d)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(json.dumps({"set": keep_freed_memory(), "faults": faults}))
    """
)


def _run(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "KAIFANG_MALLOC"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env={**clean, **env}, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_repeated_fit_maps_no_fresh_memory():
    got = _run()
    assert got["set"] is True
    assert max(got["faults"]) < 200, got  # 200,000 rows: ~5,900 faults a fit without the setting


def test_kaifang_malloc_default_leaves_glibc_alone():
    got = _run(KAIFANG_MALLOC="default")
    assert got["set"] is False
    assert min(got["faults"]) > 1_000, got  # the faults the setting removes


def test_a_users_own_malloc_variable_wins():
    assert _run(MALLOC_ARENA_MAX="2")["set"] is False
