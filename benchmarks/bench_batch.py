"""Benchmark: batched Caliendo–Parro solves of elasticity draws against one-at-a-time solves.

Cases (one JSON line each, ``ratio`` = loop time / batch time, both measured here):

* ``nafta-draws``: the NAFTA experiment (cp2015, 31 x 40) for ``--draws`` draws of the trade
  elasticities (log-normal, cv 0.2): per draw the zero-deficit baseline equilibrium and the
  counterfactual with NAFTA's 2005 tariffs, both from the data. The peer is the same pair of
  solves with :func:`kaifang.models.caliendo_parro.solve`, one draw after another.
* ``gtap-draws``: the same on a synthetic 160 x 65 world (``benchmarks/synthetic_worlds.py``) with
  a 20-point tariff rise of one region on all others. The loop is timed on ``--loop-draws`` draws
  and scaled to ``--draws`` (stated in the line as ``loop_extrapolated_from``).
* ``gtap-single``: one 160 x 65 solve (baseline equilibrium) with the point elasticities; there is
  no peer, so ``ratio`` is the target (0.5 s of CPU) over the measured CPU time.

Every case checks that the batch and the loop agree (largest relative difference of real income
and real wages, printed). BLAS threads: ``--threads`` (default 1), set before NumPy loads.

Run: ``KAIFANG_DATA_MIRROR=/path/to/data python benchmarks/bench_batch.py [--draws 1000]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--loop-draws", type=int, default=10, help="draws timed one at a time at GTAP scale")
    p.add_argument("--nafta-loop-draws", type=int, default=0, help="0: loop over every NAFTA draw")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cases", default="nafta-draws,gtap-draws,gtap-single")
    return p.parse_args()


ARGS = _args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from kaifang.models.caliendo_parro import SolverSettings, solve  # noqa: E402
from kaifang.models.caliendo_parro.batch import solve_batch  # noqa: E402
from kaifang.models.caliendo_parro.uncertainty import theta_draws  # noqa: E402
from synthetic_worlds import gravity_world  # noqa: E402


def _clock():
    return time.perf_counter(), time.process_time()


def _since(t):
    return time.perf_counter() - t[0], time.process_time() - t[1]


def _batch(b0, tau_cf, thetas, st):
    zero = np.zeros(b0.n_regions)
    bl = solve_batch(b0, b0.tariff, None, zero, st, theta=thetas)
    cf = solve_batch(b0, tau_cf, None, zero, st, theta=thetas, start=(bl.w_hat, bl.p_hat, bl.expenditure))
    return cf.real_income / bl.real_income, cf.real_wage / bl.real_wage


def _loop(b0, tau_cf, thetas, st):
    zero = np.zeros(b0.n_regions)
    ri, rw = [], []
    for th in thetas:
        b = b0.replace(theta=th)
        e0 = solve(b, b.tariff, None, zero, st)
        e1 = solve(b, tau_cf, None, zero, st, start=(e0.w_hat, e0.p_hat, e0.expenditure))
        ri.append(e1.real_income / e0.real_income)
        rw.append(e1.real_wage / e0.real_wage)
    return np.array(ri), np.array(rw)


def _case(name, b0, tau_cf, draws, loop_draws, extra):
    st = SolverSettings()
    thetas = theta_draws(np.asarray(b0.theta), 0.2 * np.asarray(b0.theta), draws, seed=1)
    t = _clock()
    ri_b, rw_b = _batch(b0, tau_cf, thetas, st)
    wall_b, cpu_b = _since(t)
    t = _clock()
    ri_l, rw_l = _loop(b0, tau_cf, thetas[:loop_draws], st)
    wall_l, cpu_l = _since(t)
    scale = draws / loop_draws
    diff = max(np.max(np.abs(ri_b[:loop_draws] / ri_l - 1)), np.max(np.abs(rw_b[:loop_draws] / rw_l - 1)))
    line = {
        "case": name,
        "regions": b0.n_regions,
        "sectors": b0.n_sectors,
        "draws": draws,
        "threads": ARGS.threads,
        "kaifang_wall_s": round(wall_b, 3),
        "kaifang_cpu_s": round(cpu_b, 3),
        "loop_wall_s": round(wall_l * scale, 3),
        "loop_cpu_s": round(cpu_l * scale, 3),
        "loop_extrapolated_from": loop_draws,
        "ratio": round(wall_l * scale / wall_b, 2),
        "max_rel_diff": float(f"{diff:.2e}"),
        "load_average": os.getloadavg()[0],
        **extra,
    }
    print(json.dumps(line), flush=True)


def main() -> None:
    cases = ARGS.cases.split(",")
    if "nafta-draws" in cases:
        from kaifang.models.caliendo_parro.runner import load_baseline

        b0, tables = load_baseline("cp2015")
        tau = np.array(b0.tariff)
        t05 = tables["tariffs2005"]()
        nafta = [b0.regions.index(c) for c in ("CAN", "MEX", "USA")]
        for a in nafta:
            for c in nafta:
                if a != c:
                    tau[a, c] = t05[a, c]
        loop = ARGS.nafta_loop_draws or ARGS.draws
        _case("nafta-draws", b0, tau, ARGS.draws, loop, {"target_s": 10.0})
    if "gtap-draws" in cases or "gtap-single" in cases:
        b0 = gravity_world(160, 65, seed=3)
        tau = np.array(b0.tariff)
        tau[0, 1:, : int(b0.tradable.sum())] += 0.2
        if "gtap-single" in cases:
            st = SolverSettings()
            best = (np.inf, np.inf)
            for _ in range(3):
                t = _clock()
                e = solve(b0, b0.tariff, None, np.zeros(b0.n_regions), st)
                best = min(best, _since(t), key=lambda x: x[1])
            print(
                json.dumps(
                    {
                        "case": "gtap-single",
                        "regions": 160,
                        "sectors": 65,
                        "threads": ARGS.threads,
                        "kaifang_wall_s": round(best[0], 3),
                        "kaifang_cpu_s": round(best[1], 3),
                        "iterations": e.diagnostics.iterations,
                        "target_cpu_s": 0.5,
                        "ratio": round(0.5 / best[1], 2),
                        "note": "no peer: ratio = target CPU time / measured CPU time",
                        "load_average": os.getloadavg()[0],
                    }
                ),
                flush=True,
            )
        if "gtap-draws" in cases:
            _case("gtap-draws", b0, tau, ARGS.draws, ARGS.loop_draws, {"target_s": 180.0})


if __name__ == "__main__":
    main()
