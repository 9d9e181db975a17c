"""Background runs for the web app: a bounded queue served by warm worker processes.

A numpy solve cannot be interrupted from another thread, so every run happens in a worker
*process* (a ``python`` subprocess started by the server, talking over a socket pair).
Cancelling a run terminates that process and starts a fresh one; the server itself never blocks
on a solve. Each worker slot has one dispatcher thread that feeds it queued jobs, relays its
progress messages and, when a run finishes, hands the result to ``on_result`` (which saves it in
the results store) in the server process.

A worker that dies while it solves (killed by a person or by the system's out-of-memory killer,
or crashed) fails its job at once with the reason (signal, exit code, the memory it had reached)
and is replaced by a fresh one; the queue goes on. A worker that dies while idle is replaced too.

The queue is bounded (``max_queued`` jobs waiting): :meth:`JobManager.submit` raises
:class:`QueueFull`, with an estimate of when to try again, beyond that.

Every change of a job's state is written to a :class:`JobJournal` (the results store's job
records) so that a restarted server shows what became of the jobs of the one before; jobs that
were queued or running when a server stopped are recorded as failed with the reason
(:func:`interrupted_records`).

Messages from a worker (pickled over :class:`multiprocessing.connection.Connection`)::

    ("ready",)                          the worker has imported kaifang and waits for jobs
    ("progress", message)               a progress message from the model's runner
    ("done", RunResult)                 the run finished (job state "saving", then "done" once stored)
    ("user_error", kind, message)       a UserInputError (bad scenario, data, non-convergence)
    ("memory_error", message)           the run needed more memory than the worker may use
    ("internal_error", kind)            anything else (details only in the server log)
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import logging
import math
import os
import queue
import signal
import socket
import threading
import time
import traceback
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Literal

from kaifang.results import RunResult
from kaifang.scenario import Scenario

__all__ = [
    "Job",
    "JobJournal",
    "JobManager",
    "JobState",
    "QueueFull",
    "default_max_queued",
    "default_worker_memory_mb",
    "default_workers",
    "interrupted_records",
    "server_id",
]

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "saving", "done", "failed", "cancelled"]
_FINAL: tuple[str, ...] = ("done", "failed", "cancelled")
_MAX_PROGRESS = 200
_MEMORY_ENV = "KAIFANG_WORKER_MEMORY_MB"


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
        except MemoryError:
            limit = os.environ.get(_MEMORY_ENV)
            cap = (
                f"the {float(limit):g} MB a worker process may use (the server's worker memory cap: "
                "`kaifang serve --worker-memory`, KAIFANG_WEB_WORKER_MEMORY_MB)"
                if limit
                else "the memory available"
            )
            conn.send(("memory_error", f"the run needed more memory than {cap}"))
        except KeyboardInterrupt:
            return
        except Exception as exc:
            traceback.print_exc()  # the server's stderr: the browser only sees the kind
            conn.send(("internal_error", type(exc).__name__))


_BOOT = (
    "import json, os, sys; sys.path[:0] = json.loads(os.environ['KAIFANG_WORKER_PATH']); "
    "from kaifang.web._jobs import _worker_entry; _worker_entry(int(sys.argv[1]))"
)


def _limit_worker() -> None:  # pragma: no cover - subprocess
    """Settings of a worker process, applied to itself before it imports anything heavy.

    * the memory cap ``KAIFANG_WORKER_MEMORY_MB`` (address space), so that one oversized run
      fails with a MemoryError instead of exhausting the machine;
    * on Linux, the out-of-memory killer picks a worker before the server (``oom_score_adj``),
      and a worker ends with the server (``PR_SET_PDEATHSIG``).
    """
    limit = os.environ.get(_MEMORY_ENV)
    if limit:
        with contextlib.suppress(Exception):
            import resource

            cap = int(float(limit) * 1024 * 1024)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as fh:
        fh.write("1000")
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        parent = os.environ.get("KAIFANG_WORKER_PARENT")
        if parent and os.getppid() != int(parent):  # the server ended before prctl took effect
            os._exit(0)


def _worker_entry(fd: int) -> None:  # pragma: no cover - subprocess
    """Entry point of a worker subprocess: ``fd`` is its end of a socket pair."""
    import json

    _limit_worker()
    conn = Connection(fd)
    runners = json.loads(os.environ.get("KAIFANG_WORKER_RUNNERS", "{}"))
    _worker_main(conn, runners)


def _memory_kb(pid: int) -> tuple[int | None, int | None]:
    """Resident memory now and at its peak (kB) of process ``pid``, from /proc (Linux), or None."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            text = fh.read()
    except OSError:
        return None, None
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, val = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            with contextlib.suppress(ValueError):
                out[key] = int(val.split()[0])
    return out.get("VmRSS"), out.get("VmHWM")


