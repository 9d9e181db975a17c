"""1,000 Monte Carlo draws of the EU-enlargement GE (ge_gravity example, wiod44), solved as one batch.

The partial effect is estimated once (three-way PPML, clustered by pair); 1,000 draws of the
coefficient from its estimated covariance size the shock; all conditional and full-endowment
equilibria are solved at once by ``solve_gravity`` on a ``(1000, 44, 44)`` batch. The time is the
wall-clock time of that batched solve (target: under 10 s). A loop of single solves over the first
50 draws is timed for comparison and the batched results are checked against it.

Run: ``KAIFANG_DATA_MIRROR=/path/to/data PYTHONPATH=src python benchmarks/bench_gravity_mc.py``.
Prints one JSON line.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DRAWS = 1000


def main() -> None:
    warnings.simplefilter("ignore")
    from kaifang.models import run_scenario
    from kaifang.models.gravity.solver import solve_gravity
    from kaifang.scenario import parse_scenario

    text = (ROOT / "scenarios" / "eu-enlargement.toml").read_text().replace("draws = 1000", "draws = 0")
    res = run_scenario(parse_scenario(text, "eu-enlargement.toml"))
    regions = list(res.regions["region"])
    n = len(regions)
    bil = res.tables["bilateral"]
    X = bil["trade_baseline"].to_numpy().reshape(n, n)
    lnB = np.log(bil["partial_effect"].to_numpy().reshape(n, n))
    b = res.provenance["estimation"]["coefficients"]["eu_enlargement"]
    se = res.provenance["estimation"]["std_errors"]["eu_enlargement"]
    dx = lnB / b  # the change of the EU-enlargement dummy (1 for pairs that became EU pairs)
    rng = np.random.default_rng(1)
    draws = rng.normal(b, se, DRAWS)
    Bd = np.exp(draws[:, None, None] * dx[None])
    kw = {"imbalance": "additive", "normalisation": "world_output", "reference": regions.index("DEU")}
    solve_gravity(X, Bd[:2], 5.0, **kw)  # warm-up
    t0 = time.perf_counter()
    batch = solve_gravity(X, Bd, 5.0, **kw)
    t_batch = time.perf_counter() - t0
    k = 50
    t0 = time.perf_counter()
    singles = [solve_gravity(X, Bd[i], 5.0, **kw) for i in range(k)]
    t_loop = (time.perf_counter() - t0) * DRAWS / k
    diff = max(float(np.max(np.abs(batch.full.p_hat[i] / s.full.p_hat - 1))) for i, s in enumerate(singles))
    welfare = (batch.full.E_hat / batch.full.P_hat ** (1 / (1 - 5.0)) - 1) * 100
    lo, hi = np.percentile(welfare, [2.5, 97.5], axis=0)
    doc = {
        "benchmark": "gravity_mc_eu_enlargement",
        "draws": DRAWS,
        "batched_seconds": t_batch,
        "loop_seconds_extrapolated": t_loop,
        "ratio": t_loop / t_batch,
        "under_10s": t_batch < 10.0,
        "iterations": {"conditional": batch.conditional.iterations, "full": batch.full.iterations},
        "batch_vs_single_max_rel_diff": diff,
        "welfare_pct_95ci_HUN": [float(lo[regions.index("HUN")]), float(hi[regions.index("HUN")])],
    }
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
