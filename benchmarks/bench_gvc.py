"""Benchmark: kaifang.valuechains against decompr's route on the same tables, in the same run.

Cases
-----
* ``wiod2013-2011``: the WIOD 2013-release table for 2011 (41 regions x 35 industries,
  1435 x 1435; needs the ``wiod2013`` data set: mirror or ``kaifang data fetch wiod2013``);
* ``synthetic-3500``: an ICIO-sized synthetic table (70 regions x 50 industries, 3500 x 3500),
  rounded to integers like a published table, with negative inventory changes and a few empty
  industries.

Each case runs, in fresh processes, (1) kaifang: the Leontief system, Leontief origin by country
and by source/using industry, KWW, WWZ by pair and by exporter-industry-importer, indicators by
country and by sector; (2) the reference (``gvc_reference.py``): decompr's route in NumPy, two
full inverses and dense ``GN x GN x GN`` products (Leontief, KWW, WWZ). Both compute on the same
table; the script checks that they agree (``max_rel_diff``: the largest difference over every
cell of every term, relative to the largest absolute value of that output) and prints one JSON
line per case: wall and process times of each step, peak resident memory of each process, and
``ratio`` = reference wall time / kaifang wall time (``ratio_cpu`` with process times). Each
implementation runs ``--repeats`` times (default 3) in fresh processes and the fastest run is
kept (every run's times are listed): the machine may be shared.

decompr itself (R, reference BLAS) cannot run here; for context only, not measured in this run:
on the 2011 WIOD table it is reported to take 8.9 s to set up, 19.3 s for KWW and 62.5 s for WWZ
(``docs/valuechains.md``).

Run: ``KAIFANG_DATA_MIRROR=/path/to/mirror python benchmarks/bench_gvc.py [--cases wiod2013-2011 synthetic-3500]
[--no-reference CASE ...] [--repeats 3]``. The reading of the table is timed separately (``read_seconds``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the same single-threaded BLAS for both (a multi-threaded BLAS on a shared machine mostly measures
# the other jobs); set OPENBLAS_NUM_THREADS to compare with more threads
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

HERE = Path(__file__).resolve().parent
CASES = ("wiod2013-2011", "synthetic-3500")


# --------------------------------------------------------------------------- tables
def synthetic_table(g: int = 70, n: int = 50, seed: int = 2024):
    """An ICIO-like world: dense domestic input blocks, thin foreign ones, home-biased final
    demand in five categories (the last, inventories, of either sign), skewed country sizes,
    values rounded to integers (so rows add up to output only to rounding), four empty
    industries (no output, no sales, no purchases)."""
    from kaifang.baseline import InputOutputTable

    rng = np.random.default_rng(seed)
    gn = g * n
    size = np.exp(rng.normal(0.0, 1.2, size=g))
    size /= size.sum()
    A = np.zeros((gn, gn))
    for s in range(g):
        sl = slice(s * n, (s + 1) * n)
        A[sl, sl] = rng.gamma(0.6, 1.0, size=(n, n))
    foreign = rng.gamma(0.3, 1.0, size=(gn, gn)) * np.repeat(size, n)[:, None]
    for s in range(g):
        sl = slice(s * n, (s + 1) * n)
        foreign[sl, sl] = 0.0
    dom_share = rng.uniform(0.2, 0.45, size=gn)
    for_share = rng.uniform(0.03, 0.2, size=gn)
    home = np.repeat(np.eye(g, dtype=bool), n, axis=0)
    A *= dom_share / np.maximum(A.sum(axis=0), 1e-300)
    foreign *= for_share / np.maximum(foreign.sum(axis=0), 1e-300)
    A += foreign
    empty = rng.choice(gn, size=4, replace=False)
    A[empty, :] = 0.0
    A[:, empty] = 0.0
    k = 5
    fd = np.zeros((gn, g * k))
    scale = 2e6 * np.repeat(size, n) * rng.uniform(0.2, 1.8, size=gn)  # "millions of USD"
    for r in range(g):
        to_r = np.where(home[:, r], 0.8, 0.2 * size[r] / (1 - size.min())) * scale
        w = rng.dirichlet([6, 0.3, 2, 2, 0.5], size=gn)
        fd[:, r * k : (r + 1) * k] = to_r[:, None] * w
        fd[:, r * k + 4] *= rng.choice([-1.0, 1.0], size=gn, p=[0.3, 0.7])
    fd[empty, :] = 0.0
    x = np.linalg.solve(np.eye(gn) - A, fd.sum(axis=1))
    x = np.maximum(x, 0.0)
    x[empty] = 0.0
    Z = np.round(A * x[None, :])
    return InputOutputTable.from_arrays(
        Z,
        np.round(fd),
        np.round(x),
        regions=[f"C{s:02d}" for s in range(g)],
        sectors=[f"i{j:02d}" for j in range(n)],
        fd_categories=("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN"),
        dataset="synthetic-3500",
        rounding=1.0,
    )


def load(case: str):
    if case == "wiod2013-2011":
        from kaifang.baseline import InputOutputTable
        from kaifang.data.wiod2013 import read_wiod2013

        return InputOutputTable.from_raw(read_wiod2013(2011))
    if case == "synthetic-3500":
        return synthetic_table()
    raise SystemExit(f"unknown case {case!r}; cases: {', '.join(CASES)}")


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- workers
def _timed(steps: dict, name: str, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    steps[name] = {"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    return out


def work_kaifang(table, out: Path) -> dict:
    from kaifang import valuechains as vc

    steps: dict = {}
    system = _timed(steps, "prepare", lambda: vc.prepare(table))
    _timed(steps, "leontief_country", lambda: vc.leontief(system))
    h = _timed(steps, "leontief_sector", lambda: vc.leontief(system, by="sector"))
    k = _timed(steps, "kww", lambda: vc.kww(system))
    _timed(steps, "wwz_pair", lambda: vc.wwz(system, by="pair"))
    w = _timed(steps, "wwz_sector", lambda: vc.wwz(system, by="sector"))
    _timed(steps, "indicators_country", lambda: vc.indicators(system))
    _timed(steps, "indicators_sector", lambda: vc.indicators(system, by="sector"))
    g, n = table.n_regions, table.n_sectors
    np.savez(
        out,
        kww=k[list(vc.KWW_TERMS)].to_numpy(),
        wwz=w[list(vc.WWZ_TERMS)].to_numpy().reshape(g, n, g, 16),
        leontief=h["value"].to_numpy().reshape(g * n, g * n),
    )
    return steps


def work_reference(table, out: Path) -> dict:
    sys.path.insert(0, str(HERE))
    from gvc_reference import DecomprRoute

    steps: dict = {}
    g, n = table.n_regions, table.n_sectors
    ref = _timed(
        steps,
        "prepare",
        lambda: DecomprRoute(
            np.asarray(table.Z), np.asarray(table.final_by_region), np.asarray(table.x), g, n
        ),
    )
    h = _timed(steps, "leontief", ref.leontief)
    k = _timed(steps, "kww", ref.kww)
    w = _timed(steps, "wwz", ref.wwz)
    np.savez(out, kww=k, wwz=w, leontief=h)
    return steps


def worker(case: str, impl: str, out: str) -> None:
    t0 = time.perf_counter()
    table = load(case)
    read = time.perf_counter() - t0
    before = rss_mb()
    steps = (work_kaifang if impl == "kaifang" else work_reference)(table, Path(out))
    total = {"wall": sum(s["wall"] for s in steps.values()), "cpu": sum(s["cpu"] for s in steps.values())}
    print(
        json.dumps(
            {
                "read_seconds": round(read, 3),
                "steps": {k: {a: round(b, 4) for a, b in v.items()} for k, v in steps.items()},
                "wall_seconds": round(total["wall"], 3),
                "cpu_seconds": round(total["cpu"], 3),
                "rss_before_mb": round(before, 1),
                "peak_rss_mb": round(rss_mb(), 1),
                "shape": [table.n_regions * table.n_sectors] * 2,
            }
        )
    )


def spawn(case: str, impl: str, out: Path, repeats: int) -> dict:
    """Run ``impl`` on ``case`` in ``repeats`` fresh processes; keep the fastest (by wall time),
    with every run's wall and process times."""
    runs = []
    for _ in range(repeats):
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case, impl, str(out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        if proc.returncode != 0:
            raise SystemExit(f"{impl} on {case} failed:\n{proc.stderr[-3000:]}")
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["wall_seconds"])
    best["runs_wall_seconds"] = [r["wall_seconds"] for r in runs]
    best["runs_cpu_seconds"] = [r["cpu_seconds"] for r in runs]
    return best


