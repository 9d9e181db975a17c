"""The ASGI application: a JSON API over the library, and the built front end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import shutil
import tempfile
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kaifang.errors import UserInputError
from kaifang.results import RunResult, package_version
from kaifang.scenario import Scenario
from kaifang.web import _meta
from kaifang.web._jobs import (
    Job,
    JobJournal,
    JobManager,
    QueueFull,
    default_max_queued,
    default_worker_memory_mb,
    default_workers,
    interrupted_records,
    server_id,
)
from kaifang.web._schemas import (
    JOB_ID_PATTERN,
    RUN_ID_PATTERN,
    CompareOut,
    ErrorBody,
    FieldErrorOut,
    Health,
    JobOut,
    MetaOut,
    RunOut,
    RunRow,
    ScenarioIn,
    TableInfo,
    TableOut,
    ValidationOut,
)
from kaifang.web._validate import FieldError, split_errors, validate_text

__all__ = ["MAX_BODY_BYTES", "STATIC_DIR", "create_app"]

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).with_name("static")
MAX_BODY_BYTES = 512 * 1024
"""Largest request body accepted (413 beyond)."""

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad request"},
    404: {"model": ErrorBody, "description": "not found"},
    409: {"model": ErrorBody, "description": "not in a state for this (e.g. a job without result)"},
    413: {"model": ErrorBody, "description": "request too large"},
    422: {"model": ErrorBody, "description": "invalid input (fields named in `errors`)"},
    429: {
        "model": ErrorBody,
        "description": "the job queue is full; the `Retry-After` header says when to try again",
    },
    501: {"model": ErrorBody, "description": "a feature missing from this installation (HTML reports)"},
}


class _BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with 413, declared or streamed.

    The body is read here (it is small: scenarios are text) and handed to the app in one piece,
    so that a chunked body over the limit is refused before the app sees any of it.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for k, v in scope.get("headers", []):
            if k == b"content-length":
                try:
                    too_big = int(v) > self.limit
                except ValueError:
                    too_big = True
                if too_big:
                    await self._reject(send)
                    return
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body = msg.get("body", b"")
            seen += len(body)
            if seen > self.limit:
                await self._reject(send)
                return
            chunks.append(body)
            if not msg.get("more_body", False):
                break
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return whole
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        body = ErrorBody(
            error="too_large",
            message=f"request body over {self.limit} bytes; scenarios are small text files.",
        ).model_dump_json()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def _error(
    status: int,
    kind: str,
    message: str,
    errors: list[FieldError] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(
        error=kind,
        message=message,
        errors=[FieldErrorOut(**e.__dict__) for e in (errors or [])],
    )
    return JSONResponse(status_code=status, content=body.model_dump(), headers=dict(headers or {}))


def _allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method some route of ``app`` accepts at the request's path (for ``Allow``)."""
    from starlette.routing import Match

    methods: set[str] = set()
    for route in getattr(app, "routes", []):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        with contextlib.suppress(Exception):
            match, _ = route.matches({**scope, "method": next(iter(route_methods))})
            if match == Match.FULL:
                methods |= set(route_methods)
    return sorted(methods)


