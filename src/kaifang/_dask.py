"""The Dask side of :mod:`kaifang.sweep`: starting or reaching a cluster, the workers'
environment, and a check that the workers can run kaifang.

Imported only when a sweep runs on Dask, so that ``import kaifang.sweep`` and ``--serial`` need
no Dask.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from kaifang._warm import WORKER_MODULES, blas_env, forwarded_env, start_forkserver, start_method
from kaifang.errors import UserInputError

try:
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError as exc:  # pragma: no cover - dask is a dependency; a broken install gets a sentence
    raise UserInputError(
        f"running a sweep on Dask needs the packages dask and distributed ({exc}). Install them with "
        f"`pip install 'dask[distributed]>=2024.1'`, or run the sweep without Dask: `kaifang sweep FILE --serial`."
    ) from None

__all__ = [
    "SchedulerError",
    "blas_env",
    "cluster_client",
    "forwarded_env",
]  # the first two from kaifang._warm

#: glibc's heap trim threshold, which Dask sets in its workers by default (left unset in kaifang's).
MALLOC_VAR = "MALLOC_TRIM_THRESHOLD_"
#: Timers of the local cluster's workers and scheduler, slowed down from Dask's defaults (a tick
#: every 20 ms, a memory check every 100 ms, system statistics every 500 ms). With one worker
#: process per core, every timer wakes a thread that takes a core and the GIL from a solve: on
#: two cores, Dask's defaults cost a 100-point ims2025 sweep 17 % of its workers' time (5,000
#: involuntary context switches instead of 1,700). One second still pauses a worker that nears
#: its memory limit long before it runs out.
QUIET_TIMERS = {
    "distributed.admin.tick.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}


class SchedulerError(UserInputError):
    """The Dask scheduler given by address cannot be reached, has no workers, or its workers
    cannot run kaifang."""


class KaifangWorkerEnv(WorkerPlugin):
    """Sets kaifang's environment variables (data mirror, cache, ...) in every worker of an
    existing cluster, including workers that join later."""

    name = "kaifang-env"

    def __init__(self, env: Mapping[str, str], *, exact: bool = False) -> None:
        self.env = dict(env)
        self.exact = exact

    def setup(self, worker: Any) -> None:
        if self.exact:  # a forked worker starts with its fork server's environment: drop stale settings
            for key in [k for k in os.environ if k.startswith("KAIFANG_") and k not in self.env]:
                del os.environ[key]
        os.environ.update(self.env)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _probe() -> dict[str, Any]:
    import kaifang
    from kaifang.results import package_version

    return {
        "kaifang": package_version(),
        "file": kaifang.__file__,
        "mirror": os.environ.get("KAIFANG_DATA_MIRROR"),
        "pid": os.getpid(),
    }


def _check_workers(client: distributed.Client, where: str) -> dict[str, Any]:
    try:
        return client.run(_probe)
    except Exception as exc:
        raise SchedulerError(
            f"the workers of {where} cannot run kaifang ({type(exc).__name__}: {exc}). Install kaifang "
            f"(the version used here) in the workers' Python environment, or run the sweep on a local "
            f"cluster (`kaifang sweep FILE` without --scheduler)."
        ) from None


@contextlib.contextmanager
def _quiet_dask_logs() -> Iterator[None]:
    """Dask's informational logging (scheduler and worker start-up, task cancellations) kept out
    of the command's output unless asked for with ``KAIFANG_LOG``; errors still show."""
    logger = logging.getLogger("distributed")
    before = logger.level
    if not os.environ.get("KAIFANG_LOG"):
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(before)


@contextlib.contextmanager
def cluster_client(
    *,
    client: distributed.Client | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    env: Mapping[str, str] | None = None,
    dashboard: bool = False,
    timeout: float = 10.0,
    status: Callable[[str], None] = lambda m: None,
    preload: Sequence[str] = (),
    while_starting: Callable[[], None] | None = None,
) -> Iterator[tuple[distributed.Client, str]]:
    """A Dask client to run a sweep on, and a description of the engine for messages.

    Exactly one of: ``client`` (an existing :class:`distributed.Client`, left open), a
    ``scheduler`` address (connected here, the cluster left running), or neither (a
    :class:`distributed.LocalCluster` started here on the loopback interface, one process per
    worker with one thread each and the BLAS pools pinned to one thread, closed at the end; the
    workers are forked from a fork server where the platform has one, see :func:`start_method`).

    Parameters
    ----------
    preload
        Modules the local cluster's workers need (on top of :data:`WORKER_MODULES`), imported
        once in the fork server.
    while_starting
        Work for this process to do while a local cluster starts (e.g. validating the sweep),
        called in this thread; it is not called for an existing client or a scheduler address.
        If it raises, the cluster is closed as soon as it is up and the error passes on.

    Raises
    ------
    SchedulerError
        An address that is malformed or cannot be reached in ``timeout`` seconds, a scheduler
        with no workers after ``timeout`` seconds, or workers that cannot import kaifang.
    """
    with _quiet_dask_logs():
        yield from _cluster_client(
            client=client,
            scheduler=scheduler,
            n_workers=n_workers,
            env=dict(env or {}),
            dashboard=dashboard,
            timeout=timeout,
            status=status,
            preload=tuple(preload),
            while_starting=while_starting,
        )


