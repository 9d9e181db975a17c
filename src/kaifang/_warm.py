"""Warm workers for a sweep on a local cluster: the per-process caches a worker may take over
from the process that starts it, and the fork server its workers are forked from.

kaifang keeps what it parsed or built in per-process caches (the tables read, the multi-sector
worlds built, the ``liberation2025`` files parsed), each keyed by everything it depends on
(files by path, size and modification time). A sweep validates its points in the process that
starts a local cluster, so by then that process holds exactly what every point needs; its
workers, on the same machine and reading the same files, would build the same objects under the
same keys. :func:`snapshot` and :func:`adopt` hand the entries over instead (a few MB, sent once
to each worker), so no worker reads or builds its data again.

Nothing here imports Dask: the fork server is started (:func:`start_forkserver`) before the
client has imported it, so that both import their modules at the same time.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import threading
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

from kaifang._environ import environ

__all__ = [
    "BLAS_THREADS",
    "START_METHOD_VAR",
    "WORKER_MODULES",
    "adopt",
    "blas_env",
    "forwarded_env",
    "register",
    "snapshot",
    "start_forkserver",
    "start_method",
]

#: Environment variables set in every local worker: one BLAS/OpenMP/numba thread each (the
#: workers are the parallelism; threads inside them would compete for the same cores).
BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
#: Modules every sweep worker imports, loaded once by the fork server that a local cluster's
#: workers are forked from (together with Dask's own list and the models the sweep runs).
WORKER_MODULES = ("kaifang.sweep", "kaifang.baseline.worlds", "scipy.linalg", "threadpoolctl")


def forwarded_env(extra: Mapping[str, str] | None = None, *, forward: bool = True) -> dict[str, str]:
    """The environment the workers get: this process's ``KAIFANG_*`` variables (the data
    mirror and cache: workers must read the same data) except the results store (written here
    only), then ``extra``."""
    env = {}
    if forward:
        env = {k: v for k, v in os.environ.items() if k.startswith("KAIFANG_") and k != "KAIFANG_STORE"}
    env.update(extra or {})
    return env


def blas_env() -> dict[str, str]:
    """One thread for each of the BLAS, OpenMP and numba pools."""
    return dict.fromkeys(BLAS_THREADS, "1")


_CACHES: dict[str, tuple[MutableMapping[Any, Any], int, str]] = {}


def register(name: str, cache: MutableMapping[Any, Any], size: int, module: str) -> MutableMapping[Any, Any]:
    """Make ``cache`` (an insertion-ordered mapping that keeps at most ``size`` entries, oldest
    first, defined in ``module``) one that :func:`snapshot` copies and :func:`adopt` fills;
    returns it."""
    _CACHES[name] = (cache, size, module)
    return cache


def snapshot() -> dict[str, tuple[str, list[tuple[Any, Any]]]]:
    """The module and the entries of every registered cache, by cache name (the objects
    themselves, not copies: the caches never change an entry, they hand out copies)."""
    return {name: (module, list(cache.items())) for name, (cache, _size, module) in _CACHES.items()}


def adopt(entries: Mapping[str, tuple[str, Sequence[tuple[Any, Any]]]]) -> int:
    """Put the entries of a :func:`snapshot` (taken in another process) into this process's
    caches, keeping those already there; returns how many were added. A cache's module is
    imported first where this process has not loaded it yet. Each cache then keeps its newest
    ``size`` entries."""
    added = 0
    for name, (module, items) in entries.items():
        if name not in _CACHES and items:
            importlib.import_module(module)  # registers its cache
        if name not in _CACHES:
            continue
        cache, size, _module = _CACHES[name]
        for key, value in items:
            if key not in cache:
                cache[key] = value
                added += 1
        while len(cache) > size:
            del cache[next(iter(cache))]
    return added


# -- the fork server ------------------------------------------------------------------------------

_ENV_LOCK = threading.Lock()


#: Environment variable that chooses how a local cluster starts its workers (``spawn``,
#: ``forkserver`` or ``fork``), overriding :func:`start_method`'s choice.
START_METHOD_VAR = "KAIFANG_WORKER_START"


def start_method() -> str:
    """How a local cluster starts its worker processes: ``KAIFANG_WORKER_START`` where it is set,
    else Dask's configured method where the user changed it, else ``forkserver`` where the
    platform has one (Linux, macOS), else ``spawn``.

    With ``spawn`` (Dask's default) every worker is a fresh interpreter that imports Dask, pandas
    and kaifang's models itself (about 0.7 s of CPU each, one after the other on a busy machine);
    a fork server imports them once, and each worker is forked from that single-threaded process
    (safe, unlike ``fork`` from a client that runs threads), which also makes closing the cluster
    quicker.
    """
    import dask

    chosen = os.environ.get(START_METHOD_VAR, "").strip()
    if chosen:
        if chosen not in multiprocessing.get_all_start_methods():
            from kaifang.errors import UserInputError

            raise UserInputError(
                f"environment variable {START_METHOD_VAR} has value {chosen!r}; this platform starts "
                f"processes with one of: {', '.join(multiprocessing.get_all_start_methods())} (or unset it)."
            )
        return chosen
    method = dask.config.get("distributed.worker.multiprocessing-method", "spawn")
    if method != "spawn":
        return str(method)
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def start_forkserver(modules: Sequence[str], env: Mapping[str, str]) -> None:
    """Start this process's fork server, importing Dask's modules and ``modules`` there with
    ``env`` set (one running already, started for an earlier cluster, is reused as it is).

    The server loads its modules while this process goes on; the workers are forked from it when
    the cluster starts. Variables that count only when a library loads (the BLAS and numba
    thread counts) must be in the server's own environment; a worker's other variables are set
    again when it starts (:class:`kaifang._dask.KaifangWorkerEnv`).
    """
    from multiprocessing import forkserver

    ctx = multiprocessing.get_context("forkserver")
    preload = ["distributed", "numpy", "pandas", *modules]
    with _ENV_LOCK, environ(env):
        ctx.set_forkserver_preload(list(dict.fromkeys(preload)))
        forkserver.ensure_running()