class _Store:
    """The results store shared with the command line, behind a lock (one writer at a time)."""

    def __init__(self, path: str | Path | None) -> None:
        from kaifang.store import ResultsStore

        self._store = ResultsStore(path)
        self._lock = threading.RLock()
        self._cache: OrderedDict[str, RunResult] = OrderedDict()
        self.path = str(getattr(self._store, "path", path or ""))

    def add(self, result: RunResult, scenario: Scenario) -> str:
        with self._lock:
            run_id = str(self._store.add(result, scenario))
            self._remember(run_id, result)
        return run_id

    def record_jobs(self, records: list[dict[str, Any]]) -> None:
        with self._lock:
            self._store.record_jobs(records)

    def jobs(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            df = self._store.jobs(limit=limit)
        return [{str(k): _finite(v) for k, v in r.items()} for r in df.to_dict(orient="records")]

    def _remember(self, run_id: str, result: RunResult) -> None:
        self._cache[run_id] = result
        self._cache.move_to_end(run_id)
        while len(self._cache) > 16:
            self._cache.popitem(last=False)

    def list(self) -> pd.DataFrame:
        with self._lock:
            return self._store.list()

    def get(self, run_id: str) -> RunResult:
        with self._lock:
            if run_id in self._cache:
                self._cache.move_to_end(run_id)
                return self._cache[run_id]
            self._check(run_id)
            result = self._store.get(run_id)
            self._remember(run_id, result)
            return result

    def _check(self, run_id: str) -> None:
        ids = {str(r) for r in self._store.list()["run_id"]}
        if run_id not in ids:
            raise HTTPException(404, f"no run {run_id!r} in the results store")

    def scenario_text(self, run_id: str) -> str:
        with self._lock:
            self._check(run_id)
            return str(self._store.scenario_text(run_id))

    def export(self, run_id: str, folder: Path, fmt: str) -> Path:
        with self._lock:
            self._check(run_id)
            return Path(self._store.export(run_id, folder / f"{run_id}.{fmt}", fmt))

    def delete(self, run_id: str) -> None:
        with self._lock:
            self._check(run_id)
            self._store.delete(run_id)
            self._cache.pop(run_id, None)


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        with contextlib.suppress(Exception):
            return _finite(x.item())
    if isinstance(x, pd.Timestamp):
        return x.isoformat()
    return x


def _run_rows(df: pd.DataFrame) -> list[RunRow]:
    rows = []
    for rec in df.to_dict(orient="records"):
        created = rec.get("created_at")
        solve = _finite(rec.get("solve_seconds"))
        rows.append(
            RunRow(
                run_id=str(rec["run_id"]),
                created_at=None if created is None or created is pd.NaT else str(_finite(created)),
                scenario=str(rec.get("scenario", "")),
                model=str(rec.get("model", "")),
                dataset=str(rec.get("dataset", "")),
                scenario_sha256=None if rec.get("scenario_sha256") is None else str(rec["scenario_sha256"]),
                synthetic=bool(rec.get("synthetic", False)),
                solve_seconds=None if solve is None else float(solve),
            )
        )
    return rows


def _record_out(rec: Mapping[str, Any]) -> JobOut:
    """A job of an earlier server session, from its record in the results store."""
    state = str(rec.get("state"))
    error = rec.get("error")
    started, finished = rec.get("started"), rec.get("finished")
    seconds = None
    if isinstance(started, (int, float)):
        end = finished if isinstance(finished, (int, float)) else time.time()
        seconds = float(end) - float(started)
    errors = split_errors(str(error)) if state == "failed" and error else []
    return JobOut(
        id=str(rec["job_id"]),
        state=state if state in ("queued", "running", "saving", "done", "failed", "cancelled") else "failed",  # type: ignore[arg-type]
        scenario=str(rec.get("scenario") or ""),
        model=str(rec.get("model") or ""),
        dataset=str(rec.get("dataset") or ""),
        created=float(rec.get("created") or 0.0),
        seconds=seconds,
        progress=[],
        run_id=None if rec.get("run_id") is None else str(rec["run_id"]),
        error_kind=None if rec.get("error_kind") is None else str(rec["error_kind"]),
        error=None if error is None else str(error),
        errors=[FieldErrorOut(**e.__dict__) for e in errors],
        version=0,
    )


def _job_out(job: Job) -> JobOut:
    errors = split_errors(job.error) if job.state == "failed" and job.error else []
    return JobOut(
        id=job.id,
        state=job.state,
        scenario=job.scenario.name,
        model=job.scenario.model,
        dataset=job.scenario.dataset,
        created=job.created,
        seconds=job.seconds,
        progress=list(job.progress),
        run_id=job.run_id,
        error_kind=job.error_kind,
        error=job.error,
        errors=[FieldErrorOut(**e.__dict__) for e in errors],
        version=job.version,
    )


def _run_out(run_id: str | None, result: RunResult) -> RunOut:
    return RunOut(
        run_id=run_id,
        document=result.to_document(),
        tables=[
            TableInfo(name=k, rows=len(v), columns=[str(c) for c in v.columns])
            for k, v in result.tables.items()
        ],
    )


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): _finite(v) for k, v in r.items()} for r in df.to_dict(orient="records")]


