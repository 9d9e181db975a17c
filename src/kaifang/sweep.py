"""Running a scenario sweep: every point of a ``[sweep]`` file solved, on Dask or serially.

The points come from :func:`kaifang.scenario.sweep.load_sweep`; each is an ordinary scenario,
solved by :func:`kaifang.models.run_scenario` exactly as ``kaifang run`` would (the models know
nothing of sweeps). Where the points run:

* by default on a :class:`distributed.LocalCluster` started for the sweep: one worker process
  per core, one thread each, the BLAS/OpenMP/numba pools pinned to one thread, listening on the
  loopback interface only;
* on an existing Dask cluster: give ``scheduler="tcp://host:8786"`` or a connected
  :class:`distributed.Client` (e.g. of a ``dask_jobqueue.SLURMCluster``);
* in this process, one after the other (``engine="serial"``; no Dask needed).

All three give identical results (the same function solves each point; the summary is
sorted by point). Before any point is solved, every point is validated and all invalid ones
reported at once; then the first point is solved alone to measure what one result weighs, and
a sweep whose results would not fit in memory is refused before the others start. A point that
fails (e.g. does not converge) is recorded and counted; the others still run.

Example::

    from kaifang.scenario.sweep import load_sweep
    from kaifang.sweep import run_sweep

    sw = load_sweep("scenarios/sweep-demo-tariff-war.toml")
    res = run_sweep(sw)                       # a local cluster, one worker per core
    res.summary                               # one row per point and region
    res = run_sweep(sw, engine="serial")      # the same numbers, no Dask

    from dask_jobqueue import SLURMCluster    # on a Slurm machine
    from distributed import Client
    cluster = SLURMCluster(cores=1, processes=1, memory="4GB", walltime="01:00:00")
    cluster.scale(jobs=20)
    res = run_sweep(sw, client=Client(cluster))

The user guide is ``docs/sweeps.md``.
"""

from __future__ import annotations

import contextlib
import json
import math
import sys
import time
import traceback
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from kaifang._environ import environ
from kaifang.errors import ConvergenceError, KaifangWarning, UserInputError
from kaifang.results import Columns, RunResult, package_version
from kaifang.results._columns import as_frame
from kaifang.scenario.sweep import Sweep, SweepError, SweepPoint, invalid_points_message, load_sweep

if TYPE_CHECKING:  # pragma: no cover
    import distributed

    from kaifang.store import ResultsStore

__all__ = [
    "PointOutcome",
    "SweepResult",
    "SweepSizeError",
    "load_sweep",
    "run_sweep",
    "single_threaded",
    "solve_point",
    "validate_sweep",
]

Engine = Literal["local", "serial"]
PointStatus = Literal["ok", "failed", "error"]

#: Share of the available memory a sweep may plan to use (the rest is for everything else).
MEMORY_SHARE = 0.8
#: Seconds of solving a cluster task aims at: short points are sent several to a task, since
#: each task costs the scheduler, the client and the worker some milliseconds of their own.
TASK_SECONDS = 0.5


class SweepSizeError(SweepError):
    """A sweep whose results would not fit in the memory available (or allowed)."""


@dataclass(frozen=True)
class PointOutcome:
    """What solving one point gave.

    Attributes
    ----------
    index, name, values
        The point (see :class:`~kaifang.scenario.sweep.SweepPoint`).
    status
        ``"ok"``; ``"failed"``: a user-facing error (no convergence, a value the model
        refused); ``"error"``: an internal failure or a worker that died.
    result
        The run's :class:`~kaifang.results.RunResult` (``None`` unless ``ok``; dropped from
        :attr:`SweepResult.outcomes` unless ``keep_results``).
    error
        The message when not ``ok``.
    seconds
        Wall time of the point (solve and tables) where it ran.
    nbytes
        In-memory size of the result's tables (bytes).
    warnings
        The :class:`~kaifang.errors.KaifangWarning` messages of the run.
    run_id
        The run's id in the results store, when the sweep was recorded in one.
    """

    index: int
    name: str
    values: Mapping[str, Any]
    status: PointStatus
    result: RunResult | None = field(default=None, repr=False)
    error: str | None = None
    seconds: float = 0.0
    nbytes: int = 0
    warnings: tuple[str, ...] = ()
    run_id: str | None = None


def _nbytes(result: RunResult) -> int:
    """In-memory size of the result's tables, without turning numpy-column tables into
    DataFrames (an upper bound on their size as DataFrames: see ``Columns.nbytes``)."""
    return sum(_table_bytes(t) for t in result.raw_tables().values())


