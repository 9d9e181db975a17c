"""Benchmark: kaifang's PPML-HDFE engine against pyfixest ``fepois`` on the same data.

Every (case, engine) runs in its own subprocess (fresh interpreter, same seeded data), after a
warm-up fit on a tiny panel so that just-in-time compilation is not timed for either engine.
Each engine then fits the case ``--repeat`` times (default 3) and the fastest fit counts
(wall clock ``*_seconds``; the same fit's process CPU time ``*_cpu_seconds``, all threads).
Peak memory is the subprocess's ``ru_maxrss``; ``*_fit_mb`` is that peak minus the resident
size just before the fits (what the estimation itself added on top of the loaded data).
Prints one JSON line per case with both times, memory, ``ratio`` (pyfixest's wall time over
kaifang's: how many times faster kaifang is), ``cpu_ratio`` (the same for CPU time), the
threads kaifang chose (``kaifang_threads``) and the one-minute load average when the case began
(``load_1min``; timings on a busy machine are not comparable with an idle one's).

Synthetic panels come in two profiles (``kaifang.estimate.synthetic.gravity_panel``):
``agtpa`` has the spread of country sizes, pair effects and the small-flow zeros of the
Advanced Guide panel (real gravity data); ``simple`` has countries of similar size and zeros
at random, which makes the weighted fixed-effect problem much easier for both engines.

Usage::

    python benchmarks/bench_ppml.py                       # AG panel, 200k, 1M (+46% zeros), both profiles
    python benchmarks/bench_ppml.py --sizes 200000 --zeros 0 --profiles agtpa
    python benchmarks/bench_ppml.py --sizes 10000000 --skip-pyfixest-above 2000000 --repeat 1

Threads: ``--threads N`` caps both engines at ``N`` (``NUMBA_NUM_THREADS``, BLAS); within it
kaifang chooses by problem size and load unless ``--kaifang-threads`` fixes its count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
XS = ["rta", "ln_tariff", "x1", "x2"]
FES = ["exp_year", "imp_year", "pair"]
AG_XS = ["rta", "rta_lag4", "rta_lag8", "rta_lag12"]


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _load(case: str, rows: int, zeros: float, years: int = 20, profile: str = "agtpa"):
    import numpy as np
    import pandas as pd

    if case == "agtpa":
        from kaifang.data import locate

        d = pd.read_csv(locate("agtpa", "agtpa_applications.csv.gz"))
        d = d[d["year"].isin(range(1986, 2007, 4))].reset_index(drop=True)
        d["exp_year"] = pd.factorize(d["exporter"] + d["year"].astype(str))[0]
        d["imp_year"] = pd.factorize(d["importer"] + d["year"].astype(str))[0]
        d["pair"] = pd.factorize(np.where(d["exporter"] == d["importer"], -1, d["pair_id"]))[0]
        return d, AG_XS
    from kaifang.estimate.synthetic import gravity_panel

    return gravity_panel(rows, n_years=years, zero_share=zeros, seed=2026, profile=profile).data, XS


def _worker(
    engine: str, case: str, rows: int, zeros: float, separation: str, years: int, profile: str, repeat: int
) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    import numpy as np

    from kaifang.estimate.synthetic import gravity_panel

    warm = gravity_panel(3_000, n_years=5, seed=1).data
    data, xs = _load(case, rows, zeros, years, profile)
    seps = tuple(s for s in separation.split(",") if s)
    if engine == "kaifang":
        from kaifang.estimate.hdfe import ppml_hdfe

        def fit(d):
            r = ppml_hdfe(
                d["trade"].to_numpy(),
                d[xs].to_numpy(),
                [d[f].to_numpy() for f in FES],
                cluster=d["pair"].to_numpy(),
                separation=seps,
            )
            return r.coef, r.se, r.n_obs, r.iterations, r.diagnostics["threads"]

    else:
        import pyfixest as pf

        fml = "trade ~ " + " + ".join(xs) + " | " + " + ".join(FES)
        sep = ["ir" if s == "relu" else s for s in seps]

        def fit(d):
            m = pf.fepois(fml, data=d, vcov={"CRV1": "pair"}, separation_check=sep or None)
            return m.coef().to_numpy(), m.se().to_numpy(), int(m._N), None, None

    fit(warm.rename(columns=dict(zip(XS, xs, strict=True))))
    before = _maxrss_mb()
    best = None
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        coef, se, n_obs, iters, threads = fit(data)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        if best is None or seconds < best[0]:
            best = (seconds, cpu, threads)
    peak = _maxrss_mb()
    print(
        json.dumps(
            {
                "seconds": best[0],
                "cpu_seconds": best[1],
                "threads": best[2],
                "peak_mb": peak,
                "fit_mb": peak - before,
                "coef": np.asarray(coef).tolist(),
                "se": np.asarray(se).tolist(),
                "n_obs": n_obs,
                "iterations": iters,
            }
        )
    )


def _run(
    engine: str,
    case: str,
    rows: int,
    zeros: float,
    separation: str,
    threads: int,
    years: int,
    profile: str,
    repeat: int,
    kaifang_threads: str | None,
) -> dict:
    # both engines may use up to `threads` threads; within that kaifang chooses by size and load
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    if kaifang_threads:
        env["KAIFANG_HDFE_THREADS"] = kaifang_threads
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--worker", engine, "--case", case, "--rows", str(rows)]
    cmd += [
        "--zero-share",
        str(zeros),
        "--separation",
        separation,
        "--years",
        str(years),
        "--profiles",
        profile,
        "--repeat",
        str(repeat),
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="agtpa,200000,1000000", help="comma list of row counts and/or 'agtpa'")
    p.add_argument("--zeros", default="0,0.46", help="comma list of zero shares for the synthetic panels")
    p.add_argument(
        "--skip-pyfixest-above", type=int, default=1_000_000, help="rows above which pyfixest is skipped"
    )
    p.add_argument(
        "--separation", default="fe", help="separation checks for both engines, e.g. 'fe' or 'fe,relu'"
    )
    p.add_argument(
        "--threads", type=int, default=2, help="numba/BLAS threads per engine (at most 2 on this machine)"
    )
    p.add_argument("--years", type=int, default=20, help="years per pair in the synthetic panels")
    p.add_argument("--repeat", type=int, default=3, help="fits per engine and case; the fastest counts")
    p.add_argument(
        "--kaifang-threads", default=None, help="fix kaifang's thread count (default: its automatic choice)"
    )
    p.add_argument(
        "--profiles",
        default="agtpa,simple",
        help="synthetic panel profiles: 'agtpa' (real-data spread), 'simple'",
    )
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--case", default="synthetic", help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--zero-share", type=float, default=0.0, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        _worker(a.worker, a.case, a.rows, a.zero_share, a.separation, a.years, a.profiles, a.repeat)
        return
    cases: list[tuple[str, int, float, str]] = []
    for s in a.sizes.split(","):
        if s == "agtpa":
            cases.append(("agtpa", 28_566, 0.0, ""))
        else:
            cases += [
                ("synthetic", int(float(s)), float(z), prof)
                for prof in a.profiles.split(",")
                for z in a.zeros.split(",")
            ]
    for case, rows, zeros, prof in cases:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        common = (a.separation, a.threads, a.years, prof, a.repeat, a.kaifang_threads)
        k = _run("kaifang", case, rows, zeros, *common)
        line = {"case": case, "rows": rows, "zero_share": zeros, "separation": a.separation}
        if case != "agtpa":
            line["years"] = a.years
            line["profile"] = prof
        line["load_1min"] = load
        line["max_threads"] = a.threads
        keys = ("seconds", "cpu_seconds", "threads", "peak_mb", "fit_mb", "n_obs", "iterations")
        line.update({f"kaifang_{key}": k.get(key) for key in keys})
        if "error" in k:
            line["kaifang_error"] = k["error"]
        if rows <= a.skip_pyfixest_above:
            f = _run("pyfixest", case, rows, zeros, *common)
            keys = ("seconds", "cpu_seconds", "peak_mb", "fit_mb", "n_obs")
            line.update({f"pyfixest_{key}": f.get(key) for key in keys})
            if "error" in f:
                line["pyfixest_error"] = f["error"]
            if "error" not in k and "error" not in f:
                line["ratio"] = f["seconds"] / k["seconds"]
                line["cpu_ratio"] = f["cpu_seconds"] / k["cpu_seconds"]
                line["peak_mem_ratio"] = k["peak_mb"] / f["peak_mb"]
                line["fit_mem_ratio"] = k["fit_mb"] / max(f["fit_mb"], 1e-9)
                import numpy as np

                line["max_rel_coef_diff"] = float(
                    np.max(np.abs(np.asarray(k["coef"]) / np.asarray(f["coef"]) - 1.0))
                )
                line["max_rel_se_diff"] = float(
                    np.max(np.abs(np.asarray(k["se"]) / np.asarray(f["se"]) - 1.0))
                )
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
