"""Test-only models for the web app's job tests (registered in RUNNERS by the tests that use them).

``slow_test`` runs for ``[parameters] seconds`` (sending progress messages) so a test can cancel
it while it runs; ``[parameters] crash = true`` raises an internal error carrying a made-up
secret so a test can check it never reaches the browser; ``allocate_gb = X`` allocates X GB
(an oversized run); ``pid_to = PATH`` writes the solving process's id to PATH.
"""

from __future__ import annotations

import os
import time

import pandas as pd

from kaifang.results import RunResult
from kaifang.scenario import Scenario

SECRET = "SECRET-DETAIL-/etc/kaifang-internal"


def run(scenario: Scenario, progress) -> RunResult:
    progress("step 0")  # a model announces its work before it solves (where validation stops)
    pid_file = scenario.parameters.get("pid_to")
    if pid_file:  # tell the test which process solves (to check it was terminated)
        with open(pid_file, "w") as fh:
            fh.write(str(os.getpid()))
    if scenario.parameters.get("crash"):
        raise RuntimeError(SECRET)
    if scenario.parameters.get("allocate_gb"):  # an oversized run: more memory than a worker may use
        import numpy as np

        block = np.ones(int(float(scenario.parameters["allocate_gb"]) * 2**30 // 8))
        del block
    seconds = float(scenario.parameters.get("seconds", 30))
    t0 = time.monotonic()
    step = 0
    while time.monotonic() - t0 < seconds:
        progress(f"step {step}")
        step += 1
        time.sleep(0.05)
    regions = pd.DataFrame({"region": ["XAA", "XBB"], "welfare_pct": [0.0, 0.0]})
    return RunResult(
        model="slow_test",
        scenario=scenario.name,
        regions=regions,
        diagnostics={"converged": True, "iterations": step, "residual": 0.0, "solve_seconds": seconds},
        provenance={
            "dataset": scenario.dataset,
            "scenario_sha256": scenario.sha256,
            "scenario_text": scenario.text,
        },
        synthetic=True,
    )
