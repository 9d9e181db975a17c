from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import io
import json
import math
import os
import secrets
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from kaifang.errors import UserInputError
from kaifang.results import RunResult, package_version
from kaifang.scenario import Scenario

__all__ = ["JOB_COLUMNS", "SCHEMA_VERSION", "ResultsStore", "StoreError", "default_store_path"]

#: Version of the store's table layout. A file written by a newer kaifang (higher version)
#: is refused with a :class:`StoreError`; an older one is upgraded in place when needed.
SCHEMA_VERSION = 1

_ENV = "KAIFANG_STORE"
_DEFAULT = Path("kaifang-results") / "kaifang.duckdb"
_LIST_COLUMNS = [
    "run_id",
    "created_at",
    "scenario",
    "model",
    "dataset",
    "scenario_sha256",
    "synthetic",
    "solve_seconds",
]
ExportFormat = Literal["csv", "parquet", "xlsx"]
_FORMATS = ("csv", "parquet", "xlsx")
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

_DDL = [
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, written_by VARCHAR)",
    """CREATE TABLE IF NOT EXISTS runs (
        run_id VARCHAR PRIMARY KEY,
        created_at TIMESTAMP NOT NULL,
        scenario VARCHAR NOT NULL,
        model VARCHAR NOT NULL,
        dataset VARCHAR,
        scenario_sha256 VARCHAR,
        synthetic BOOLEAN NOT NULL,
        solve_seconds DOUBLE,
        scenario_source VARCHAR,
        scenario_text VARCHAR NOT NULL,
        diagnostics VARCHAR NOT NULL,
        provenance VARCHAR NOT NULL,
        kaifang_version VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS run_tables (
        run_id VARCHAR NOT NULL,
        name VARCHAR NOT NULL,
        position INTEGER NOT NULL,
        n_rows BIGINT NOT NULL,
        payload BLOB NOT NULL,
        meta VARCHAR NOT NULL,
        PRIMARY KEY (run_id, name)
    )""",
]

# Records of the web app's jobs (``kaifang serve``): created on the first record, so stores
# without it stay valid and older kaifang versions read stores with it.
_JOBS_DDL = """CREATE TABLE IF NOT EXISTS jobs (
    job_id VARCHAR PRIMARY KEY,
    server VARCHAR,
    state VARCHAR NOT NULL,
    created DOUBLE NOT NULL,
    started DOUBLE,
    finished DOUBLE,
    scenario VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    dataset VARCHAR NOT NULL,
    scenario_source VARCHAR,
    scenario_text VARCHAR NOT NULL,
    run_id VARCHAR,
    error_kind VARCHAR,
    error VARCHAR
)"""
JOB_COLUMNS = (
    "job_id",
    "server",
    "state",
    "created",
    "started",
    "finished",
    "scenario",
    "model",
    "dataset",
    "scenario_source",
    "scenario_text",
    "run_id",
    "error_kind",
    "error",
)
"""Columns of a job record (:meth:`ResultsStore.record_jobs`, :meth:`ResultsStore.jobs`)."""


class StoreError(UserInputError):
    """The results store cannot be used (corrupt file, newer version, unknown run id, busy)."""


def default_store_path() -> Path:
    """Where the results store lives when no path is given.

    ``$KAIFANG_STORE`` when set, else ``kaifang-results/kaifang.duckdb`` in the current
    directory.
    """
    env = os.environ.get(_ENV)
    return Path(env).expanduser() if env else _DEFAULT


def _new_run_id(now: _dt.datetime) -> str:
    """``YYMMDD-HHMMSS-xxxx``: UTC time to the second, then two base-36 digits of the
    millisecond and two random ones. Sorting the ids sorts runs by creation time."""
    ms = now.microsecond // 1000
    rnd = secrets.randbelow(36 * 36)
    tail = _B36[ms // 36] + _B36[ms % 36] + _B36[rnd // 36] + _B36[rnd % 36]
    return f"{now:%y%m%d-%H%M%S}-{tail}"


def _jsonable(x: Any) -> Any:
    """Plain JSON values; numpy scalars/arrays become Python ones; NaN/inf are kept as floats."""
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, (Path, _dt.date, _dt.datetime)):
        return str(x)
    return x


