"""A 100-point sweep on a 2-worker Dask LocalCluster against the serial loop over the same points.

Cases (each a grid of 100 points on a real data set):

* ``liberation2025-optimal`` (the main case): the USTR tariffs of April 2025 with optimal
  retaliation by every economy (Ignatenko et al. 2025, Table 2, case (3)), the trade elasticity
  swept from 3.00 to 4.98 in steps of 0.02 (the ims2025 model, 194 economies; about 0.065 s per
  point);
* ``liberation2025``: the USTR tariffs of April 2025 and a uniform retaliatory tariff on US
  goods by every economy, 0 to 49.5 % in steps of 0.5 (about 0.055 s per point);
* ``cp2015-nafta``: the NAFTA members' tariffs on each other scaled from 0 to 99 % of their 1993
  level (the Caliendo-Parro model, 31 regions and 40 sectors; about 0.06 s per point);
* ``wiod2011-us-china``: the iceberg cost of goods trade between the USA and China (both
  directions) raised by 0 to 49.5 % in steps of 0.5 (the Caliendo-Parro model on the WIOD 2013
  release's 2011 table, 41 regions and 35 industries, services traded; about 0.07 s per point).

For each case the same ``Sweep`` is solved by ``run_sweep(engine="serial")`` (one process, one
point after the other) and by ``run_sweep(n_workers=2)`` (a LocalCluster started for the sweep,
one worker process per core, one thread each), neither storing the runs; the two summaries are
checked to be identical. ``ratio`` = serial wall time / Dask wall time, the Dask time including
the cluster's start (what ``kaifang sweep FILE`` costs); ``ratio_running_cluster`` leaves out the
start and the validation (both engines timed from the first point submitted; the fresh workers
still read the data once each), as on a cluster that is already running. With
``--threaded-loop``, ``ratio_vs_threaded_loop`` compares with a plain loop of ``run_scenario``
over the same points with numpy's default BLAS threads (both cores). As a control, the same points
are also solved by two plain processes (``concurrent.futures.ProcessPoolExecutor``, half the points
each, start included, without the sweep's up-front validation of every point):
``ratio_two_process_pool`` is what two processes gained on this machine at that moment without
Dask (not a ceiling for ``ratio``: the serial time includes the validation that the two processes
skip). Wall and process time are both reported: the process time of the Dask run is this
process's (the client's) plus its workers'. The machine's load average is printed
before and after: the measurement means something only when the two cores are not busy with
other work.

Run: ``KAIFANG_DATA_MIRROR=/path/to/data PYTHONPATH=src python benchmarks/bench_sweep.py``
(``--case liberation2025-optimal``, ``--points 40`` for a shorter run). Prints one JSON line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings

CASES = {
    "liberation2025-optimal": """\
name = "bench-liberation-optimal-retaliation-elasticity"
model = "ims2025"
dataset = "liberation2025"
[parameters]
revenue_use = "income_tax_relief"
eps = 4.0
[[shocks]]
type = "tariff"
op = "set"
importer = "USA"
exporter = "all"
from_table = "ustr2025"
[[policy.retaliation]]
kind = "optimal"
against = "USA"
by = "all"
[sweep]
[[sweep.dimension]]
field = "parameters.eps"
values = {{start = 3, step = 0.02, stop = {stop}}}
label = "trade_elasticity"
""",
    "liberation2025": """\
name = "bench-liberation-retaliation"
model = "ims2025"
dataset = "liberation2025"
[parameters]
revenue_use = "income_tax_relief"
[[shocks]]
type = "tariff"
op = "set"
importer = "USA"
exporter = "all"
from_table = "ustr2025"
[[shocks]]
type = "tariff"
op = "set"
importer = "all"
exporter = "USA"
value = 0
[sweep]
[[sweep.dimension]]
field = "shocks[1].value"
values = {{start = 0, step = 0.5, stop = {stop}}}
label = "retaliation_pct"
""",
    "cp2015-nafta": """\
name = "bench-cp2015-nafta-scaled"
model = "caliendo_parro"
dataset = "cp2015"
[baseline]
deficits = "zero"
[[shocks]]
type = "tariff"
op = "scale"
importer = "NAFTA"
exporter = "NAFTA"
value = 1.0
[solver]
tol = 1e-10
max_iter = 5000
[sweep]
[[sweep.dimension]]
field = "shocks[0].value"
values = {{start = 0, step = 0.01, stop = {stop}}}
label = "share_of_1993_tariff"
""",
    "wiod2011-us-china": """\