def max_rel_diff(a: Path, b: Path) -> dict[str, float]:
    x, y = np.load(a), np.load(b)
    return {
        k: float(np.abs(x[k] - y[k]).max() / max(np.abs(y[k]).max(), 1e-300))
        for k in ("kww", "wwz", "leontief")
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", nargs="*", default=list(CASES))
    p.add_argument("--no-reference", nargs="*", default=[], help="cases to run without the reference")
    p.add_argument("--repeats", type=int, default=3, help="fresh processes per implementation (fastest kept)")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    for case in args.cases:
        if case == "wiod2013-2011":
            sys.path.insert(0, str(HERE.parent / "tests"))
            from helpers import have_dataset

            if not have_dataset("wiod2013"):
                print(
                    json.dumps(
                        {
                            "case": case,
                            "skipped": "data set 'wiod2013' not available: set KAIFANG_DATA_MIRROR or run "
                            "`kaifang data fetch wiod2013`",
                        }
                    )
                )
                continue
        with tempfile.TemporaryDirectory() as tmp:
            ka = spawn(case, "kaifang", Path(tmp) / "kaifang.npz", args.repeats)
            line = {"case": case, "shape": ka.pop("shape"), "kaifang": ka}
            if case not in args.no_reference:
                ref = spawn(case, "reference", Path(tmp) / "reference.npz", args.repeats)
                ref.pop("shape")
                diff = max_rel_diff(Path(tmp) / "kaifang.npz", Path(tmp) / "reference.npz")
                line.update(
                    reference=ref,
                    peer="decompr's route in NumPy (benchmarks/gvc_reference.py): two inverses, dense GN^3 products",
                    max_rel_diff=diff,
                    agree=max(diff.values()) < 1e-8,
                    ratio=round(ref["wall_seconds"] / ka["wall_seconds"], 2),
                    ratio_cpu=round(ref["cpu_seconds"] / ka["cpu_seconds"], 2),
                )
            line["blas_threads"] = os.environ["OPENBLAS_NUM_THREADS"]
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