def _table_bytes(table: Columns | pd.DataFrame) -> int:
    """Bytes one table takes in memory (:attr:`Columns.nbytes` bounds its DataFrame's)."""
    return (
        table.nbytes if isinstance(table, Columns) else int(table.memory_usage(deep=True, index=True).sum())
    )


def sweep_provenance(sweep: Sweep, point: SweepPoint) -> dict[str, Any]:
    """What each point's run records about its sweep (``provenance["sweep"]``)."""
    return {
        "name": sweep.name,
        "source": sweep.source,
        "sha256": sweep.sha256,
        "text": sweep.text,
        "mode": sweep.mode,
        "n_points": len(sweep),
        "index": point.index,
        "values": dict(point.values),
        "assignments": dict(point.assignments),
    }


@contextlib.contextmanager
def single_threaded(estimation: bool = True) -> Iterator[None]:
    """Run the enclosed solves on one thread: the BLAS and OpenMP pools (threadpoolctl) and,
    with ``estimation``, the PPML estimator's row kernels (``KAIFANG_HDFE_THREADS``).

    A sweep's workers run this way (one thread each, the cores are shared out by processes), and
    so does the serial engine: the same point then gives the same numbers, bit for bit, wherever
    it is solved (a multi-threaded BLAS sums in another order).
    """
    # threadpoolctl limits the libraries loaded so far: load SciPy's own BLAS (the ims2025 solver
    # uses it) first, or a point that loads it would run it on every core
    import scipy.linalg  # noqa: F401

    var = "KAIFANG_HDFE_THREADS"  # kaifang.estimate.hdfe._threads.ENV_VAR (not imported: numba)
    with environ({var: "1"} if estimation else {}), _controller().limit(limits=1):
        yield


_CONTROLLER: list[Any] = []  # [number of modules loaded when it was made, the controller]


def _controller() -> Any:
    """A :class:`threadpoolctl.ThreadpoolController` of the libraries loaded so far, made again
    when modules were imported since (finding the libraries takes 3 ms; a point's validation and
    solve each ask)."""
    if not _CONTROLLER or _CONTROLLER[0] != len(sys.modules):
        from threadpoolctl import ThreadpoolController

        controller = ThreadpoolController()
        _CONTROLLER[:] = [len(sys.modules), controller]
    return _CONTROLLER[1]