def _total_memory_kb() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _gb(kb: int) -> str:
    return f"{kb / 1024 / 1024:.1f} GB"


class _Worker:
    """One worker subprocess and the server's end of its socket pair.

    The worker is a plain ``python -c`` subprocess (not :mod:`multiprocessing` spawn, which
    would re-import the server's ``__main__``); messages are pickled over the socket with
    :class:`multiprocessing.connection.Connection`.
    """

    def __init__(self, runners: Mapping[str, str], memory_mb: float | None = None) -> None:
        import json
        import subprocess
        import sys

        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["KAIFANG_WORKER_PATH"] = json.dumps([p for p in sys.path if p])
        env["KAIFANG_WORKER_RUNNERS"] = json.dumps(dict(runners))
        env["KAIFANG_WORKER_PARENT"] = str(os.getpid())
        if memory_mb:
            env[_MEMORY_ENV] = str(memory_mb)
        else:
            env.pop(_MEMORY_ENV, None)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(child.fileno())],
            pass_fds=(child.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
        child.close()
        self.conn = Connection(parent.detach())
        self.ready = False
        self.peak_kb: int | None = None  # the largest resident memory seen while it solved

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Wait for the worker's ``("ready",)`` (its imports done); True when ready."""
        deadline = time.monotonic() + timeout
        while not self.ready and self.alive() and time.monotonic() < deadline:
            try:
                if not self.conn.poll(0.1):
                    continue
                msg = self.conn.recv()
            except (EOFError, OSError):
                return False
            if msg and msg[0] == "ready":
                self.ready = True
        return self.ready

    @property
    def exitcode(self) -> int | None:
        return self.process.poll()

    def watch_memory(self) -> None:
        """Remember the worker's peak resident memory (for the message when it is killed)."""
        _, hwm = _memory_kb(self.pid)
        if hwm is not None:
            self.peak_kb = max(self.peak_kb or 0, hwm)

    def death_reason(self) -> str:
        """Why the process ended, in words (signal or exit code, and its memory)."""
        with contextlib.suppress(Exception):
            self.process.wait(5)
        rc = self.process.poll()
        total = _total_memory_kb()
        mem = ""
        if self.peak_kb:
            mem = f"; its memory had reached {_gb(self.peak_kb)}" + (
                f" of the machine's {_gb(total)}" if total else ""
            )
        if rc is None:
            return "it stopped answering (its connection closed)"
        if rc < 0:
            try:
                name = signal.Signals(-rc).name
            except ValueError:
                name = f"signal {-rc}"
            if -rc == signal.SIGKILL:
                likely = ""
                if self.peak_kb and total and self.peak_kb > 0.5 * total:
                    likely = ", so the system most likely ended it for lack of memory"
                return (
                    f"it was killed ({name}): by the system's out-of-memory killer when a run needs more "
                    f"memory than the machine has, or by a person{mem}{likely}"
                )
            return f"it was ended by {name}{mem}"
        return f"it exited with code {rc}{mem}"

    def stop(self, *, kill: bool) -> None:
        """End the process: politely (``kill=False``) or at once (used to cancel a run)."""
        if self.alive():
            if kill:
                with contextlib.suppress(OSError):
                    self.process.kill()
            else:
                with contextlib.suppress(OSError, BrokenPipeError):
                    self.conn.send(None)
                try:
                    self.process.wait(2)
                except Exception:
                    with contextlib.suppress(OSError):
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

    def record(self, server: str) -> dict[str, Any]:
        """The job as a results-store job record (:data:`kaifang.store.JOB_COLUMNS`)."""
        return {
            "job_id": self.id,
            "server": server,
            "state": self.state,
            "created": self.created,
            "started": self.started,
            "finished": self.finished,
            "scenario": self.scenario.name,
            "model": self.scenario.model,
            "dataset": self.scenario.dataset,
            "scenario_source": self.scenario.source,
            "scenario_text": self.scenario.text,
            "run_id": self.run_id,
            "error_kind": self.error_kind,
            "error": self.error,
        }


class QueueFull(RuntimeError):
    """The job queue holds ``limit`` jobs waiting to start; try again after ``retry_after`` s."""

    def __init__(self, queued: int, limit: int, retry_after: int) -> None:
        self.queued, self.limit, self.retry_after = queued, limit, retry_after
        super().__init__(
            f"the server's job queue is full ({queued} runs waiting, the limit is {limit}); try again in "
            f"about {retry_after} s, or cancel runs you no longer need."
        )


def server_id() -> str:
    """An id of this server process for job records: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as fh:
        return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    return True


STOPPED_KIND = "ServerStopped"


def _stopped_message(state: str) -> str:
    doing = {"saving": "being saved"}.get(state, state)
    return (
        f"interrupted: the web server stopped while this run was {doing}, so it did not finish. "
        "Its scenario is kept: open it again and run it."
    )


def interrupted_records(records: Iterable[Mapping[str, Any]], me: str) -> list[dict[str, Any]]:
    """Records of jobs left queued or running by a server that no longer runs, marked failed.

    A record belongs to a server ``host:pid:random``; its job is taken as interrupted when that
    server is not this one (``me``) and, on this host, its process is gone. Jobs of a live server
    on the same store are left alone; a server on another host is taken as gone.
    """
    host = me.split(":", 1)[0]
    out = []
    now = time.time()
    for rec in records:
        if rec.get("state") in _FINAL:
            continue
        owner = str(rec.get("server") or "")
        if owner == me:
            continue
        o_host, _, rest = owner.partition(":")
        pid_s = rest.partition(":")[0]
        if o_host == host and pid_s.isdigit() and _process_alive(int(pid_s)):
            continue
        out.append(
            {
                **dict(rec),
                "state": "failed",
                "finished": now,
                "error_kind": STOPPED_KIND,
                "error": _stopped_message(str(rec.get("state"))),
            }
        )
    return out


class JobJournal:
    """Writes job records to the results store from one background thread (group commit).

    ``record(job)`` queues the job's current state (the latest state of a job replaces an
    unwritten earlier one); the thread writes everything queued in one transaction.
    ``record(job, wait=True)`` returns once that state is in the store (used on submission, so
    an accepted job is on disk before the server answers). Failures to write are logged, never
    raised into a run.
    """

    def __init__(self, write: Callable[[list[dict[str, Any]]], None], server: str) -> None:
        self._write = write
        self.server = server
        self._cond = threading.Condition()
        self._pending: dict[str, dict[str, Any]] = {}
        self._queued = 0  # records handed in
        self._done = 0  # records handed in and written (or given up on)
        self._closed = False
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="kaifang-web-journal", daemon=True)
            self._thread.start()

    def record(self, job: Job, *, wait: bool = False, timeout: float = 30.0) -> None:
        """Queue ``job``'s state for the store; with ``wait``, until it is written."""
        rec = job.record(self.server)
        with self._cond:
            if self._closed:
                self._write_now([rec])
                return
            self._start()
            self._pending[job.id] = rec
            self._queued += 1
            mine = self._queued
            self._cond.notify_all()
            if wait:
                self._cond.wait_for(lambda: self._done >= mine, timeout)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until every queued record is written."""
        with self._cond:
            target = self._queued
            self._cond.wait_for(lambda: self._done >= target or self._thread is None, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the thread."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _write_now(self, batch: list[dict[str, Any]]) -> None:
        try:
            self._write(batch)
        except Exception:
            log.exception("could not record %d job state(s) in the results store", len(batch))

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                if not self._pending:
                    return
                batch, self._pending = list(self._pending.values()), {}
                upto = self._queued
            self._write_now(batch)
            with self._cond:
                self._done = upto
                self._cond.notify_all()


class JobManager:
    """Bounded queue of runs served by ``workers`` warm worker processes.

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
        How many finished jobs to remember in memory (all are in the journal).
    max_queued
        Most jobs waiting to start; :meth:`submit` raises :class:`QueueFull` beyond.
    worker_memory_mb
        Address-space cap of each worker process in MB (``None``: no cap). A run that needs
        more fails with a message saying so; the worker goes on.
    journal
        Where job states are recorded (the results store), or ``None``.
    """

    def __init__(
        self,
        on_result: Callable[[RunResult, Scenario], str],
        *,
        workers: int = 1,
        runners: Mapping[str, str] | None = None,
        keep: int = 200,
        max_queued: int = 100,
        worker_memory_mb: float | None = None,
        journal: JobJournal | None = None,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be >= 1")
        if max_queued < 1:
            raise ValueError("max_queued must be >= 1")
        self._on_result = on_result
        self._n = workers
        self._extra_runners = dict(runners or {})
        self._keep = max(keep, max_queued + workers)
        self.max_queued = max_queued
        self._memory_mb = worker_memory_mb
        self._journal = journal
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._workers: list[_Worker | None] = []
        self._started = False
        self._closed = False
        self._counter = itertools.count(1)
        self._durations: deque[float] = deque(maxlen=20)

    @property
    def workers(self) -> int:
        return self._n

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
        """Stop: jobs still queued or running are recorded as interrupted; workers and threads end."""
        with self._lock:
            self._closed = True
            jobs = list(self._jobs.values())
            now = time.time()
            for job in jobs:
                if not job.final:
                    job._set(
                        state="failed",
                        finished=now,
                        result=None,
                        error_kind=STOPPED_KIND,
                        error=_stopped_message(job.state),
                    )
                    self._record(job)
                    job.cancel_requested.set()
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(10)
        for w in self._workers:
            if w is not None:
                w.stop(kill=False)
        if self._journal is not None:
            self._journal.close()

    # -- API ----------------------------------------------------------------------------------
    def submit(self, scenario: Scenario) -> Job:
        """Queue a validated scenario; returns its job at once (:class:`QueueFull` when full)."""
        if self._closed:
            raise RuntimeError("the job manager is closed")
        self.start()
        job = Job(id=f"job-{next(self._counter)}-{uuid.uuid4().hex[:8]}", scenario=scenario)
        with self._lock:
            waiting = sum(1 for j in self._jobs.values() if j.state == "queued")
            if waiting >= self.max_queued:
                raise QueueFull(waiting, self.max_queued, self._retry_after())
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:
                oldest = next(iter(self._jobs))
                if not self._jobs[oldest].final:
                    break
                self._jobs.pop(oldest)
        if self._journal is not None:
            self._journal.record(job, wait=True)  # on disk before the server answers
        self._queue.put(job)
        return job

    def _retry_after(self) -> int:
        """Seconds until a place in the queue is likely free: a worker takes the next queued job
        after about one run time (the mean of recent runs) divided by the number of workers."""
        mean = sum(self._durations) / len(self._durations) if self._durations else 5.0
        return int(min(600, max(1, math.ceil(mean / self._n))))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        with self._lock:
            return list(reversed(self._jobs.values()))

    def counts(self) -> dict[str, int]:
        """How many jobs are queued and running now."""
        with self._lock:
            states = [j.state for j in self._jobs.values()]
        return {"queued": states.count("queued"), "running": states.count("running") + states.count("saving")}

    def cancel(self, job_id: str) -> Job | None:
        """Ask for a job to stop: a queued job never starts, a running one's process is terminated."""
        job = self.get(job_id)
        if job is None:
            return None
        if not job.final:
            job.cancel_requested.set()
            with self._lock:
                cancelled = job.state == "queued" and self._finish(job, state="cancelled")
            if cancelled and self._journal is not None:
                self._journal.record(job, wait=True)  # on disk before the server answers
        return job

    # -- dispatcher ---------------------------------------------------------------------------
    def _record(self, job: Job) -> None:
        """Queue the job's state for the journal (call with the lock held)."""
        if self._journal is not None:
            self._journal.record(job)

    def _finish(self, job: Job, **changes: Any) -> bool:
        """Set a final state unless the job already has one (call with the lock held)."""
        if job.final:
            return False
        job._set(finished=time.time(), result=None, **changes)
        if job.started is not None and job.finished is not None:
            self._durations.append(job.finished - job.started)
        self._record(job)
        return True

    def _runners(self) -> dict[str, str]:
        from kaifang.models import RUNNERS

        return {**RUNNERS, **self._extra_runners}

    def _worker(self, slot: int) -> _Worker:
        """The slot's worker, started anew when there is none or it has died."""
        w = self._workers[slot]
        if w is None or not w.alive():
            if w is not None:
                w.stop(kill=True)
            w = _Worker(self._runners(), self._memory_mb)
            self._workers[slot] = w
        return w

    def _ensure_ready(self, slot: int) -> bool:
        """Start the slot's worker if needed and wait for its imports; False if it cannot start."""
        if self._closed:
            return False
        try:
            w = self._worker(slot)
            if w.ready and w.alive():
                return True
            if w.wait_ready():
                return True
            log.error("worker process %d did not start: %s", w.pid, w.death_reason())
        except Exception:
            log.exception("could not start a worker process")
        return False

    def ready_workers(self) -> int:
        """How many worker processes have finished their imports and wait for runs."""
        return sum(1 for w in list(self._workers) if w is not None and w.ready and w.alive())

    def _dispatch(self, slot: int) -> None:
        self._ensure_ready(slot)  # start warm, before the first job arrives
        while True:
            try:
                job = self._queue.get(timeout=1.0)
            except queue.Empty:
                if self._closed:
                    return
                w = self._workers[slot]
                if w is not None and not w.alive():  # died while idle: replace it
                    log.warning("idle worker process %d ended: %s", w.pid, w.death_reason())
                    self._workers[slot] = None
                    self._ensure_ready(slot)
                continue
            if job is None:
                return
            with self._lock:
                if job.state != "queued" or job.cancel_requested.is_set():
                    continue
                job._set(state="running", started=time.time())
                self._record(job)
            try:
                self._run(slot, job)
            except Exception as exc:  # never let a dispatcher thread die
                log.exception("job %s failed in the dispatcher", job.id)
                with self._lock:
                    self._finish(
                        job,
                        state="failed",
                        error_kind=type(exc).__name__,
                        error="internal error while running the scenario (see the server log)",
                    )
            if not self._closed and (self._workers[slot] is None or not self._workers[slot].alive()):
                self._workers[slot] = None
                self._ensure_ready(slot)  # a fresh warm worker for the next job

    def _died(self, slot: int, w: _Worker, job: Job) -> None:
        """The worker solving ``job`` has died: fail the job with the reason; drop the worker."""
        if job.cancel_requested.is_set():  # killed by a cancel (or the server stopping)
            with self._lock:
                self._finish(job, state="cancelled")
            self._workers[slot] = None
            return
        reason = w.death_reason()
        log.error("worker process %d died while solving job %s: %s", w.pid, job.id, reason)
        self._workers[slot] = None
        w.stop(kill=True)
        with self._lock:
            self._finish(
                job,
                state="failed",
                error_kind="WorkerDied",
                error=(
                    f"the worker process solving this run died, so the run did not finish: {reason}. "
                    "A fresh worker takes the next run. If the run is large, make it smaller (fewer regions, "
                    "draws or sectors) or give the server more memory."
                ),
            )

    def _run(self, slot: int, job: Job) -> None:
        if not self._ensure_ready(slot):
            w = self._workers[slot]
            why = w.death_reason() if w is not None else "it could not be started"
            self._workers[slot] = None
            with self._lock:
                self._finish(
                    job,
                    state="failed",
                    error_kind="WorkerDied",
                    error=f"no worker process could be started for this run ({why}); see the server log.",
                )
            return
        w = self._workers[slot]
        assert w is not None
        w.peak_kb = None
        try:
            w.conn.send((job.scenario.text, job.scenario.source))
        except OSError:
            self._died(slot, w, job)
            return
        next_watch = 0.0
        while True:
            if job.cancel_requested.is_set():
                w.stop(kill=True)
                self._workers[slot] = None
                with self._lock:
                    self._finish(job, state="cancelled")
                return
            now = time.monotonic()
            if now >= next_watch:
                w.watch_memory()
                next_watch = now + 0.25
            try:
                has_msg = w.conn.poll(0.02)
                msg = w.conn.recv() if has_msg else None
            except (EOFError, OSError):  # the pipe is closed: the worker has died
                self._died(slot, w, job)
                return
            if msg is None:
                if not w.alive():
                    self._died(slot, w, job)
                    return
                continue
            kind = msg[0]
            if kind == "ready":
                w.ready = True
            elif kind == "progress":
                with self._lock:
                    prog = [*job.progress, msg[1]][-_MAX_PROGRESS:]
                    job._set(progress=prog)
            elif kind == "done":
                self._save(job, msg[1])
                return
            elif kind == "user_error":
                with self._lock:
                    self._finish(job, state="failed", error_kind=msg[1], error=msg[2])
                return
            elif kind == "memory_error":
                with self._lock:
                    self._finish(
                        job,
                        state="failed",
                        error_kind="MemoryError",
                        error=f"{msg[1]}; make the run smaller (fewer regions, draws or sectors).",
                    )
                return
            elif kind == "internal_error":
                with self._lock:
                    self._finish(
                        job,
                        state="failed",
                        error_kind=msg[1],
                        error=f"internal error ({msg[1]}) while solving; details are in the server log.",
                    )
                return

    def _save(self, job: Job, result: RunResult) -> None:
        with self._lock:
            if job.cancel_requested.is_set():
                self._finish(job, state="cancelled")
                return
            # the result can be shown while it is being saved in the store
            job._set(state="saving", result=result)
            self._record(job)
        try:
            run_id = self._on_result(result, job.scenario)
        except Exception as exc:
            log.exception("saving the result of job %s failed", job.id)
            from kaifang.errors import UserInputError

            text = (
                str(exc)
                if isinstance(exc, UserInputError)
                else "saving the result failed (see the server log)"
            )
            with self._lock:
                self._finish(
                    job,
                    state="failed",
                    error_kind=type(exc).__name__,
                    error=f"the run finished but was not saved: {text}",
                )
            return
        with self._lock:
            if job.final:  # the server stopped meanwhile: the run is saved all the same
                job._set(run_id=str(run_id))
                self._record(job)
            else:
                self._finish(job, state="done", run_id=str(run_id))


def _env_number(name: str, default: float | None, *, minimum: float) -> float | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, raw, default)
        return default
    return max(minimum, value)


def default_workers() -> int:
    """Worker processes by default: ``KAIFANG_WEB_WORKERS`` or 1."""
    return int(_env_number("KAIFANG_WEB_WORKERS", 1, minimum=1) or 1)


def default_max_queued() -> int:
    """Most jobs waiting to start by default: ``KAIFANG_WEB_MAX_QUEUE`` or 100."""
    return int(_env_number("KAIFANG_WEB_MAX_QUEUE", 100, minimum=1) or 100)


def default_worker_memory_mb() -> float | None:
    """Memory cap of a worker process in MB by default: ``KAIFANG_WEB_WORKER_MEMORY_MB`` or none."""
    return _env_number("KAIFANG_WEB_WORKER_MEMORY_MB", None, minimum=256)
