"""How many threads the PPML engine's row-parallel kernels use.

Threads pay only on large problems on free cores. A parallel region costs a thread start-up
and a barrier per kernel call (a fit makes a few hundred), and every thread must get a core:
when another process holds one, the whole team waits for it at every barrier, and on the
shared two-core development machine the row kernels of a 200,000-row fit became 5 to 20
times slower with two threads than with one. So the engine uses one thread below
:data:`MIN_PARALLEL_ROWS` rows and, above, no more threads than there are idle cores: the
cores this process may run on minus the tasks of other processes running now (see
:func:`machine_load`), rounded to the nearest whole core.

The choice can be fixed per call (``ppml_hdfe(..., threads=2)``) or for the process with the
environment variable ``KAIFANG_HDFE_THREADS`` (a positive integer, or ``auto``, the default).
Numba's own limit, ``NUMBA_NUM_THREADS`` (by default the number of cores), caps both.
"""

from __future__ import annotations

import math
import os
import time
from typing import Literal

from kaifang.errors import UserInputError

__all__ = [
    "ENV_VAR",
    "MIN_PARALLEL_ROWS",
    "Threads",
    "choose_threads",
    "machine_load",
    "max_threads",
    "resolve_threads",
    "use_threads",
]

#: environment variable that fixes the thread count ("auto" or a positive integer)
ENV_VAR = "KAIFANG_HDFE_THREADS"
#: fits with fewer estimation rows than this run on one thread (see the module docstring)
MIN_PARALLEL_ROWS = 400_000
#: at most this many threads: each keeps a private copy of a dimension's accumulator
THREAD_CAP = 8

Threads = int | Literal["auto"] | None


def max_threads() -> int:
    """Numba's thread limit (``NUMBA_NUM_THREADS``), at most :data:`THREAD_CAP`."""
    from numba import config

    return max(1, min(THREAD_CAP, int(config.NUMBA_NUM_THREADS)))


def choose_threads(
    n_rows: int, *, cpus: int, load: float, limit: int, min_rows: int = MIN_PARALLEL_ROWS
) -> int:
    """Threads for a fit of ``n_rows`` rows on ``cpus`` cores with one-minute load ``load``.

    One thread below ``min_rows`` rows; otherwise the idle cores ``cpus - load`` rounded to the
    nearest integer, at least 1 and at most ``limit``. A pure function of its inputs.

    Examples
    --------
    >>> choose_threads(28_566, cpus=16, load=0.0, limit=8)
    1
    >>> choose_threads(1_000_000, cpus=2, load=0.2, limit=8)
    2
    >>> choose_threads(1_000_000, cpus=2, load=1.1, limit=8)
    1
    """
    if limit <= 1 or n_rows < min_rows:
        return 1
    idle = cpus - max(0.0, load)
    return max(1, min(limit, math.floor(idle + 0.5)))


def _running_elsewhere() -> int | None:
    """Tasks running or runnable now on the machine, this process's own threads excluded.

    From ``/proc/loadavg`` (its fourth field counts the runnable tasks, threads included) minus
    this process's threads in state ``R`` (``/proc/self/task/*/stat``); ``None`` where those
    files do not exist (not Linux).
    """
    try:
        with open("/proc/loadavg", encoding="ascii") as fh:
            running = int(fh.read().split()[3].split("/")[0])
        own = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat", encoding="ascii", errors="replace") as fh:
                    stat = fh.read()
            except OSError:
                continue  # the thread ended meanwhile
            end = stat.rindex(")")
            if stat[end + 2 : end + 3] == "R":
                own += 1
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - own)


def machine_load(samples: int = 5, interval: float = 0.0005) -> tuple[int, float]:
    """``(cores this process may use, load from other processes)``.

    The load is the largest number of tasks of other processes found runnable in ``samples``
    looks ``interval`` seconds apart (Linux), else the one-minute load average (0 where unknown).
    A running count is what the next second's parallel regions meet; the one-minute average lags
    by a minute (it still counts a job that has just ended, e.g. the previous case of a benchmark).
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    seen: list[int] = []
    for k in range(samples):
        r = _running_elsewhere()
        if r is None:
            break
        seen.append(r)
        if k + 1 < samples:
            time.sleep(interval)
    if seen:
        return cpus, float(max(seen))
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        load = 0.0
    return cpus, load


def _parse(value: object, where: str) -> int | None:
    """``None`` for automatic, else a positive integer; a clear error otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("", "auto"):
            return None
        if v.isdigit() and int(v) > 0:
            return int(v)
    elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    raise UserInputError(
        f"{where} has value {value!r}; give a positive number of threads (e.g. 1 or 2) or 'auto'."
    )


def resolve_threads(threads: Threads, n_rows: int) -> int:
    """The thread count of one fit: the argument, else ``KAIFANG_HDFE_THREADS``, else automatic.

    An explicit count is used for every kernel of the fit (capped by :func:`max_threads`); the
    automatic choice is :func:`choose_threads` with the machine's cores and load.
    """
    fixed = _parse(threads, "threads")
    if fixed is None:
        fixed = _parse(os.environ.get(ENV_VAR), f"the environment variable {ENV_VAR}")
    limit = max_threads()
    if fixed is not None:
        return min(fixed, limit)
    if limit <= 1 or n_rows < MIN_PARALLEL_ROWS:
        return 1  # no need to look at the machine
    cpus, load = machine_load()
    return choose_threads(n_rows, cpus=cpus, load=load, limit=limit)


def use_threads(nt: int) -> None:
    """Size numba's thread team for the next parallel region launched from this thread.

    ``nt`` is the number of row blocks of the kernel; the team has that many threads, at most
    numba's pool (``NUMBA_NUM_THREADS``), so a large machine does not wake idle threads.
    """
    import numba

    team = max(1, min(nt, int(numba.config.NUMBA_NUM_THREADS)))
    if numba.get_num_threads() != team:
        numba.set_num_threads(team)