def _cluster_client(
    *,
    client: distributed.Client | None,
    scheduler: str | None,
    n_workers: int | None,
    env: dict[str, str],
    dashboard: bool,
    timeout: float,
    status: Callable[[str], None],
    preload: tuple[str, ...],
    while_starting: Callable[[], None] | None,
) -> Iterator[tuple[distributed.Client, str]]:
    if client is not None:
        where = f"the Dask cluster at {client.scheduler.address}"
        if env:
            client.register_plugin(KaifangWorkerEnv(env))
        _check_workers(client, where)
        yield client, f"Dask cluster {client.scheduler.address}"
        return
    if scheduler is not None:
        address = scheduler.strip()
        if not address or any(ch.isspace() for ch in address):
            raise SchedulerError(
                f"--scheduler {scheduler!r} is not a Dask scheduler address; give one like "
                f"tcp://10.1.2.3:8786 (the scheduler prints it as 'Scheduler at: ...')."
            )
        if "://" not in address:
            address = "tcp://" + address
        status(f"connecting to the Dask scheduler at {address}")
        try:
            c = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise SchedulerError(
                f"cannot reach the Dask scheduler at {address} ({exc}). Check the address and that this "
                f"machine can reach it; start a scheduler with `dask scheduler` (and workers with "
                f"`dask worker {address}`), or run `kaifang sweep FILE` without --scheduler to use a "
                f"local cluster."
            ) from None
        try:
            try:
                c.wait_for_workers(1, timeout=timeout)
            except (TimeoutError, OSError):
                raise SchedulerError(
                    f"the Dask scheduler at {address} has no workers (none joined in {timeout:g} s). Start "
                    f"some with `dask worker {address} --nthreads 1`, or run without --scheduler."
                ) from None
            if env:
                c.register_plugin(KaifangWorkerEnv(env))
            _check_workers(c, f"the Dask cluster at {address}")
            yield c, f"Dask cluster {address}"
        finally:
            c.close()
        return
    n = n_workers or available_cores()
    status(f"starting a local Dask cluster: {n} worker process{'es' if n != 1 else ''}, one thread each")
    import dask

    # Dask sets glibc's MALLOC_TRIM_THRESHOLD_ in the workers it spawns; that turns off glibc's
    # adaptive mmap threshold, so every large numpy array is mapped and zeroed afresh (here 50 %
    # more CPU time per ims2025 point than in a plain process). kaifang's points allocate and
    # free arrays of the same sizes over and over; glibc's default behaviour suits them.
    config: dict[str, Any] = {f"distributed.nanny.pre-spawn-environ.{MALLOC_VAR}": None}
    if not dashboard:
        # the workers' statistical profiler (a stack sample every 10 ms, for the dashboard's
        # profile page) takes the GIL from the solves; without a dashboard nobody reads it
        config["distributed.worker.profile.enabled"] = False
        config.update(QUIET_TIMERS)  # with a dashboard, its live plots keep Dask's timers
    worker_env = {**blas_env(), **env}
    method = start_method()
    config["distributed.worker.multiprocessing-method"] = method
    kwargs: dict[str, Any] = {
        "n_workers": n,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": "127.0.0.1:8787" if dashboard else None,
        # without the dashboard, the scheduler's small HTTP server (health, metrics) takes any
        # free loopback port instead of trying 8787
        "scheduler_kwargs": None if dashboard else {"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        "env": worker_env,
        "silence_logs": logging.ERROR,
    }
    with dask.config.set(config):
        if method == "forkserver":  # if the caller has not started it yet
            start_forkserver((*WORKER_MODULES, *preload), worker_env)
        cluster = _start_local_cluster(kwargs, while_starting)
    try:
        c = distributed.Client(cluster, set_as_default=False)
        try:
            if method == "forkserver":  # the fork server's environment, made exactly this process's
                c.register_plugin(KaifangWorkerEnv(env, exact=True))
            if dashboard:
                status(f"Dask dashboard: {c.dashboard_link}")
            yield c, f"local Dask cluster ({n} worker{'s' if n != 1 else ''})"
        finally:
            c.close()
    finally:
        cluster.close()


def _start_local_cluster(
    kwargs: Mapping[str, Any], while_starting: Callable[[], None] | None
) -> distributed.LocalCluster:
    """A LocalCluster with ``kwargs``; with ``while_starting``, started on a thread of its own
    while this thread runs ``while_starting`` (Dask's configuration, set by the caller, is the
    same in every thread)."""
    if while_starting is None:
        return distributed.LocalCluster(**kwargs)
    box: dict[str, Any] = {}

    def start() -> None:
        try:
            box["cluster"] = distributed.LocalCluster(**kwargs)
        except BaseException as exc:  # handed to the calling thread
            box["error"] = exc

    thread = threading.Thread(target=start, name="kaifang-start-cluster", daemon=True)
    thread.start()
    try:
        while_starting()
    except BaseException:
        thread.join()
        if "cluster" in box:
            box["cluster"].close()
        raise
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["cluster"]
