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
point after the other: what ``kaifang sweep FILE --serial`` runs) and by ``run_sweep(n_workers=2)``
(a LocalCluster started for the sweep, one worker process per core, one thread each: what
``kaifang sweep FILE`` runs), neither storing the runs, and the two summaries are checked to be
identical. Each engine runs in a fresh Python process of its own, as a command does (``--repeat``
times, 3 by default, the order alternating; the run of median wall time is reported): the
process imports kaifang and reads the sweep, then the clock runs from the call of ``run_sweep``
to its return (validation, the data read, for Dask also importing it and starting and closing
the cluster, every point). The children run with Python's bytecode cache on (as on a user's
machine, even where the environment turns it off). ``ratio`` = serial wall time / Dask wall time.

Also reported: ``ratio_same_process``, both engines in this one process, the serial run first
(so the Dask run finds kaifang's modules loaded and its data read in the client: kinder to Dask
than a command is); ``ratio_running_cluster``, the fresh processes' times from the first point
submitted (leaving out the start and the validation, as on a cluster that is already running);
with ``--threaded-loop``, ``ratio_vs_threaded_loop`` compares with a plain loop of
``run_scenario`` over the same points with numpy's default BLAS threads (both cores). As a
control, the same points are solved by two plain processes (``concurrent.futures``, spawn, half
the points each, start included, without the up-front validation of every point):
``ratio_two_process_pool`` is what two processes gained on this machine at that moment without
Dask. Wall and process time are both reported; the process time of a Dask run is the client's,
and its workers' (with the fork server's) as ``dask_workers_process_s``. The machine's load average
is printed before and after: the measurement means something only when the two cores are not
busy with other work.

Run: ``KAIFANG_DATA_MIRROR=/path/to/data PYTHONPATH=src python benchmarks/bench_sweep.py``
(``--case liberation2025-optimal``, ``--points 40`` for a shorter run). Prints one JSON line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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


def _sweep(case: str, points: int):
    from kaifang.scenario.sweep import parse_sweep

    stop = round(START[case] + STEP[case] * (points - 1), 6)
    sw = parse_sweep(CASES[case].format(stop=stop), source=f"bench-{case}.toml")
    assert len(sw) == points
    return sw


def child(engine: str, case: str, points: int, out: str) -> None:
    """One engine in this (fresh) process; prints its times as JSON, pickles the summary to ``out``."""
    import psutil

    from kaifang.sweep import run_sweep

    sw = _sweep(case, points)
    workers: list[float] = []

    def on_point(outcome) -> None:  # at the last point, before the cluster closes: the workers' CPU
        seen.append(outcome.index)
        if engine == "dask" and len(seen) == points:
            total = 0.0
            for proc in psutil.Process().children(recursive=True):
                try:
                    t = proc.cpu_times()
                    total += t.user + t.system
                except psutil.Error:
                    pass
            workers.append(total)

    seen: list[int] = []
    if engine == "serial":
        res, wall, cpu, solve = _timed(
            lambda status: run_sweep(sw, engine="serial", status=status, on_point=on_point)
        )
    else:
        res, wall, cpu, solve = _timed(
            lambda status: run_sweep(sw, n_workers=2, status=status, on_point=on_point)
        )
    res.summary.to_pickle(out)
    print(
        json.dumps(
            {
                "wall": wall,
                "cpu": cpu,
                "solve": solve,
                "workers": workers[0] if workers else None,
                "failed": res.n_failed,
            }
        )
    )


def _fresh(engine: str, case: str, points: int, out: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [sys.executable, __file__, "--child", engine, "--case", case, "--points", str(points), "--out", out]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {engine} child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench(case: str, points: int, threaded_loop: bool = False, repeat: int = 3) -> dict:
    import tempfile

    import pandas as pd

    from kaifang.models import run_scenario
    from kaifang.sweep import run_sweep

    sw = _sweep(case, points)
    load_before = _load()
    runs: dict[str, list[dict]] = {"serial": [], "dask": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):  # the order alternates, so that a slow spell hurts both alike
            for e in ("serial", "dask") if r % 2 == 0 else ("dask", "serial"):
                runs[e].append(_fresh(e, case, points, f"{tmp}/{e}.pkl"))
        summaries = {e: pd.read_pickle(f"{tmp}/{e}.pkl") for e in runs}
    pd.testing.assert_frame_equal(summaries["serial"], summaries["dask"], check_exact=True)
    # each engine's run of median wall time
    fresh = {e: sorted(rs, key=lambda x: x["wall"])[len(rs) // 2] for e, rs in runs.items()}

    # both engines in this process, the serial run first
    serial, s_wall, _s_cpu, _ = _timed(lambda status: run_sweep(sw, engine="serial", status=status))
    par, d_wall, _d_cpu, _ = _timed(lambda status: run_sweep(sw, n_workers=2, status=status))
    pd.testing.assert_frame_equal(serial.summary, par.summary, check_exact=True)
    pd.testing.assert_frame_equal(serial.summary, summaries["serial"], check_exact=True)

    loop_wall = loop_cpu = None
    if threaded_loop:  # a plain loop over the same scenarios with numpy's default BLAS threads
        t0, c0 = time.perf_counter(), time.process_time()
        for p in sw.points:
            run_scenario(p.scenario)
        loop_wall, loop_cpu = time.perf_counter() - t0, time.process_time() - c0

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
    fs, fd = fresh["serial"], fresh["dask"]
    return {
        "benchmark": "sweep_dask_vs_serial",
        "case": case,
        "points": points,
        "workers": 2,
        "serial_wall_s": round(fs["wall"], 3),
        "serial_process_s": round(fs["cpu"], 3),
        "dask_wall_s": round(fd["wall"], 3),
        "dask_client_process_s": round(fd["cpu"], 3),
        "dask_workers_process_s": None if fd["workers"] is None else round(fd["workers"], 3),
        "ratio": round(fs["wall"] / fd["wall"], 3),
        "repeats": repeat,
        "serial_wall_s_each": [round(x["wall"], 3) for x in runs["serial"]],
        "dask_wall_s_each": [round(x["wall"], 3) for x in runs["dask"]],
        "ratio_running_cluster": round(fs["solve"] / fd["solve"], 3),
        "same_process_serial_wall_s": round(s_wall, 3),
        "same_process_dask_wall_s": round(d_wall, 3),
        "ratio_same_process": round(s_wall / d_wall, 3),
        "threaded_loop_wall_s": None if loop_wall is None else round(loop_wall, 3),
        "threaded_loop_process_s": None if loop_cpu is None else round(loop_cpu, 3),
        "ratio_vs_threaded_loop": None if loop_wall is None else round(loop_wall / fd["wall"], 3),
        "two_process_pool_wall_s": round(pool_wall, 3),
        "ratio_two_process_pool": round(fs["wall"] / pool_wall, 3),
        "serial_seconds_per_point": round(fs["solve"] / points, 4),
        "identical_results": True,
        "failed_points": sum(x["failed"] for rs in runs.values() for x in rs)
        + serial.n_failed
        + par.n_failed,
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
    ap.add_argument(
        "--repeat", type=int, default=3, help="fresh-process runs of each engine (median reported)"
    )
    ap.add_argument("--child", choices=["serial", "dask"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    if args.child:
        child(args.child, args.case, args.points, args.out)
        return
    for case in CASES if args.case == "all" else [args.case]:
        print(json.dumps(bench(case, args.points, args.threaded_loop, args.repeat)), flush=True)


if __name__ == "__main__":
    main()
