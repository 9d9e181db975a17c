"""Benchmark: how fast the ``kaifang`` command line answers, against its targets.

There is no peer tool that runs these models from a command line, so each case compares the
measured time with a target instead: ``ratio`` = target / measured (above 1: faster than the
target). Cases:

- ``help``: ``kaifang --help`` (target 0.3 s): start-up and the command listing.
- ``nafta_run``: ``kaifang run scenarios/cp2015-nafta.toml --json --no-store`` (target 1 s),
  saving its results (JSON and Parquet) into a temporary folder; the solve itself takes about a
  tenth of a second (with the welfare decomposition's step solves), the rest is start-up,
  imports (this command never imports pandas), loading the data and writing.
- ``xlsx_export``: ``kaifang runs export ID -f xlsx`` of a run of the 194-economy 2025 tariff
  model (target 5 s; about 700,000 cells). Skipped when its data set is not available.
- ``threads``: the 194-economy run with ``--threads 1`` and ``--threads 2``: the ratio is the
  two-thread time over the one-thread time (above 1: one thread is faster, the default).

Each case runs the installed command in a fresh process (``warm``: after one untimed run, so
the files are in the operating system's cache and Python's bytecode cache is written),
``REPEATS`` times; the JSON line gives the
median and the best wall-clock time and the median CPU time of the child process (user +
system), which is what the machine's load affects least, and ``ratio_cpu`` = target / CPU
time: on a machine busy with other work the wall-clock ratio understates the command.

Run: ``KAIFANG_DATA_MIRROR=/path/to/data python benchmarks/bench_cli.py``
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPEATS = 7


def _command() -> list[str]:
    """The ``kaifang`` console script beside this Python, else ``python -m kaifang``."""
    script = Path(sys.executable).with_name("kaifang")
    return [str(script)] if script.exists() else [sys.executable, "-m", "kaifang"]


def _env() -> dict[str, str]:
    """The child's environment: this one, with kaifang's sources first on the path and Python's
    bytecode cache on (as Python has it by default; a sandbox may set PYTHONDONTWRITEBYTECODE,
    and then every start compiles kaifang's modules afresh, about 0.15 s)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _time(argv: list[str], cwd: Path, repeats: int = REPEATS) -> dict[str, float]:
    env = _env()
    subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=env, capture_output=True, check=True)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return {
        "wall_median_s": statistics.median(walls),
        "wall_best_s": min(walls),
        "cpu_median_s": statistics.median(cpus),
    }


def _line(case: str, target: float | None, t: dict[str, float], **extra: object) -> None:
    doc: dict[str, object] = {"case": case, "peer": None}
    if target is not None:
        doc["target_s"] = target
        doc["ratio"] = round(target / t["wall_median_s"], 2)
        doc["ratio_cpu"] = round(target / t["cpu_median_s"], 2)
    doc.update({k: round(v, 3) for k, v in t.items()})
    doc.update(extra)
    doc["load_average"] = round(os.getloadavg()[0], 2)  # other work on the machine while timing
    print(json.dumps(doc), flush=True)


def main() -> None:
    kaifang = _command()
    from kaifang.data import status

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _line("help", 0.3, _time([*kaifang, "--help"], work))
        nafta = str(ROOT / "scenarios" / "cp2015-nafta.toml")
        if all(s.ok for s in status("cp2015")):
            _line("nafta_run", 1.0, _time([*kaifang, "run", nafta, "--json", "--no-store"], work))
        else:
            print(json.dumps({"case": "nafta_run", "skipped": "data set cp2015 not available"}))
        if not all(s.ok for s in status("liberation2025")):
            print(json.dumps({"case": "xlsx_export", "skipped": "data set liberation2025 not available"}))
            return
        ustr = str(ROOT / "scenarios" / "liberation-day-ustr.toml")
        store = work / "st.duckdb"
        out = subprocess.run(
            [*kaifang, "run", ustr, "--json", "--no-save", "--store", str(store)],
            cwd=work,
            capture_output=True,
            text=True,
            check=True,
            env=_env(),
        )
        run_id = json.loads(out.stdout)["run_id"]
        t = _time(
            [
                *kaifang,
                "runs",
                "export",
                run_id,
                "-f",
                "xlsx",
                "-o",
                str(work / "x.xlsx"),
                "--store",
                str(store),
            ],
            work,
            3,
        )
        _line("xlsx_export", 5.0, t, bytes=(work / "x.xlsx").stat().st_size)
        one = _time([*kaifang, "--threads", "1", "run", ustr, "--json", "--no-store", "--no-save"], work, 3)
        two = _time([*kaifang, "--threads", "2", "run", ustr, "--json", "--no-store", "--no-save"], work, 3)
        print(
            json.dumps(
                {
                    "case": "threads",
                    "peer": "the same run with 2 BLAS threads",
                    "ratio": round(two["wall_median_s"] / one["wall_median_s"], 2),
                    "one_thread": {k: round(v, 3) for k, v in one.items()},
                    "two_threads": {k: round(v, 3) for k, v in two.items()},
                    "cores": os.cpu_count(),
                    "load_average": round(os.getloadavg()[0], 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