def solve_point(point: SweepPoint, info: Mapping[str, Any], full: bool = True) -> PointOutcome:
    """Solve one point (what each worker runs; ``--serial`` runs the same function), on one
    thread (:func:`single_threaded`).

    ``info`` is :func:`sweep_provenance` without the point's own fields; it is recorded in the
    run's provenance under ``"sweep"``. With ``full = False`` the result keeps its per-region
    table only (what the summary needs; less to send back from a worker). Errors do not
    propagate: they become the outcome's ``status`` and ``error``.
    """
    from kaifang.models import run_scenario

    t0 = time.perf_counter()
    status: PointStatus = "ok"
    result = error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KaifangWarning)
        try:
            with single_threaded(estimation=bool(point.scenario.estimation)):
                result = run_scenario(point.scenario)
        except (ConvergenceError, UserInputError) as exc:
            status, error = "failed", str(exc)
        except Exception as exc:  # an internal failure: recorded with where it happened
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            status = "error"
            error = f"{type(exc).__name__}: {exc} (at {Path(tb.filename).name}:{tb.lineno}, a bug in kaifang)"
    msgs = tuple(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, KaifangWarning)))
    for w in caught:
        if not issubclass(w.category, KaifangWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    nbytes = 0
    if result is not None:
        prov = {
            **info,
            "index": point.index,
            "values": dict(point.values),
            "assignments": dict(point.assignments),
        }
        # RunResult.replace leaves numpy-column tables as they are (dataclasses.replace would
        # read, and so convert, every table)
        result = result.replace(provenance={**result.provenance, "sweep": prov})
        nbytes = _nbytes(result)
        if not full:
            result = result.replace(tables={})
    return PointOutcome(
        index=point.index,
        name=point.scenario.name,
        values=dict(point.values),
        status=status,
        result=result,
        error=error,
        seconds=time.perf_counter() - t0,
        nbytes=nbytes,
        warnings=msgs,
    )


def solve_points(
    points: Sequence[SweepPoint],
    info: Mapping[str, Any],
    full: bool = True,
    warm: Mapping[str, Any] | None = None,
) -> list[PointOutcome]:
    """:func:`solve_point` for each of ``points`` (one cluster task for several short points:
    Dask's own cost per task is then paid once for all of them). ``warm``: cache entries from
    the process that started the cluster (:func:`kaifang._warm.adopt`), taken over first."""
    if warm:
        from kaifang._warm import adopt

        adopt(warm)
    return [solve_point(p, info, full) for p in points]


# -- validation ---------------------------------------------------------------------------------
def _basic_validation(scenario: Any) -> None:
    """What can be checked without the models' own validation: the model and the data set
    exist, and the shocks follow the shock schema."""
    from kaifang.data.registry import get_dataset
    from kaifang.models import get_runner
    from kaifang.scenario.shocks import parse_shocks

    get_runner(scenario.model, scenario.source)
    get_dataset(scenario.dataset)
    parse_shocks(scenario)


def _validator() -> Callable[[Any], Any]:
    try:
        from kaifang.models import validate_scenario  # full validation without solving, where present
    except ImportError:
        return _basic_validation
    return validate_scenario


def check_point(point: SweepPoint) -> str | None:
    """The validation error of one point (``None`` when valid). Runs where the points run, on
    one thread as they are solved (:func:`single_threaded`)."""
    try:
        with warnings.catch_warnings(), single_threaded(estimation=bool(point.scenario.estimation)):
            warnings.simplefilter("ignore", KaifangWarning)  # warnings come again with the run
            _validator()(point.scenario)
    except UserInputError as exc:
        return str(exc)
    return None


def _ranges(idx: Sequence[int]) -> str:
    out, start, prev = [], idx[0], idx[0]
    for i in [*idx[1:], None]:
        if i is not None and i == prev + 1:
            prev = i
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if i is not None:
            start = prev = i
    return ", ".join(out)


def _validation_report(sweep: Sweep, errors: Mapping[int, str]) -> str:
    points = {p.index: p for p in sweep.points}
    by_msg: dict[str, list[int]] = {}
    for i, msg in sorted(errors.items()):
        by_msg.setdefault(msg.replace(f"{sweep.source}: ", ""), []).append(i)
    lines = []
    for msg, idx in by_msg.items():
        if len(idx) == 1:
            lines.append(f"{points[idx[0]].describe()}: {msg}")
        else:
            lines.append(f"points {_ranges(idx)} ({len(idx)} points): {msg}")
    return invalid_points_message(sweep.source, lines, len(sweep), n_invalid=len(errors))


def check_points(points: Sequence[SweepPoint]) -> list[str | None]:
    """:func:`check_point` for each of ``points`` (one task per chunk of points on a cluster)."""
    return [check_point(p) for p in points]


def validate_sweep(
    sweep: Sweep, map_fn: Callable[[Callable, Iterable], Iterable] = map, chunks: int = 1
) -> None:
    """Validate every point of ``sweep`` (with the models' checks) before any is solved.

    Parameters
    ----------
    sweep
        The expanded sweep.
    map_fn
        How to map the check over chunks of points (``map`` here; the runner passes one that
        runs on the cluster).
    chunks
        Into how many chunks to split the points (e.g. a few per worker).

    Raises
    ------
    SweepError
        Listing every invalid point (points sharing one message are grouped).
    """
    pts = list(sweep.points)
    size = max(1, math.ceil(len(pts) / max(1, chunks)))
    parts = [pts[k : k + size] for k in range(0, len(pts), size)]
    found = [e for part in map_fn(check_points, parts) for e in part]
    errors = {p.index: e for p, e in zip(pts, found, strict=True) if e}
    if errors:
        raise SweepError(_validation_report(sweep, errors))


# -- memory -------------------------------------------------------------------------------------
def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError


def parse_size(text: str) -> int:
    """``"2GB"``, ``"512 MiB"``, ``"1.5G"``, ``"1000"`` (bytes) -> bytes.

    Raises
    ------
    UserInputError
        When ``text`` is not a size.
    """
    import re

    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b?)\s*", text.lower())
    if not m:
        raise UserInputError(f"{text!r} is not a memory size; write it like 2GB, 512MiB or 1.5G.")
    value, prefix = float(m.group(1)), m.group(2)
    base = 1024 if m.group(3).startswith("i") else 1000
    return int(value * base ** " kmgt".index(prefix or " "))