def create_app(
    store_path: str | Path | None = None,
    *,
    workers: int | None = None,
    runners: Mapping[str, str] | None = None,
    allowed_hosts: list[str] | None = None,
    report: Callable[[list[tuple[str, RunResult]], Path], Path] | None = None,
    prestart: bool = True,
    max_queued: int | None = None,
    worker_memory_mb: float | None = None,
) -> FastAPI:
    """Build the web app.

    Parameters
    ----------
    store_path
        The results store (default: ``KAIFANG_STORE``, else ``kaifang-results/kaifang.duckdb``,
        the same one the command line uses).
    workers
        Worker processes solving scenarios (default ``KAIFANG_WEB_WORKERS`` or 1).
    runners
        Extra models for the workers (``name -> "module:function"``), e.g. in tests.
    allowed_hosts
        Accepted ``Host`` headers (guards a localhost server against DNS rebinding); ``None``
        accepts any.
    report
        Override of the HTML report writer ``([(run_id, result), ...], path) -> path`` (default:
        :mod:`kaifang.report`, the code of ``kaifang report``).
    prestart
        Start the worker processes when the app starts (so the first run finds them warm);
        otherwise on the first submitted run.
    max_queued
        Most runs waiting for a worker (default ``KAIFANG_WEB_MAX_QUEUE`` or 100); beyond, a
        submission gets 429 with ``Retry-After``.
    worker_memory_mb
        Memory cap of each worker process in MB (default ``KAIFANG_WEB_WORKER_MEMORY_MB``, else
        none): a run that needs more fails with a message; the server and the queue go on.

    Notes
    -----
    Every job's states are recorded in the results store (its ``jobs`` table). When the app is
    created, jobs that an earlier server left queued or running are recorded as failed
    ("interrupted: the web server stopped …"), and ``GET /api/jobs`` lists them with this
    server's jobs.

    Returns
    -------
    FastAPI
        The ASGI app; its OpenAPI document is at ``/openapi.json``, the interactive docs at ``/docs``.
    """
    store = _Store(store_path)
    me = server_id()
    journal = JobJournal(store.record_jobs, me)
    # what became of the jobs of earlier servers on this store
    past_records = store.jobs(limit=500)
    stopped = interrupted_records(past_records, me)
    if stopped:
        store.record_jobs(stopped)
        log.warning("%d job(s) of an earlier server were interrupted; recorded as failed", len(stopped))
        fixed = {r["job_id"]: r for r in stopped}
        past_records = [fixed.get(r["job_id"], r) for r in past_records]
    past: dict[str, JobOut] = {str(r["job_id"]): _record_out(r) for r in past_records}
    jobs = JobManager(
        store.add,
        workers=workers or default_workers(),
        runners=runners,
        max_queued=max_queued or default_max_queued(),
        worker_memory_mb=worker_memory_mb if worker_memory_mb is not None else default_worker_memory_mb(),
        journal=journal,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if prestart:
            jobs.start()
        try:
            yield
        finally:
            await asyncio.to_thread(jobs.close)

    app = FastAPI(
        title="kaifang web API",
        version=package_version(),
        description=(
            "Build, validate, run, compare and export trade-policy scenarios. Scenarios are the same TOML "
            "files `kaifang run` reads, validated by the same code; runs go to the same results store as "
            "the command line. Runs are solved in worker processes: submit with `POST /api/runs`, follow "
            "`GET /api/jobs/{id}`, cancel with `POST /api/jobs/{id}/cancel`."
        ),
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app.state.jobs = jobs
    app.state.store = store
    app.state.past_jobs = past

    def _report(runs: list[tuple[str, RunResult]], path: Path) -> Path:
        try:
            return Path((report or _meta.write_report)(runs, path))
        except _meta.ReportUnavailable as exc:
            raise HTTPException(501, str(exc)) from None

    # -- error handling: JSON bodies, never a traceback --------------------------------------------
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kinds = {
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            409: "conflict",
            429: "queue_full",
            501: "unavailable",
        }
        headers = dict(exc.headers or {})
        message = str(exc.detail)
        if exc.status_code == 400 and message == "There was an error parsing the body":
            message = (
                'the request body is not valid JSON (or is nested too deeply to read); send {"text": '
                '"<scenario TOML>"} with Content-Type: application/json.'
            )
        if exc.status_code == 405:
            allowed = _allowed_methods(request.app, request.scope) or [
                m.strip() for m in headers.get("Allow", "").split(",") if m.strip()
            ]
            headers["Allow"] = ", ".join(allowed)
            message = f"method {request.method} is not allowed here; allowed: {headers['Allow'] or 'none'}."
        return _error(exc.status_code, kinds.get(exc.status_code, "bad_request"), message, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _request_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errs = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            errs.append(
                FieldError(field=loc or None, message=f"{loc or 'request'}: {e.get('msg', 'invalid')}")
            )
        return _error(422, "invalid_request", "the request does not match the API schema", errs)

    @app.exception_handler(UserInputError)
    async def _user_error(_: Request, exc: UserInputError) -> JSONResponse:
        return _error(422, "invalid_input", str(exc).splitlines()[0], split_errors(str(exc)))

    @app.exception_handler(Exception)
    async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal error", exc_info=exc)
        return _error(
            500, "internal", f"internal error ({type(exc).__name__}); details are in the server log."
        )

    # -- API ------------------------------------------------------------------------------------
    @app.get("/api/health", response_model=Health, tags=["server"])
    def health() -> Health:
        """The server is up; which store and how many workers it uses."""
        counts = jobs.counts()
        return Health(
            status="ok",
            version=package_version(),
            store=store.path,
            workers=jobs.workers,
            workers_ready=jobs.ready_workers(),
            queued=counts["queued"],
            running=counts["running"],
            max_queued=jobs.max_queued,
        )

    @app.get("/api/meta", response_model=MetaOut, tags=["scenarios"])
    def meta() -> MetaOut:
        """Data sets (with their region and sector labels when known), models, groups, shock types."""
        return _meta.meta()

    @app.post("/api/validate", response_model=ValidationOut, tags=["scenarios"])
    def validate(body: ScenarioIn) -> ValidationOut:
        """Validate scenario TOML completely, as `kaifang validate` does (the model's sections, the
        shocks' regions and sectors against the data set, an estimation); errors name the field at
        fault, warnings (valid anyway) are listed. Fields that name a file are refused: the web app
        never opens a path from a request."""
        checked = validate_text(body.text, body.origin)
        sc = checked.scenario
        return ValidationOut(
            valid=sc is not None,
            errors=[FieldErrorOut(**e.__dict__) for e in checked.errors],
            warnings=checked.warnings,
            complete=checked.complete,
            summary=_finite_tree(checked.summary),
            scenario=None if sc is None else _finite_tree(sc.model_dump(exclude={"text", "source"})),
        )

    @app.get("/api/examples", tags=["scenarios"])
    def examples() -> dict[str, str]:
        """Example scenarios (name -> TOML text) the builder can start from."""
        return _meta.examples()

    @app.post("/api/runs", response_model=JobOut, status_code=202, tags=["runs"])
    def submit(body: ScenarioIn) -> JSONResponse | JobOut:
        """Validate and queue a scenario; returns the job at once (the solve runs in a worker).

        When the queue is full (`max_queued` runs waiting) the answer is 429 with a
        `Retry-After` header (seconds)."""
        checked = validate_text(body.text, body.origin)
        sc = checked.scenario
        if sc is None:
            return _error(422, "invalid_scenario", checked.errors[0].message, checked.errors)
        try:
            job = jobs.submit(sc)
        except QueueFull as exc:
            return _error(429, "queue_full", str(exc), headers={"Retry-After": str(exc.retry_after)})
        return _job_out(job)

    def _find_job(job_id: str) -> Job | JobOut | None:
        return jobs.get(job_id) or past.get(job_id)

    @app.get("/api/jobs", response_model=list[JobOut], tags=["runs"])
    def list_jobs() -> list[JobOut]:
        """Jobs of this server session and, from the results store's records, of earlier ones
        (jobs an earlier server left unfinished are failed, with the reason), newest first."""
        mine = [_job_out(j) for j in jobs.list()]
        ids = {j.id for j in mine}
        older = [j for j in past.values() if j.id not in ids]
        return sorted([*mine, *older], key=lambda j: j.created, reverse=True)

    @app.get("/api/jobs/{job_id}", response_model=JobOut, tags=["runs"])
    async def get_job(
        job_id: str = PathParam(pattern=JOB_ID_PATTERN),
        after: int = Query(-1, ge=-1, description="wait until the job's version exceeds this"),
        wait: float = Query(0.0, ge=0.0, le=10.0, description="seconds to wait for a change (long polling)"),
    ) -> JobOut:
        """A job's state and progress; with `after` and `wait`, answers as soon as it changes."""
        job = jobs.get(job_id)
        if job is None:
            if job_id in past:
                return past[job_id]
            raise HTTPException(
                404, f"no job {job_id!r} on this server or in the results store's job records"
            )
        deadline = time.monotonic() + wait
        while job.version <= after and not job.final and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return _job_out(job)

    @app.get("/api/jobs/{job_id}/result", response_model=RunOut, tags=["runs"])
    def get_job_result(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> RunOut:
        """A finished job's result, readable as soon as it is solved (before the store has saved it)."""
        found = _find_job(job_id)
        if found is None:
            raise HTTPException(404, f"no job {job_id!r}")
        result = found.result if isinstance(found, Job) else None
        run_id = found.run_id
        if result is None and run_id is not None:
            result = store.get(run_id)
        if result is None:
            raise HTTPException(409, f"job {job_id!r} has no result (state {found.state})")
        return _run_out(run_id, result)

    @app.get(
        "/api/jobs/{job_id}/scenario",
        response_class=Response,
        tags=["runs"],
        responses={200: {"content": {"application/toml": {}}}},
    )
    def get_job_scenario(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> Response:
        """The scenario text of a job (also of a failed or interrupted one, to edit and run again)."""
        job = jobs.get(job_id)
        if job is not None:
            return Response(job.scenario.text, media_type="application/toml")
        if job_id in past:
            for rec in store.jobs():
                if str(rec["job_id"]) == job_id:
                    return Response(str(rec.get("scenario_text") or ""), media_type="application/toml")
        raise HTTPException(404, f"no job {job_id!r}")

    @app.post("/api/jobs/{job_id}/cancel", response_model=JobOut, tags=["runs"])
    def cancel_job(job_id: str = PathParam(pattern=JOB_ID_PATTERN)) -> JobOut:
        """Cancel a job: a queued one never starts; a running one's worker process is terminated."""
        job = jobs.cancel(job_id)
        if job is None:
            if job_id in past:
                return past[job_id]  # an earlier server's job: already final
            raise HTTPException(404, f"no job {job_id!r}")
        return _job_out(job)

    @app.get("/api/runs", response_model=list[RunRow], tags=["results"])
    def list_runs() -> list[RunRow]:
        """Runs in the results store (the same list as the command line), newest first."""
        rows = _run_rows(store.list())
        return sorted(rows, key=lambda r: r.created_at or "", reverse=True)

    @app.get("/api/runs/{run_id}", response_model=RunOut, tags=["results"])
    def get_run(run_id: str = PathParam(pattern=RUN_ID_PATTERN)) -> RunOut:
        """One run: the JSON document (regions, diagnostics, provenance) and its extra tables."""
        result = store.get(run_id)
        return RunOut(
            run_id=run_id,
            document=result.to_document(),
            tables=[
                TableInfo(name=k, rows=len(v), columns=[str(c) for c in v.columns])
                for k, v in result.tables.items()
            ],
        )

    @app.get("/api/runs/{run_id}/tables/{name}", response_model=TableOut, tags=["results"])
    def get_table(
        run_id: str = PathParam(pattern=RUN_ID_PATTERN),
        name: str = PathParam(pattern=r"^[A-Za-z0-9_]{1,64}$"),
        limit: int = Query(50_000, ge=1, le=200_000),
        where: list[str] = Query(default_factory=list, description="filters `column=value` (all must hold)"),
    ) -> TableOut:
        """An extra table of a run (e.g. sectors, bilateral), optionally filtered by `column=value`."""
        result = store.get(run_id)
        if name != "regions" and name not in result.tables:
            raise HTTPException(
                404, f"run {run_id!r} has no table {name!r}; tables: {', '.join(result.tables) or 'none'}"
            )
        df = result.to_frame(name)
        for cond in where:
            col, sep, val = cond.partition("=")
            if not sep or col not in df.columns:
                raise HTTPException(400, f"filter {cond!r}: give column=value with a column of {name!r}")
            df = df[df[col].astype(str) == val]
        return TableOut(
            name=name, columns=[str(c) for c in df.columns], rows=_records(df.head(limit)), total_rows=len(df)
        )

    @app.get(
        "/api/runs/{run_id}/scenario",
        response_class=Response,
        tags=["results"],
        responses={200: {"content": {"application/toml": {}}}},
    )
    def get_run_scenario(run_id: str = PathParam(pattern=RUN_ID_PATTERN)) -> Response:
        """The exact scenario text of a run (to edit and run again)."""
        return Response(store.scenario_text(run_id), media_type="application/toml")

    @app.delete("/api/runs/{run_id}", status_code=204, response_class=Response, tags=["results"])
    def delete_run(run_id: str = PathParam(pattern=RUN_ID_PATTERN)) -> Response:
        """Remove a run from the results store."""
        store.delete(run_id)
        return Response(status_code=204)

    @app.get(
        "/api/runs/{run_id}/download",
        response_class=FileResponse,
        tags=["results"],
        responses={200: {"content": {"application/octet-stream": {}}, "description": "the file"}},
    )
    def download(
        run_id: str = PathParam(pattern=RUN_ID_PATTERN),
        fmt: Literal["csv", "parquet", "xlsx", "html"] = Query("csv"),
    ) -> FileResponse:
        """Download a run: CSV, Parquet, Excel (the store's export) or the HTML report."""
        tmp = Path(tempfile.mkdtemp(prefix="kaifang-web-"))
        try:
            if fmt == "html":
                result = store.get(run_id)
                path = _report([(run_id, result)], tmp / f"{run_id}.html")
            else:
                path = store.export(run_id, tmp, fmt)
            if path.is_dir():  # a folder of files (e.g. one CSV per table): send a zip
                zpath = tmp / f"{run_id}-{fmt}.zip"
                with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
                    for f in sorted(path.rglob("*")):
                        if f.is_file():
                            zf.write(f, f.relative_to(path))
                path = zpath
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        media = {
            ".csv": "text/csv",
            ".zip": "application/zip",
            ".parquet": "application/vnd.apache.parquet",
            ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ".html": "text/html",
        }.get(path.suffix, "application/octet-stream")
        return FileResponse(
            path, media_type=media, filename=path.name, background=BackgroundTask(shutil.rmtree, tmp, True)
        )

    @app.get("/api/compare", response_model=CompareOut, tags=["results"])
    def compare(
        run: list[str] = Query(..., min_length=2, max_length=12, description="run ids (two or more)"),
    ) -> CompareOut:
        """Region outcomes of two or more runs side by side (numeric columns they share)."""
        import re

        for r in run:
            if not re.fullmatch(RUN_ID_PATTERN, r):
                raise HTTPException(400, f"run id {r!r} is malformed")
        results = [store.get(r) for r in run]
        listing = {row.run_id: row for row in _run_rows(store.list())}
        frames = [res.regions.set_index("region") for res in results]
        cols = [
            c
            for c in frames[0].columns
            if all(c in f.columns and pd.api.types.is_numeric_dtype(f[c]) for f in frames)
        ]
        regions: list[str] = []
        for f in frames:
            regions += [str(x) for x in f.index if str(x) not in regions]
        values = {
            c: {
                reg: [_finite(float(f.at[reg, c])) if reg in f.index else None for f in frames]
                for reg in regions
            }
            for c in cols
        }
        measures = [res.diagnostics.get("welfare_measure") for res in results]
        return CompareOut(
            runs=[listing[r] for r in run if r in listing],
            columns=[str(c) for c in cols],
            regions=regions,
            values=values,
            welfare_measures=[None if m is None else str(m) for m in measures],
        )

    @app.get(
        "/api/compare/report",
        response_class=FileResponse,
        tags=["results"],
        responses={
            200: {"content": {"text/html": {}}, "description": "the HTML report"},
            501: {"model": ErrorBody},
        },
    )
    def compare_report(
        run: list[str] = Query(..., min_length=1, max_length=12, description="run ids"),
    ) -> FileResponse:
        """One HTML report of several runs (the `kaifang report` page), to download."""
        import re

        for r in run:
            if not re.fullmatch(RUN_ID_PATTERN, r):
                raise HTTPException(400, f"run id {r!r} is malformed")
        pairs = [(r, store.get(r)) for r in run]
        tmp = Path(tempfile.mkdtemp(prefix="kaifang-web-"))
        try:
            path = _report(pairs, tmp / "kaifang-report.html")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return FileResponse(
            path,
            media_type="text/html",
            filename=path.name,
            background=BackgroundTask(shutil.rmtree, tmp, True),
        )

    # -- front end ------------------------------------------------------------------------------
    index = STATIC_DIR / "index.html"
    if (STATIC_DIR / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=STATIC_DIR / "assets"), name="assets")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        icons = sorted((STATIC_DIR / "assets").glob("favicon*.svg"))
        if not icons:
            raise HTTPException(404, "no icon in this build")
        return FileResponse(icons[0], media_type="image/svg+xml")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> HTMLResponse:
        if index.is_file():
            return HTMLResponse(index.read_text(encoding="utf-8"))
        return HTMLResponse(
            "<h1>kaifang</h1><p>The front end is not built. Run <code>npm ci && npm run build</code> in "
            "<code>web/</code>; the API is at <a href='/docs'>/docs</a>.</p>",
            status_code=200,
        )

    outer: FastAPI = app
    app.add_middleware(_BodyLimit, limit=MAX_BODY_BYTES)  # type: ignore[arg-type]
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts)
    return outer


def _finite_tree(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _finite_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite_tree(v) for v in x]
    return _finite(x)