name = "bench-wiod2011-us-china-goods-costs"
model = "caliendo_parro"
dataset = "wiod2013"
[baseline]
year = 2011
[[shocks]]
type = "iceberg"
importer = ["USA", "CHN"]
exporter = ["USA", "CHN"]
sector = "goods"
value = 0
[sweep]
[[sweep.dimension]]
field = "shocks[0].value"
values = {{start = 0, step = 0.5, stop = {stop}}}
label = "us_china_goods_cost_pct"
""",
}
STEP = {"liberation2025-optimal": 0.02, "liberation2025": 0.5, "cp2015-nafta": 0.01, "wiod2011-us-china": 0.5}
START = {"liberation2025-optimal": 3.0, "liberation2025": 0.0, "cp2015-nafta": 0.0, "wiod2011-us-china": 0.0}


def _solve_chunk(points: list) -> int:
    """Solve points in a plain worker process (the multiprocessing control)."""
    from kaifang.sweep import solve_point

    return sum(solve_point(p, {}, False).status == "ok" for p in points)


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _timed(fn):
    """Run ``fn(status)``; return its value, wall and process seconds, and the wall seconds from
    the 'solving' phase on."""
    marks: dict[str, float] = {}

    def status(message: str) -> None:
        if message.startswith("solving"):
            marks["solving"] = time.perf_counter()

    t0, c0 = time.perf_counter(), time.process_time()
    value = fn(status)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return value, wall, cpu, time.perf_counter() - marks["solving"]


def bench(case: str, points: int, threaded_loop: bool = False) -> dict:
    import pandas as pd

    from kaifang.models import run_scenario
    from kaifang.scenario.sweep import parse_sweep
    from kaifang.sweep import run_sweep

    stop = round(START[case] + STEP[case] * (points - 1), 6)
    sw = parse_sweep(CASES[case].format(stop=stop), source=f"bench-{case}.toml")
    assert len(sw) == points
    load_before = _load()
    # the serial engine (what --serial runs): one point after the other, one BLAS thread
    serial, s_wall, s_cpu, s_solve = _timed(lambda status: run_sweep(sw, engine="serial", status=status))

    loop_wall = loop_cpu = None
    if threaded_loop:  # a plain loop over the same scenarios with numpy's default BLAS threads
        t0, c0 = time.perf_counter(), time.process_time()
        for p in sw.points:
            run_scenario(p.scenario)
        loop_wall, loop_cpu = time.perf_counter() - t0, time.process_time() - c0

    worker_cpu: dict[str, float] = {}

    def dask(status):
        from kaifang._dask import cluster_client, forwarded_env

        # the same LocalCluster run_sweep starts by default, opened here to read its workers' CPU time
        with cluster_client(n_workers=2, env=forwarded_env(), status=status) as (client, _):
            before = client.run(time.process_time)
            res = run_sweep(sw, client=client, status=status)
            after = client.run(time.process_time)
            worker_cpu.update({k: after[k] - before[k] for k in after})
        return res

    par, d_wall, d_cpu, d_solve = _timed(dask)

    # control: two plain processes (concurrent.futures, spawn), each solving half of the points;
    # what two processes can gain on this machine at this moment, without Dask
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    t0 = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        halves = [list(sw.points[0::2]), list(sw.points[1::2])]
        solved = sum(pool.map(_solve_chunk, halves))
    pool_wall = time.perf_counter() - t0
    assert solved == points
    load_after = _load()
    pd.testing.assert_frame_equal(serial.summary, par.summary, check_exact=True)
    return {
        "benchmark": "sweep_dask_vs_serial",
        "case": case,
        "points": points,
        "workers": 2,
        "serial_wall_s": round(s_wall, 3),
        "serial_process_s": round(s_cpu, 3),
        "dask_wall_s": round(d_wall, 3),
        "dask_client_process_s": round(d_cpu, 3),
        "dask_workers_process_s": round(sum(worker_cpu.values()), 3),
        "ratio": round(s_wall / d_wall, 3),
        "ratio_running_cluster": round(s_solve / d_solve, 3),
        "threaded_loop_wall_s": None if loop_wall is None else round(loop_wall, 3),
        "threaded_loop_process_s": None if loop_cpu is None else round(loop_cpu, 3),
        "ratio_vs_threaded_loop": None if loop_wall is None else round(loop_wall / d_wall, 3),
        "two_process_pool_wall_s": round(pool_wall, 3),
        "ratio_two_process_pool": round(s_wall / pool_wall, 3),
        "serial_seconds_per_point": round(s_solve / points, 4),
        "identical_results": True,
        "failed_points": serial.n_failed + par.n_failed,
        "cores": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": load_after,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--case", choices=[*CASES, "all"], default="all")
    ap.add_argument("--points", type=int, default=100)
    ap.add_argument(
        "--threaded-loop",
        action="store_true",
        help="also time a plain loop of run_scenario with numpy's default BLAS threads",
    )
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    for case in CASES if args.case == "all" else [args.case]:
        print(json.dumps(bench(case, args.points, args.threaded_loop)), flush=True)


if __name__ == "__main__":
    main()
