"""Background runs for the web app: warm worker processes that can be terminated.

A numpy solve cannot be interrupted from another thread, so every run happens in a worker
*process* (a ``python`` subprocess started by the server, talking over a socket pair). Cancelling a run terminates that process and starts a fresh one; the server itself
never blocks on a solve. Each worker slot has one dispatcher thread that feeds it queued jobs,
relays its progress messages and, when a run finishes, hands the result to ``on_result`` (which
saves it in the results store) in the server process.

Messages from a worker (pickled over :class:`multiprocessing.connection.Connection`)::

    ("ready",)                          the worker has imported kaifang and waits for jobs
    ("progress", message)               a progress message from the model's runner
    ("done", RunResult)                 the run finished (job state "saving", then "done" once stored)
    ("user_error", kind, message)       a UserInputError (bad scenario, data, non-convergence)
    ("internal_error", kind)            anything else (details only in the server log)
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import logging
import os
import queue
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

from kaifang.results import RunResult
from kaifang.scenario import Scenario

__all__ = ["Job", "JobManager", "JobState"]

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "saving", "done", "failed", "cancelled"]
_FINAL: tuple[str, ...] = ("done", "failed", "cancelled")
_MAX_PROGRESS = 200


def _worker_main(conn: Connection, runners: Mapping[str, str]) -> None:  # pragma: no cover - subprocess
    """Body of a worker process: import once, then solve scenarios sent over ``conn``."""
    from kaifang.errors import UserInputError
    from kaifang.models import RUNNERS, run_scenario
    from kaifang.scenario import parse_scenario

    RUNNERS.update(runners)
    with contextlib.suppress(Exception):  # warm the usual imports; a failure shows up at run time
        import pandas  # noqa: F401
        import scipy.optimize  # noqa: F401
    for target in RUNNERS.values():  # the models' own modules, so the first run pays no imports
        with contextlib.suppress(Exception):
            importlib.import_module(target.partition(":")[0])
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        if msg is None:
            return
        text, source = msg
        try:
            sc = parse_scenario(text, source=source)
            result = run_scenario(sc, progress=lambda m: conn.send(("progress", str(m))))
            conn.send(("done", result))
        except UserInputError as exc:
            conn.send(("user_error", type(exc).__name__, str(exc)))
        except KeyboardInterrupt:
            return
        except Exception as exc:
            traceback.print_exc()  # the server's stderr: the browser only sees the kind
            conn.send(("internal_error", type(exc).__name__))


_BOOT = (
    "import json, os, sys; sys.path[:0] = json.loads(os.environ['KAIFANG_WORKER_PATH']); "
    "from kaifang.web._jobs import _worker_entry; _worker_entry(int(sys.argv[1]))"
)


def _worker_entry(fd: int) -> None:  # pragma: no cover - subprocess
    """Entry point of a worker subprocess: ``fd`` is its end of a socket pair."""
    import json

    conn = Connection(fd)
    runners = json.loads(os.environ.get("KAIFANG_WORKER_RUNNERS", "{}"))
    _worker_main(conn, runners)


class _Worker:
    """One worker subprocess and the server's end of its socket pair.

    The worker is a plain ``python -c`` subprocess (not :mod:`multiprocessing` spawn, which
    would re-import the server's ``__main__``); messages are pickled over the socket with
    :class:`multiprocessing.connection.Connection`.
    """

    def __init__(self, runners: Mapping[str, str]) -> None:
        import json
        import socket
        import subprocess
        import sys

        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["KAIFANG_WORKER_PATH"] = json.dumps([p for p in sys.path if p])
        env["KAIFANG_WORKER_RUNNERS"] = json.dumps(dict(runners))
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(child.fileno())],
            pass_fds=(child.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self.conn = Connection(parent.detach())
        self.ready = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait for the worker's ``("ready",)`` (its imports done); True when ready."""
        deadline = time.monotonic() + timeout
        while not self.ready and self.alive() and time.monotonic() < deadline:
            if self.conn.poll(0.1):
                try:
                    msg = self.conn.recv()
                except (EOFError, OSError):
                    return False
                if msg and msg[0] == "ready":
                    self.ready = True
        return self.ready

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def stop(self, *, kill: bool) -> None:
        """End the process: politely (``kill=False``) or at once (used to cancel a run)."""
        if self.alive():
            if kill:
                self.process.kill()
            else:
                with contextlib.suppress(OSError, BrokenPipeError):
                    self.conn.send(None)
                try:
                    self.process.wait(2)
                except Exception:
                    self.process.kill()
        with contextlib.suppress(Exception):
            self.process.wait(5)
        with contextlib.suppress(OSError):
            self.conn.close()


@dataclass
class Job:
    """A submitted run, as the API reports it."""

    id: str
    scenario: Scenario
    state: JobState = "queued"
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    progress: list[str] = field(default_factory=list)
    run_id: str | None = None
    result: RunResult | None = None  # held while it is being saved (state "saving")
    error_kind: str | None = None
    error: str | None = None
    version: int = 0
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    def _set(self, **changes: Any) -> None:
        for k, v in changes.items():
            setattr(self, k, v)
        self.version += 1

    @property
    def final(self) -> bool:
        return self.state in _FINAL

    @property
    def seconds(self) -> float | None:
        """Wall time from start to finish (or to now while running)."""
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started


class JobManager:
    """Queue of runs served by ``workers`` warm worker processes.

    Parameters
    ----------
    on_result
        Called in the server process with ``(result, scenario)`` when a run finishes; returns
        the run id (the results store's ``add``). Its exceptions fail the job.
    workers
        Number of worker processes (runs solved at the same time).
    runners
        Extra ``model -> "module:function"`` entries for the workers' :data:`kaifang.models.RUNNERS`
        (the server's current registry is always passed).
    keep
        How many finished jobs to remember.
    """

    def __init__(
        self,
        on_result: Callable[[RunResult, Scenario], str],
        *,
        workers: int = 1,
        runners: Mapping[str, str] | None = None,
        keep: int = 200,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self._on_result = on_result
        self._n = workers
        self._extra_runners = dict(runners or {})
        self._keep = keep
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._workers: list[_Worker | None] = []
        self._started = False
        self._closed = False
        self._counter = itertools.count(1)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker processes and their dispatcher threads (idempotent)."""
        with self._lock:
            if self._started or self._closed:
                return
            self._started = True
            for slot in range(self._n):
                self._workers.append(None)
                t = threading.Thread(
                    target=self._dispatch, args=(slot,), name=f"kaifang-web-{slot}", daemon=True
                )
                self._threads.append(t)
                t.start()

    def close(self) -> None:
        """Cancel what runs, stop the workers and the threads."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
        for job in jobs:
            if not job.final:
                job.cancel_requested.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(10)
        for w in self._workers:
            if w is not None:
                w.stop(kill=False)

    # -- API ----------------------------------------------------------------------------------
    def submit(self, scenario: Scenario) -> Job:
        """Queue a validated scenario; returns its job at once."""
        if self._closed:
            raise RuntimeError("the job manager is closed")
        self.start()
        job = Job(id=f"job-{next(self._counter)}-{uuid.uuid4().hex[:8]}", scenario=scenario)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs))
                if not self._jobs[oldest].final:
                    break
                self._jobs.pop(oldest)
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def cancel(self, job_id: str) -> Job | None:
        """Ask for a job to stop: a queued job never starts, a running one's process is terminated."""
        job = self.get(job_id)
        if job is None:
            return None
        if not job.final:
            job.cancel_requested.set()
            with self._lock:
                if job.state == "queued":
                    job._set(state="cancelled", finished=time.time())
        return job

    # -- dispatcher ---------------------------------------------------------------------------
    def _runners(self) -> dict[str, str]:
        from kaifang.models import RUNNERS

        return {**RUNNERS, **self._extra_runners}

    def _worker(self, slot: int) -> _Worker:
        w = self._workers[slot]
        if w is None or not w.alive():
            if w is not None:
                w.stop(kill=True)
            w = _Worker(self._runners())
            self._workers[slot] = w
        return w

    def ready_workers(self) -> int:
        """How many worker processes have finished their imports and wait for runs."""
        return sum(1 for w in list(self._workers) if w is not None and w.ready and w.alive())

    def _dispatch(self, slot: int) -> None:
        with contextlib.suppress(Exception):
            self._worker(slot).wait_ready()  # start warm, before the first job arrives
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                if job.state != "queued" or job.cancel_requested.is_set():
                    continue
                job._set(state="running", started=time.time())
            try:
                self._run(slot, job)
            except Exception as exc:  # never let a dispatcher thread die
                log.exception("job %s failed in the dispatcher", job.id)
                with self._lock:
                    job._set(
                        state="failed",
                        finished=time.time(),
                        error_kind=type(exc).__name__,
                        error="internal error while running the scenario (see the server log)",
                    )

    def _run(self, slot: int, job: Job) -> None:
        w = self._worker(slot)
        w.conn.send((job.scenario.text, job.scenario.source))
        while True:
            if job.cancel_requested.is_set():
                w.stop(kill=True)
                self._workers[slot] = None
                with self._lock:
                    job._set(state="cancelled", finished=time.time())
                # a fresh warm worker for the next job
                with contextlib.suppress(Exception):
                    self._worker(slot).wait_ready()
                return
            if not w.conn.poll(0.02):
                if not w.alive():
                    self._workers[slot] = None
                    with self._lock:
                        job._set(
                            state="failed",
                            finished=time.time(),
                            error_kind="WorkerDied",
                            error=f"the worker process ended unexpectedly (exit code {w.exitcode}).",
                        )
                    return
                continue
            try:
                msg = w.conn.recv()
            except (EOFError, OSError):
                continue  # the liveness check above reports it
            kind = msg[0]
            if kind == "ready":
                w.ready = True
            elif kind == "progress":
                with self._lock:
                    prog = [*job.progress, msg[1]][-_MAX_PROGRESS:]
                    job._set(progress=prog)
            elif kind == "done":
                result: RunResult = msg[1]
                if job.cancel_requested.is_set():
                    with self._lock:
                        job._set(state="cancelled", finished=time.time())
                    return
                # the result can be shown while it is being saved in the store
                with self._lock:
                    job._set(state="saving", result=result)
                try:
                    run_id = self._on_result(result, job.scenario)
                except Exception as exc:
                    log.exception("saving the result of job %s failed", job.id)
                    from kaifang.errors import UserInputError

                    msg = (
                        str(exc)
                        if isinstance(exc, UserInputError)
                        else "saving the result failed (see the server log)"
                    )
                    with self._lock:
                        job._set(
                            state="failed",
                            finished=time.time(),
                            error_kind=type(exc).__name__,
                            error=f"the run finished but was not saved: {msg}",
                        )
                    return
                with self._lock:
                    job._set(state="done", finished=time.time(), run_id=str(run_id), result=None)
                return
            elif kind == "user_error":
                with self._lock:
                    job._set(state="failed", finished=time.time(), error_kind=msg[1], error=msg[2])
                return
            elif kind == "internal_error":
                with self._lock:
                    job._set(
                        state="failed",
                        finished=time.time(),
                        error_kind=msg[1],
                        error=f"internal error ({msg[1]}) while solving; details are in the server log.",
                    )
                return


def default_workers() -> int:
    """Worker processes by default: ``KAIFANG_WEB_WORKERS`` or 1."""
    try:
        return max(1, int(os.environ.get("KAIFANG_WEB_WORKERS", "1")))
    except ValueError:
        return 1
