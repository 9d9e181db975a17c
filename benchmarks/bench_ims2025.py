"""Benchmark of the ims2025 solver against a general root finder, and a 1,000-vector sweep.

Reference (the peer): ``scipy.optimize.root(method="lm")`` from a unit start on the paper's 582
residuals in levels with a finite-difference Jacobian -- the kind of solver the paper's
replication code uses. kaifang: Newton on (log w_hat, log L_hat) with the exact Jacobian and
E_hat in closed form (``kaifang.models.ims2025.solve``), and warm-started chord/Newton steps for
sweeps (``kaifang.models.ims2025.sweep``).

Run (data mirror or cache needed)::

    KAIFANG_DATA_MIRROR=/path/to/mirror PYTHONPATH=src python benchmarks/bench_ims2025.py [--sweep 1000]

Prints one JSON line per case: times in seconds, the speed ratio, and the largest difference
between the two solutions. Both solvers share the process and its BLAS settings: one BLAS
thread unless ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS`` are set (on a busy shared machine,
multi-threaded BLAS on 388 x 388 systems mostly fights over cores; the reference, whose time is in
Python residual evaluations and MINPACK, is not affected).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from kaifang.data import liberation2025 as lib  # noqa: E402
from kaifang.models.ims2025 import (  # noqa: E402
    ModelSettings,
    build_economy,
    calibrate,
    solve,
    solve_reference,
    sweep,
)
from kaifang.models.ims2025.policy import optimal_tariff, reciprocal_retaliation, ustr_tariffs  # noqa: E402


def _best_of(f, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", type=int, default=1000, help="number of tariff vectors in the sweep case")
    ap.add_argument("--repeat", type=int, default=3, help="kaifang solves are timed best of this many")
    args = ap.parse_args()

    data = lib.load()
    cal = calibrate(data.trade, data.gdp, data.regions)
    us = cal.us
    ustr = ustr_tariffs(data.tariffs, us)
    cases = {
        "ustr_income_tax_relief": (ModelSettings(), ustr),
        "ustr_lump_sum": (ModelSettings(revenue_use="lump_sum"), ustr),
        "reciprocal_retaliation": (ModelSettings(), reciprocal_retaliation(ustr, us, range(cal.n))),
    }
    bench = build_economy(cal, ModelSettings())
    cases["optimal_us_tariff"] = (ModelSettings(), optimal_tariff(np.zeros_like(ustr), bench, us))
    ref_times = []
    for name, (settings, t) in cases.items():
        econ = build_economy(cal, settings)
        t_ref, ref = _best_of(lambda econ=econ, t=t: solve_reference(econ, t), 1)
        t_new, new = _best_of(lambda econ=econ, t=t: solve(econ, t), args.repeat)
        ref_times.append(t_ref)
        print(
            json.dumps(
                {
                    "case": name,
                    "unknowns": 3 * cal.n,
                    "reference": "scipy.optimize.root(method='lm'), unit start",
                    "reference_seconds": round(t_ref, 4),
                    "kaifang_seconds": round(t_new, 5),
                    "ratio": round(t_ref / t_new, 1),
                    "max_abs_diff": float(np.max(np.abs(ref.x - new.x))),
                    "reference_residual": ref.residual,
                    "kaifang_residual": new.residual,
                    "kaifang_iterations": new.iterations,
                    "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
                }
            ),
            flush=True,
        )

    # sweep: USTR tariffs, every non-US economy retaliates at a common rate r on a grid
    others = np.array([k for k in range(cal.n) if k != us])
    rates = np.linspace(0.0, 0.5, args.sweep)
    mats = np.repeat(ustr[None, :, :], len(rates), axis=0)
    mats[:, us, others] = rates[:, None]
    t0 = time.perf_counter()
    res = sweep(bench, mats)
    t_sweep = time.perf_counter() - t0
    # spot-check the sweep against single solves at a few grid points
    check = [0, len(rates) // 2, len(rates) - 1]
    diff = max(float(np.max(np.abs(res.x[k] - solve(bench, mats[k]).x))) for k in check)
    ref_per = float(np.mean(ref_times))
    print(
        json.dumps(
            {
                "case": "sweep_retaliation_rates",
                "vectors": len(rates),
                "kaifang_seconds": round(t_sweep, 3),
                "kaifang_seconds_per_vector": round(t_sweep / len(rates), 5),
                "reference_seconds_estimated": round(ref_per * len(rates), 1),
                "reference_estimate": "mean reference time per scenario above x vectors (not run)",
                "ratio": round(ref_per * len(rates) / t_sweep, 1),
                "max_residual": float(res.residual.max()),
                "mean_iterations": float(res.iterations.mean()),
                "max_abs_diff_vs_single_solves": diff,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
