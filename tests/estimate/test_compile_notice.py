"""The first estimation on a machine says that it is compiling (and later ones do not)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import njit

from kaifang.estimate._compile import MESSAGE, compile_notice
from kaifang.estimate.synthetic import gravity_panel

ROOT = Path(__file__).resolve().parents[2]


def test_notice_fires_once_when_numba_compiles_and_not_for_compiled_code():
    @njit(cache=False)
    def fresh(x):  # a new function: numba must compile it on the first call
        return x * 2.0 + 1.0

    seen: list[str] = []
    with compile_notice(seen.append) as stats:
        fresh(np.ones(3))
        fresh(np.ones(4))  # same types: no new compilation
    assert seen == [MESSAGE]
    assert stats["compiled"] == 1 and stats["seconds"] > 0
    seen.clear()
    with compile_notice(seen.append) as stats:
        fresh(np.ones(5))
    assert seen == [] and stats["compiled"] == 0


@pytest.mark.slow
def test_cli_first_run_on_a_clean_cache_prints_the_notice_then_not(tmp_path):
    """End to end with an empty numba cache: stderr names the compilation; the second run is silent."""
    d = gravity_panel(3_000, n_years=4, seed=2).data
    d.to_csv(tmp_path / "p.csv", index=False)
    spec = tmp_path / "s.toml"
    spec.write_text(
        'name = "tiny"\nregressors = ["rta"]\nfixed_effects = ["exp_year", "imp_year"]\n[data]\nfile = "p.csv"\n'
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"))
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [
        sys.executable,
        "-c",
        "import sys; from kaifang.cli import main; sys.exit(main())",
        "estimate",
        str(spec),
    ]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert f"tiny: {MESSAGE}" in " ".join(first.stderr.split())
    second = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 0, second.stderr
    assert "compiling" not in second.stderr
    assert "rta" in second.stdout