def _dumps(x: Any) -> str:
    return json.dumps(_jsonable(x), sort_keys=True)


def _to_parquet(df: pd.DataFrame) -> tuple[bytes, str]:
    """Parquet bytes of ``df`` and a JSON note of what Parquet alone does not keep (the
    categories of categorical columns, lost for empty tables)."""
    buf = io.BytesIO()
    df.to_parquet(buf, engine="pyarrow", index=True)
    cats = {
        str(c): {"categories": _jsonable(list(df[c].cat.categories)), "ordered": bool(df[c].cat.ordered)}
        for c in df.columns
        if isinstance(df[c].dtype, pd.CategoricalDtype)
    }
    return buf.getvalue(), json.dumps({"categoricals": cats})


def _from_parquet(blob: bytes, meta: str) -> pd.DataFrame:
    df = pd.read_parquet(io.BytesIO(blob), engine="pyarrow")
    for col, spec in json.loads(meta).get("categoricals", {}).items():
        df[col] = df[col].astype(pd.CategoricalDtype(spec["categories"], ordered=spec["ordered"]))
    return df


class ResultsStore:
    """The results store: every run with its tables, diagnostics and provenance, in one DuckDB file.

    Parameters
    ----------
    path
        The DuckDB file. Default: ``$KAIFANG_STORE`` when set, else
        ``kaifang-results/kaifang.duckdb`` in the current directory. Created (with its folder)
        on the first write.
    timeout
        Seconds to wait for another process that is using the store before giving up.

    Notes
    -----
    DuckDB lets one process at a time open a file for writing. The store therefore opens the
    file for each operation only, under an exclusive lock file beside it (``<file>.lock``), and
    retries with backoff while another program holds DuckDB's own lock. Two kaifang processes
    can add runs at the same time; each waits its turn.

    Tables are kept as Parquet blobs, so :meth:`get` gives back tables identical to those
    added (columns, dtypes, index and values).
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 60.0) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- connection handling -------------------------------------------------------------
    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[Any]:
        import duckdb
        from filelock import FileLock, Timeout

        if not write and not self.path.exists():
            raise StoreError(
                f"results store {self.path} does not exist yet; run a scenario first "
                f"(`kaifang run FILE`) or give the store path with --store (or KAIFANG_STORE)."
            )
        if self.path.exists() and self.path.is_dir():
            raise StoreError(
                f"results store {self.path} is a folder, not a DuckDB file; give a file path "
                f"such as {self.path / 'kaifang.duckdb'}."
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=self.timeout)
        except Timeout:
            raise StoreError(
                f"results store {self.path} is busy: another process held {self.path}.lock for "
                f"{self.timeout:.0f} s. Wait for it to finish, or delete the lock file if no "
                f"kaifang process is running."
            ) from None
        try:
            con = self._open_with_retry(duckdb)
            try:
                self._check_schema(con, write=write)
                yield con
            finally:
                con.close()
        finally:
            lock.release()

    def _open_with_retry(self, duckdb: Any) -> Any:
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.Error as exc:
                msg = str(exc)
                if "lock" in msg.lower() and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                if "lock" in msg.lower():
                    raise StoreError(
                        f"results store {self.path} is locked by another program ({msg}). Close "
                        f"that program (e.g. a DuckDB shell) and try again."
                    ) from None
                raise StoreError(
                    f"results store {self.path} cannot be opened: it is not a valid kaifang "
                    f"results store ({msg}). Move or delete the file (its runs are lost) or point "
                    f"--store / KAIFANG_STORE at another file."
                ) from None

    def _check_schema(self, con: Any, *, write: bool) -> None:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "schema_version" not in tables:
            if tables - {"runs", "run_tables", "jobs"}:
                raise StoreError(
                    f"results store {self.path} is a DuckDB file but not a kaifang results store "
                    f"(it has tables {', '.join(sorted(tables))} and no schema_version). Point "
                    f"--store / KAIFANG_STORE at another file."
                )
            if not write:
                return
            for ddl in _DDL:
                con.execute(ddl)
            con.execute("INSERT INTO schema_version VALUES (?, ?)", [SCHEMA_VERSION, package_version()])
            return
        row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        version = row[0] if row else None
        if version is None:
            raise StoreError(
                f"results store {self.path} has an empty schema_version table (a damaged file). "
                f"Move or delete it, or point --store / KAIFANG_STORE at another file."
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"results store {self.path} was written by a newer kaifang (store schema version "
                f"{version}; this kaifang {package_version()} reads up to version {SCHEMA_VERSION}). "
                f"Upgrade kaifang (pip install -U kaifang) or use another store file."
            )

    # -- public API ----------------------------------------------------------------------
    def add(self, result: RunResult, scenario: Scenario) -> str:
        """Record one run; return its run id (``YYMMDD-HHMMSS-xxxx``, unique, sortable by time).

        Records the per-region table, every extra table, the diagnostics, the provenance
        (data set and file checksums, scenario text and hash, parameters, solver settings,
        package version; filled in from ``scenario`` where the runner left them out) and the
        creation time (UTC).
        """
        prov = dict(result.provenance)
        prov.setdefault("dataset", scenario.dataset)
        prov.setdefault("scenario_text", scenario.text)
        prov.setdefault("scenario_sha256", scenario.sha256)
        prov.setdefault("scenario_source", scenario.source)
        prov.setdefault("parameters", dict(scenario.parameters))
        prov.setdefault("solver", dict(scenario.solver))
        prov.setdefault("kaifang_version", package_version())
        diag = dict(result.diagnostics)
        solve = diag.get("solve_seconds")
        solve_f = float(solve) if isinstance(solve, (int, float, np.number)) else None
        if solve_f is not None and not math.isfinite(solve_f):
            solve_f = None
        blobs = [("regions", 0, len(result.regions), *_to_parquet(result.regions))]
        for pos, (name, df) in enumerate(result.tables.items(), start=1):
            if name == "regions":
                raise ValueError("an extra table may not be called 'regions'")
            blobs.append((str(name), pos, len(df), *_to_parquet(df)))
        with self._connect(write=True) as con:
            existing = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
            now = _dt.datetime.now(_dt.UTC).replace(tzinfo=None)
            run_id = _new_run_id(now)
            while run_id in existing:
                run_id = _new_run_id(now)
            con.execute("BEGIN TRANSACTION")
            try:
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        run_id,
                        now,
                        result.scenario,
                        result.model,
                        str(prov.get("dataset") or scenario.dataset),
                        str(prov.get("scenario_sha256") or scenario.sha256),
                        bool(result.synthetic),
                        solve_f,
                        scenario.source,
                        scenario.text,
                        _dumps(diag),
                        _dumps(prov),
                        str(prov.get("kaifang_version")),
                    ],
                )
                for name, pos, n_rows, blob, meta in blobs:
                    con.execute(
                        "INSERT INTO run_tables VALUES (?, ?, ?, ?, ?, ?)",
                        [run_id, name, pos, n_rows, blob, meta],
                    )
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise
        return run_id

    def list(self) -> pd.DataFrame:
        """All runs, oldest first: run_id, created_at (UTC), scenario, model, dataset,
        scenario_sha256, synthetic, solve_seconds. Empty (with these columns) when the store
        does not exist yet."""
        if not self.path.exists():
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _LIST_COLUMNS})
        with self._connect(write=False) as con:
            if not self._has_runs_table(con):
                return pd.DataFrame({c: pd.Series(dtype=object) for c in _LIST_COLUMNS})
            df = con.execute(f"SELECT {', '.join(_LIST_COLUMNS)} FROM runs ORDER BY run_id").df()
        return df.reset_index(drop=True)

    def run_ids(self) -> list[str]:
        """The run ids, oldest first."""
        return list(self.list()["run_id"])

    def resolve_id(self, run_id: str) -> str:
        """The full run id for ``run_id`` or a unique prefix of one (StoreError otherwise)."""
        ids = self.run_ids()
        if run_id in ids:
            return run_id
        hits = [i for i in ids if i.startswith(run_id)] if run_id else []
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise StoreError(
                f"run id {run_id!r} is ambiguous in {self.path}: it starts {len(hits)} runs "
                f"({', '.join(hits[:5])}{', ...' if len(hits) > 5 else ''}); give more characters."
            )
        close = difflib.get_close_matches(run_id, ids, n=3, cutoff=0.4)
        hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
        raise StoreError(
            f"no run {run_id!r} in results store {self.path}.{hint} "
            f"`kaifang runs list` shows the {len(ids)} stored runs."
        )

    def get(self, run_id: str) -> RunResult:
        """The stored run as a :class:`RunResult` (tables identical to those added)."""
        rid = self.resolve_id(run_id)
        with self._connect(write=False) as con:
            row = con.execute(
                "SELECT model, scenario, synthetic, diagnostics, provenance FROM runs WHERE run_id = ?", [rid]
            ).fetchone()
            tabs = con.execute(
                "SELECT name, payload, meta FROM run_tables WHERE run_id = ? ORDER BY position", [rid]
            ).fetchall()
        model, scenario, synthetic, diag, prov = row
        frames = {name: _from_parquet(bytes(blob), meta) for name, blob, meta in tabs}
        regions = frames.pop("regions")
        return RunResult(
            model=model,
            scenario=scenario,
            regions=regions,
            tables=frames,
            diagnostics=json.loads(diag),
            provenance=json.loads(prov),
            synthetic=bool(synthetic),
        )

    def info(self, run_id: str) -> dict[str, Any]:
        """The run's row of :meth:`list` plus its scenario source, diagnostics, provenance and
        the names and sizes of its tables."""
        rid = self.resolve_id(run_id)
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM runs WHERE run_id = ?", [rid])
            cols = [d[0] for d in cur.description]
            rec = dict(zip(cols, cur.fetchone(), strict=True))
            tabs = con.execute(
                "SELECT name, n_rows FROM run_tables WHERE run_id = ? ORDER BY position", [rid]
            ).fetchall()
        rec["diagnostics"] = json.loads(rec["diagnostics"])
        rec["provenance"] = json.loads(rec["provenance"])
        rec["tables"] = {name: int(n) for name, n in tabs}
        rec["created_at"] = rec["created_at"].isoformat() + "Z"
        return rec

    def scenario_text(self, run_id: str) -> str:
        """The exact text of the scenario file the run solved."""
        rid = self.resolve_id(run_id)
        with self._connect(write=False) as con:
            return con.execute("SELECT scenario_text FROM runs WHERE run_id = ?", [rid]).fetchone()[0]

    def scenario(self, run_id: str) -> Scenario:
        """The run's scenario, parsed again from its stored text."""
        from kaifang.scenario import parse_scenario

        rid = self.resolve_id(run_id)
        with self._connect(write=False) as con:
            text, source = con.execute(
                "SELECT scenario_text, scenario_source FROM runs WHERE run_id = ?", [rid]
            ).fetchone()
        return parse_scenario(text, source=source or f"<run {rid}>")

    def export(self, run_id: str, path: str | Path, fmt: ExportFormat = "csv") -> Path:
        """Write a stored run to disk; return what was written.

        ``csv`` and ``parquet`` write a folder ``path`` holding ``regions.<fmt>``, one file per
        extra table and ``run.json`` (scenario text, diagnostics, provenance); ``xlsx`` writes
        one workbook ``path`` with a sheet per table and a ``run`` sheet with the metadata.
        """
        if fmt not in _FORMATS:
            raise StoreError(f"unknown export format {fmt!r}; valid formats: {', '.join(_FORMATS)}.")
        rid = self.resolve_id(run_id)
        res = self.get(rid)
        meta = {
            "run_id": rid,
            "scenario": res.scenario,
            "model": res.model,
            "synthetic": res.synthetic,
            "diagnostics": res.diagnostics,
            "provenance": res.provenance,
        }
        frames = {"regions": res.regions, **dict(res.tables)}
        out = Path(path)
        if fmt == "xlsx":
            if out.suffix.lower() != ".xlsx":
                out = out.with_suffix(".xlsx")
            out.parent.mkdir(parents=True, exist_ok=True)
            used: set[str] = set()
            with pd.ExcelWriter(out, engine="openpyxl") as xw:
                for name, df in frames.items():
                    sheet = name[:31]
                    k = 1
                    while sheet in used:
                        sheet = f"{name[:28]}_{k}"
                        k += 1
                    used.add(sheet)
                    df.to_excel(xw, sheet_name=sheet, index=False)
                flat = [
                    ("run_id", rid),
                    ("scenario", res.scenario),
                    ("model", res.model),
                    ("synthetic", str(res.synthetic)),
                ]
                flat += [(f"diagnostics.{k}", json.dumps(v)) for k, v in res.diagnostics.items()]
                flat += [
                    (f"provenance.{k}", v if isinstance(v, str) else json.dumps(v))
                    for k, v in res.provenance.items()
                ]
                pd.DataFrame(flat, columns=["key", "value"]).to_excel(xw, sheet_name="run", index=False)
            return out
        if out.exists() and not out.is_dir():
            raise StoreError(
                f"export target {out} is a file; {fmt} export writes a folder. Give a folder path."
            )
        out.mkdir(parents=True, exist_ok=True)
        for name, df in frames.items():
            if fmt == "csv":
                df.to_csv(out / f"{name}.csv", index=False)
            else:
                df.to_parquet(out / f"{name}.parquet", engine="pyarrow", index=False)
        (out / "run.json").write_text(json.dumps(_jsonable(meta), indent=2, sort_keys=True) + "\n")
        return out

    def delete(self, run_id: str) -> None:
        """Remove a run and its tables."""
        rid = self.resolve_id(run_id)
        with self._connect(write=True) as con:
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM run_tables WHERE run_id = ?", [rid])
            con.execute("DELETE FROM runs WHERE run_id = ?", [rid])
            con.execute("COMMIT")

    # -- job records of the web app ------------------------------------------------------
    def record_jobs(self, records: list[Mapping[str, Any]]) -> None:
        """Insert or replace job records of the web app (one transaction for all).

        Each record maps the names of :data:`JOB_COLUMNS` to values (``job_id``, ``state``,
        ``created``, ``scenario``, ``model``, ``dataset`` and ``scenario_text`` are required;
        times are UNIX seconds). A record replaces the earlier one of the same ``job_id``.
        """
        if not records:
            return
        rows = []
        for rec in records:
            missing = [
                c for c in ("job_id", "state", "created", "scenario", "model", "dataset") if c not in rec
            ]
            if missing:
                raise ValueError(f"job record lacks {', '.join(missing)}")
            rows.append([rec.get(c, "" if c == "scenario_text" else None) for c in JOB_COLUMNS])
        marks = ", ".join("?" for _ in JOB_COLUMNS)
        with self._connect(write=True) as con:
            con.execute(_JOBS_DDL)
            con.execute("BEGIN TRANSACTION")
            try:
                con.executemany(f"INSERT OR REPLACE INTO jobs VALUES ({marks})", rows)
                con.execute("COMMIT")
            except Exception:
                con.execute("ROLLBACK")
                raise

    def jobs(self, *, limit: int | None = None) -> pd.DataFrame:
        """Job records of the web app, newest first (columns :data:`JOB_COLUMNS`); empty when none."""
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in JOB_COLUMNS})
        if not self.path.exists():
            return empty
        with self._connect(write=False) as con:
            tables = {
                r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
            }
            if "jobs" not in tables:
                return empty
            sql = f"SELECT {', '.join(JOB_COLUMNS)} FROM jobs ORDER BY created DESC, job_id DESC"
            if limit is not None:
                sql += f" LIMIT {int(limit)}"
            df = con.execute(sql).df()
        return df.reset_index(drop=True)

    @staticmethod
    def _has_runs_table(con: Any) -> bool:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return "runs" in tables