def available_memory() -> int:
    """Bytes of memory available to new allocations on this machine."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_memory(
    sweep: Sweep,
    *,
    per_point_kept: int,
    per_point_full: int,
    in_flight: int,
    limit: int | None = None,
) -> str:
    """Refuse a sweep whose kept results would not fit; return a sentence with the estimate.

    The estimate is ``points x bytes kept per point + results in transit x full result``.

    Raises
    ------
    SweepSizeError
        When the estimate exceeds ``limit`` (bytes), or by default :data:`MEMORY_SHARE` of the
        memory available on this machine.
    """
    n = len(sweep)
    need = n * per_point_kept + in_flight * per_point_full
    if limit is None:
        avail = available_memory()
        allowed, what = int(avail * MEMORY_SHARE), f"{MEMORY_SHARE:.0%} of the {_size(avail)} available"
    else:
        allowed, what = limit, "the memory limit given"
    line = (
        f"about {_size(need)} ({n:,} points x {_size(per_point_kept)} kept each, measured on the first "
        f"point, plus {in_flight} result{'s' if in_flight != 1 else ''} in transit x {_size(per_point_full)})"
    )
    if need > allowed:
        raise SweepSizeError(
            f"{sweep.source}: the sweep's results need {line}, more than {what} ({_size(allowed)}). No "
            f"point was stored. Split the sweep into smaller files, coarsen a dimension, or raise the limit "
            f"(--memory-limit) if the memory is there."
        )
    return f"memory: {line}; {what}"


# -- engines ------------------------------------------------------------------------------------
class _SerialEngine:
    """Points solved in this process, one at a time."""

    description = "serial (this process)"

    def __init__(self) -> None:
        self._queue: list[tuple[Sequence[SweepPoint], Mapping[str, Any], bool]] = []

    def capacity(self) -> int:
        return 1

    def chunk_size(self, seconds_per_point: float, remaining: int) -> int:
        return 1  # no cost per task here

    def map(self, fn: Callable, items: Iterable) -> list:
        return [fn(x) for x in items]

    def submit(self, points: Sequence[SweepPoint], info: Mapping[str, Any], full: bool) -> None:
        self._queue.append((points, info, full))

    def pending(self) -> int:
        return len(self._queue)

    def next_done(self) -> list[PointOutcome]:
        points, info, full = self._queue.pop(0)
        return solve_points(points, info, full)

    def cancel(self) -> None:
        self._queue.clear()


class _DaskEngine:
    """Points solved as Dask tasks (several short points to a task), at most twice as many tasks
    in flight as the cluster has threads (results are gathered and released as they finish)."""

    def __init__(
        self, client: distributed.Client, description: str, warm: Mapping[str, Any] | None = None
    ) -> None:
        self.client = client
        self.description = description
        self._warm: Any = warm  # cache entries for the workers; sent to each once, at the first submit
        self._futures: dict[Any, list[SweepPoint]] = {}
        self._tag = uuid.uuid4().hex[:8]
        from distributed import as_completed

        self._done = as_completed(loop=client.loop)

    def capacity(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def map(self, fn: Callable, items: Iterable) -> list:
        items = list(items)
        keys = [f"kaifang-check-{self._tag}-{k}" for k in range(len(items))]
        futures = self.client.map(fn, items, key=keys, pure=False)
        return self.client.gather(futures)

    def chunk_size(self, seconds_per_point: float, remaining: int) -> int:
        """Points per task: enough for a task of about :data:`TASK_SECONDS`, few enough that every
        worker still gets four tasks of what remains (no long wait for the last one)."""
        want = math.ceil(TASK_SECONDS / max(seconds_per_point, 1e-3))
        return max(1, min(want, remaining // (4 * self.capacity())))

    def submit(self, points: Sequence[SweepPoint], info: Mapping[str, Any], full: bool) -> None:
        key = f"kaifang-point-{self._tag}-{points[0].index}"
        if isinstance(self._warm, Mapping):
            self._warm = self.client.scatter([self._warm], broadcast=True, hash=False)[0]
        fut = self.client.submit(solve_points, list(points), info, full, self._warm, key=key, pure=False)
        self._futures[fut] = list(points)
        self._done.add(fut)

    def pending(self) -> int:
        return len(self._futures)

    def next_done(self) -> list[PointOutcome]:
        done = [next(self._done)]
        done += [f for f in self._done.next_batch(block=False) if f in self._futures]
        out = []
        for fut in done:
            points = self._futures.pop(fut)
            try:
                out.extend(fut.result())
            except Exception as exc:  # the task did not return: a worker died, or was lost
                out.extend(
                    PointOutcome(
                        index=point.index,
                        name=point.scenario.name,
                        values=dict(point.values),
                        status="error",
                        error=(
                            f"{type(exc).__name__}: {exc}. The worker solving it died or was lost "
                            f"(often: out of memory; see the workers' logs)."
                        ),
                    )
                    for point in points
                )
            fut.release()
        return out

    def cancel(self) -> None:
        if self._futures:
            self.client.cancel(list(self._futures))
        self._futures.clear()


# -- the result ---------------------------------------------------------------------------------
def _value_column(values: list[Any]) -> list[Any]:
    """A summary column of point values: numbers and strings as they are; lists and tables as
    compact JSON; a column mixing kinds all as text."""
    out = [json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v for v in values]
    kinds = {type(v) for v in out}
    if len(kinds) > 1 and not kinds <= {int, float}:
        out = [v if isinstance(v, str) else json.dumps(v) for v in out]
    return out


def _point_frame(sweep: Sweep, outcome: PointOutcome, result: RunResult) -> Columns | pd.DataFrame:
    """The summary's rows of one point: ``point``, the point's values, then its per-region table.

    Numpy columns where the model built the table that way, else a DataFrame. :func:`_summary`
    turns the columns of all points into one DataFrame at the end: one DataFrame per point would
    cost the client about 6 ms a point, a tenth of a short solve."""
    regions = result.raw_tables()["regions"]
    cols: dict[str, Any] = {"point": outcome.index}
    for label in sweep.labels:
        v = outcome.values[label]
        cols[label if label not in regions.columns else f"sweep:{label}"] = (
            json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else v
        )
    if isinstance(regions, Columns):
        return Columns({**cols, **{k: regions[k] for k in regions.columns}})
    df = regions.reset_index(drop=True)
    front = pd.DataFrame(cols, index=df.index)
    return pd.concat([front, df], axis=1)


def _diagnostics(result: RunResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    keep = ("converged", "iterations", "residual", "solve_seconds")
    return {k: result.diagnostics[k] for k in keep if k in result.diagnostics}


@dataclass(frozen=True)
class SweepResult:
    """A solved sweep. Immutable.

    Attributes
    ----------
    sweep
        What was swept.
    outcomes
        One :class:`PointOutcome` per point, in point order (with its ``result`` only when
        ``run_sweep(..., keep_results=True)``).
    summary
        One row per solved point and region: ``point``, one column per dimension (its label:
        numbers and text as they are, lists as JSON text), then the model's per-region columns
        (``region``, ``welfare_pct``, ...). Failed points have no rows here; see
        :meth:`points_table`.
    engine
        Where the points ran (``"serial (this process)"``, ``"local Dask cluster (2 workers)"``...).
    seconds
        Wall time of the whole sweep (validation, cluster start and solving).
    diagnostics
        Point index (as text) -> the run's main diagnostics (converged, iterations, residual,
        solve_seconds).
    sweep_id
        The sweep's id in the results store, when it was recorded.
    """

    sweep: Sweep
    outcomes: tuple[PointOutcome, ...]
    summary: pd.DataFrame = field(repr=False)
    engine: str = ""
    seconds: float = 0.0
    diagnostics: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    sweep_id: str | None = None

    @property
    def n_failed(self) -> int:
        """Points that did not give a result."""
        return sum(o.status != "ok" for o in self.outcomes)

    @property
    def failed(self) -> tuple[PointOutcome, ...]:
        """The outcomes of the points that did not give a result."""
        return tuple(o for o in self.outcomes if o.status != "ok")

    def points_table(self) -> pd.DataFrame:
        """One row per point: ``point``, ``name``, the dimension values, ``status``, ``error``,
        ``run_id``, ``seconds``."""
        rows = []
        for o in self.outcomes:
            rows.append(
                {
                    "point": o.index,
                    "name": o.name,
                    **dict(o.values),
                    "status": o.status,
                    "error": o.error,
                    "run_id": o.run_id,
                    "seconds": o.seconds,
                }
            )
        df = pd.DataFrame(rows)
        for label in self.sweep.labels:
            df[label] = _value_column(list(df[label]))
        return df

    def to_document(self) -> dict[str, Any]:
        """The JSON document of ``kaifang sweep --json``: the sweep, counts and ``points``
        (each with its values, status, run id, diagnostics and ``regions``)."""
        from kaifang.results._impl import _clean

        rows_by_point: dict[int, list[dict[str, Any]]] = {}
        if len(self.summary):
            value_cols = ["point", *[c for c in self.summary.columns if c in self.sweep.labels]]
            value_cols += [c for c in self.summary.columns if c.startswith("sweep:")]
            body = self.summary.drop(columns=value_cols[1:])
            for rec in body.to_dict(orient="records"):
                rows_by_point.setdefault(int(rec.pop("point")), []).append(_clean(rec))
        by_index = {p.index: p for p in self.sweep.points}
        points = []
        for o in self.outcomes:
            points.append(
                {
                    "index": o.index,
                    "name": o.name,
                    "values": _clean(dict(o.values)),
                    "assignments": _clean(dict(by_index[o.index].assignments)),
                    "status": o.status,
                    "error": o.error,
                    "run_id": o.run_id,
                    "seconds": o.seconds,
                    "warnings": list(o.warnings),
                    "diagnostics": _clean(dict(self.diagnostics.get(str(o.index), {}))),
                    "regions": rows_by_point.get(o.index, []),
                }
            )
        return {
            "sweep": self.sweep.name,
            "description": self.sweep.description,
            "source": self.sweep.source,
            "sweep_sha256": self.sweep.sha256,
            "model": self.sweep.base.model,
            "dataset": self.sweep.base.dataset,
            "mode": self.sweep.mode,
            "dimensions": [
                {"label": d.label, "fields": list(d.fields), "op": d.op, "values": _clean(list(d.values))}
                for d in self.sweep.dimensions
            ],
            "engine": self.engine,
            "n_points": len(self.outcomes),
            "n_solved": len(self.outcomes) - self.n_failed,
            "n_failed": self.n_failed,
            "seconds": self.seconds,
            "sweep_id": self.sweep_id,
            "kaifang_version": package_version(),
            "points": points,
        }

    def save(self, folder: str | Path) -> Path:
        """Write ``summary.csv``, ``points.csv``, ``sweep.json`` (:meth:`to_document`) and
        ``sweep.toml`` (the sweep file's exact text) into ``folder``; return the folder."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        self.summary.to_csv(out / "summary.csv", index=False)
        self.points_table().to_csv(out / "points.csv", index=False)
        (out / "sweep.json").write_text(json.dumps(self.to_document(), indent=2, allow_nan=False) + "\n")
        (out / "sweep.toml").write_text(self.sweep.text)
        return out


# -- the runner ---------------------------------------------------------------------------------
def run_sweep(
    sweep: Sweep,
    *,
    engine: Engine = "local",
    client: distributed.Client | None = None,
    scheduler: str | None = None,
    n_workers: int | None = None,
    worker_env: Mapping[str, str] | None = None,
    forward_env: bool = True,
    dashboard: bool = False,
    connect_timeout: float = 10.0,
    memory_limit: int | None = None,
    keep_results: bool = False,
    full_results: bool | None = None,
    validate: bool = True,
    store: ResultsStore | None = None,
    on_point: Callable[[PointOutcome], Any] | None = None,
    status: Callable[[str], None] | None = None,
) -> SweepResult:
    """Solve every point of ``sweep``.

    Parameters
    ----------
    sweep
        From :func:`~kaifang.scenario.sweep.load_sweep`.
    engine
        ``"local"``: a Dask cluster (a LocalCluster started here unless ``client`` or
        ``scheduler`` is given); ``"serial"``: in this process, no Dask.
    client
        A connected :class:`distributed.Client` to run on (left open).
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``).
    n_workers
        Workers of the local cluster (default: one per core available to this process).
    worker_env
        Environment variables to set in the workers, on top of the forwarded ones.
    forward_env
        Set this process's ``KAIFANG_*`` variables (data mirror, cache...) in the workers.
    dashboard
        Serve the local cluster's dashboard (on port 8787 of the loopback interface).
    connect_timeout
        Seconds to wait for a scheduler (and for its first worker).
    memory_limit
        Bytes the kept results may take (default: :data:`MEMORY_SHARE` of the available memory).
    keep_results
        Keep every point's full :class:`~kaifang.results.RunResult` in :attr:`SweepResult.outcomes`
        (the memory check then counts full results); by default only the summary rows are kept.
    full_results
        Bring every point's extra tables (bilateral, sectors, diversion...) back from the workers;
        by default only when they are stored or kept (otherwise the per-region table is enough,
        and much less to send).
    validate
        Validate every point before solving any (:func:`validate_sweep`).
    store
        A :class:`~kaifang.store.ResultsStore` to record the sweep in: one sweep record, each
        solved point a run (with the sweep in its provenance), written from a background thread
        while the points are solved. The record is created when the first point is in; a sweep
        stopped by an error or an interrupt is closed with status ``interrupted``.
    on_point
        Called with each outcome as it arrives (in completion order, with its result), e.g. to
        show progress or save it (ask for ``full_results`` to save the extra tables).
    status
        Called with a sentence at each phase (validating, starting the cluster, memory estimate).

    Raises
    ------
    SweepError
        Invalid points (all listed), or results that would not fit in memory
        (:class:`SweepSizeError`).
    kaifang._dask.SchedulerError
        A scheduler that cannot be reached, has no workers, or whose workers cannot run kaifang.
    """
    say = status or (lambda m: None)
    t0 = time.perf_counter()
    if engine not in ("local", "serial"):
        raise UserInputError(f"unknown sweep engine {engine!r}; valid engines: local, serial.")
    if engine == "serial" and (client is not None or scheduler is not None):
        raise UserInputError("a serial sweep runs in this process: give no client or scheduler with it.")
    if client is not None and scheduler is not None:
        raise UserInputError("give a Dask client or a scheduler address, not both.")
    opts = {
        "validate": validate,
        "keep_results": keep_results,
        "memory_limit": memory_limit,
        "store": store,
        "full_results": full_results,
    }
    if engine == "serial":
        return _run(sweep, _SerialEngine(), t0, opts, on_point, say)
    from kaifang import _warm

    env = _warm.forwarded_env(worker_env, forward=forward_env)
    preload = _worker_modules(sweep)
    local = client is None and scheduler is None
    if local and _warm.start_method() == "forkserver":
        # started before this process imports Dask, so that both import at the same time
        _warm.start_forkserver((*_warm.WORKER_MODULES, *preload), {**_warm.blas_env(), **env})
    from kaifang._dask import cluster_client

    handed: list[dict[str, Any]] = []

    def validate_here() -> None:
        # a local cluster's workers read the same files as this process: validate here while
        # the cluster starts (instead of on the workers once it has), then hand the workers what
        # the validation read and built (kaifang._warm)
        _validate(sweep, map, 1, say)
        handed.append(_warm.snapshot())

    with cluster_client(
        client=client,
        scheduler=scheduler,
        n_workers=n_workers,
        env=env,
        dashboard=dashboard,
        timeout=connect_timeout,
        status=say,
        preload=preload,
        while_starting=validate_here if validate else None,
    ) as (c, description):
        eng = _DaskEngine(c, description, warm=handed[0] if handed else None)
        return _run(sweep, eng, t0, {**opts, "validate": validate and not handed}, on_point, say)


def _worker_modules(sweep: Sweep) -> tuple[str, ...]:
    """The runner modules of the models the points of ``sweep`` use, and the modules those
    import on the way (:data:`kaifang.models.WORKER_MODULES`), for a cluster's workers to import
    up front."""
    from kaifang.models import RUNNERS, WORKER_MODULES

    models = [
        m for m in dict.fromkeys(getattr(p.scenario, "model", None) for p in sweep.points) if m in RUNNERS
    ]
    return tuple(
        dict.fromkeys(
            [*(RUNNERS[m].partition(":")[0] for m in models), *(x for m in models for x in WORKER_MODULES[m])]
        )
    )


def _validate(
    sweep: Sweep, map_fn: Callable[[Callable, Iterable], Iterable], capacity: int, say: Callable[[str], None]
) -> None:
    n = len(sweep)
    say(f"validating {n:,} point{'s' if n != 1 else ''}")
    # small chunks (four points, at most 1,000 tasks): no worker waits long for the last chunk
    validate_sweep(sweep, map_fn, chunks=min(1000, max(4 * capacity, math.ceil(n / 4))))


def _summary(sweep: Sweep, frames: Mapping[int, Columns | pd.DataFrame]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame(columns=["point", *sweep.labels])
    parts = [frames[i] for i in sorted(frames)]
    first = parts[0]
    if isinstance(first, Columns) and all(
        isinstance(p, Columns)
        and p.columns == first.columns
        and all(p[k].dtype.kind == first[k].dtype.kind for k in first.columns)
        for p in parts
    ):
        # one DataFrame from the stacked columns (points of one model, columns of one kind)
        summary = Columns.concat(parts).to_pandas()
    else:
        summary = pd.concat([as_frame(p) for p in parts], ignore_index=True)
    for label in sweep.labels:
        col = label if label in summary.columns else f"sweep:{label}"
        summary[col] = _value_column(list(summary[col]))
    return summary


def _run(
    sweep: Sweep,
    eng: _SerialEngine | _DaskEngine,
    t0: float,
    opts: Mapping[str, Any],
    on_point: Callable[[PointOutcome], Any] | None,
    say: Callable[[str], None],
) -> SweepResult:
    n = len(sweep)
    if opts["validate"]:
        _validate(sweep, eng.map, eng.capacity(), say)
    info = {
        k: v
        for k, v in sweep_provenance(sweep, sweep.points[0]).items()
        if k not in ("index", "values", "assignments")
    }
    keep_results, store = opts["keep_results"], opts["store"]
    full = opts["full_results"]
    if full is None:
        full = keep_results or store is not None
    say(f"solving {n:,} point{'s' if n != 1 else ''} on {eng.description}")
    outcomes: dict[int, PointOutcome] = {}
    frames: dict[int, Columns | pd.DataFrame] = {}
    diags: dict[str, dict[str, Any]] = {}
    todo = list(sweep.points)
    by_index = {p.index: p for p in sweep.points}
    checked = finished = False
    chunk = 1  # points per task: one until the first results say how long a point takes
    seen: list[float] = []  # seconds of the first points solved (each worker's first includes its warm-up)
    sizes: tuple[int, int] | None = None  # bytes one point keeps here and sends, from the first result
    recorder = None
    summary = None

    def memory(chunk: int) -> str:
        assert sizes is not None
        return check_memory(
            sweep,
            per_point_kept=sizes[0],
            per_point_full=sizes[1],
            in_flight=2 * eng.capacity() * chunk,
            limit=opts["memory_limit"],
        )

    try:
        while True:
            # until the first results are measured, no more points than the cluster runs at once
            limit = 2 * eng.capacity() if checked else eng.capacity()
            while todo and eng.pending() < limit:
                eng.submit(todo[:chunk], info, full)
                del todo[:chunk]
            if not eng.pending():
                break
            for out in eng.next_done():
                frame = None
                if out.result is not None:
                    frame = _point_frame(sweep, out, out.result)
                    if not checked:
                        seen.append(out.seconds)
                        if sizes is None:
                            table = _table_bytes(frame)
                            # what one result weighs in transit: its extra tables only when they are sent
                            sizes = (out.nbytes if keep_results else table, out.nbytes if full else table)
                            # before anything is stored: refuse a sweep that will not fit
                            chunk = eng.chunk_size(out.seconds, len(todo))
                            say(memory(chunk))
                        # the chunk size is settled once one more point is in than the cluster
                        # has threads: by then a worker has solved a point after its first (which
                        # also loads the data)
                        if len(seen) > eng.capacity() or not todo:
                            fastest = min(seen)
                            settled = eng.chunk_size(fastest, len(todo))
                            if settled > chunk:
                                memory(settled)  # more results in transit: check again
                            chunk = settled
                            if chunk > 1:
                                say(f"{chunk} points to a task (about {fastest:.2g} s a point)")
                            checked = True
                if store is not None:
                    if recorder is None:
                        from kaifang.store._sweeps import SweepRecorder

                        recorder = SweepRecorder(store, sweep, engine=eng.description)
                        say(f"recording in {store.path} as sweep {recorder.sweep_id}")
                    recorder.add(
                        point=out.index,
                        name=out.name,
                        values=out.values,
                        status=out.status,
                        result=out.result,
                        scenario=by_index[out.index].scenario,
                        error=out.error,
                        seconds=out.seconds,
                    )
                if on_point is not None:
                    on_point(out)
                diags[str(out.index)] = _diagnostics(out.result)
                if not keep_results:
                    out = replace(out, result=None)
                outcomes[out.index] = out
                if frame is not None:
                    frames[out.index] = frame
        summary = _summary(sweep, frames)
        finished = True
    finally:
        eng.cancel()
        if recorder is not None:
            if finished:
                recorder.close(status="done", summary=summary, seconds=time.perf_counter() - t0)
            else:  # an error or an interrupt: keep what was solved, say the sweep did not finish
                with contextlib.suppress(Exception):
                    recorder.close(status="interrupted")
    run_ids = recorder.run_ids if recorder is not None else {}
    ordered = tuple(replace(outcomes[i], run_id=run_ids.get(i)) for i in sorted(outcomes))
    assert summary is not None
    return SweepResult(
        sweep=sweep,
        outcomes=ordered,
        summary=summary,
        engine=eng.description,
        seconds=time.perf_counter() - t0,
        diagnostics=diags,
        sweep_id=recorder.sweep_id if recorder is not None else None,
    )
