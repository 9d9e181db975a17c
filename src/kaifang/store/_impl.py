from __future__ import annotations

import contextlib
import datetime as _dt
import difflib
import errno
import io
import json
import math
import os
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from kaifang.errors import UserInputError
from kaifang.results import RunResult, package_version
from kaifang.store._files import unique_filenames
from kaifang.store._sweeps import SweepRecordsMixin

if TYPE_CHECKING:
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
    """The results store cannot be used (damaged or read-only file, unwritable folder, full
    disk, newer version, unknown run id, busy)."""


_ELSEWHERE = "Record runs in another file with --store PATH (or KAIFANG_STORE), or run with --no-store."
_DISK_FULL = ("no space left on device", "disk is full", "disk full", "not enough space")


def _can(path: Path, mode: int) -> bool:
    """``os.access`` for the effective user (the one whose permissions apply)."""
    if os.access in os.supports_effective_ids:
        return os.access(path, mode, effective_ids=True)
    return os.access(path, mode)  # pragma: no cover - platforms without effective ids


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return True
    return any(m in str(exc).lower() for m in _DISK_FULL)


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


def json_safe(x: Any) -> Any:
    """:func:`_jsonable`, with NaN and infinities as ``None`` (valid JSON: missing is null)."""
    x = _jsonable(x)
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list):
        return [json_safe(v) for v in x]
    return x


def _export_error(out: Path, exc: OSError) -> StoreError:
    if _is_disk_full(exc):
        why = "no space left on device; free some disk space or export elsewhere"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "permission denied; export to a folder you can write"
    elif exc.errno in (errno.ENOTDIR, errno.EEXIST):
        why = "a part of the path is a file, not a folder; give another --out"
    else:
        why = f"{exc.strerror or exc}; give another --out"
    return StoreError(f"cannot write the export {out}: {why}.")


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


class ResultsStore(SweepRecordsMixin):
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

    Sweeps (``kaifang sweep``) are recorded as one record each that groups its points' runs:
    :meth:`add_sweep`, :meth:`sweeps`, :meth:`get_sweep` (see :mod:`kaifang.store._sweeps`).
    """

    def __init__(self, path: str | Path | None = None, *, timeout: float = 60.0) -> None:
        self.path = Path(path).expanduser() if path is not None else default_store_path()
        self.timeout = float(timeout)

    def __repr__(self) -> str:
        return f"ResultsStore({str(self.path)!r})"

    # -- connection handling -------------------------------------------------------------
    def check(self, *, write: bool = True) -> ResultsStore:
        """Open the store once and check that it can be used, before long work starts.

        With ``write`` (the default) the file is created when missing and must be writable;
        otherwise it must exist and be readable. Raises :class:`StoreError` with what is wrong
        and what to do: a damaged or truncated file, a file that is not a kaifang store, a
        read-only file, a folder that cannot be written, a path whose folder is a file, a
        full disk, a store written by a newer kaifang. Returns the store itself.
        """
        with self._connect(write=write):
            pass
        return self

    def _folder_error(self, exc: OSError) -> StoreError:
        folder = self.path.parent
        if _is_disk_full(exc):
            return StoreError(
                f"results store {self.path}: no space left on device. Free some disk space. {_ELSEWHERE}"
            )
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None or exc.errno in (errno.ENOTDIR, errno.EEXIST):
            return StoreError(
                f"results store {self.path} cannot be created: {blocker or folder} is a file, not a "
                f"folder. Give a --store path inside a folder (or set KAIFANG_STORE), or run with --no-store."
            )
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return StoreError(
                f"results store {self.path}: the folder {folder} cannot be written "
                f"({exc.strerror or exc}); kaifang needs it for the store and its lock file "
                f"{self.path.name}.lock. {_ELSEWHERE}"
            )
        return StoreError(f"results store {self.path} cannot be used: {exc.strerror or exc}. {_ELSEWHERE}")

    def _read_only_error(self) -> StoreError:
        return StoreError(
            f"results store {self.path} is read-only (no permission to write it): its runs can be "
            f"listed, shown and exported, but new runs cannot be recorded in it. {_ELSEWHERE}"
        )

    def _damaged_error(self, detail: str) -> StoreError:
        return StoreError(
            f"results store {self.path} is damaged ({detail}), e.g. by an interrupted copy or a "
            f"full disk. kaifang leaves it as it is: move it aside (e.g. rename it to "
            f"{self.path.name}.damaged) to start a new store, or point --store / KAIFANG_STORE at "
            f"another file; --no-store runs without recording."
        )

    @contextlib.contextmanager
    def _connect(self, *, write: bool) -> Iterator[Any]:
        import duckdb
        from filelock import FileLock, Timeout

        if not write and not self.path.exists():
            raise StoreError(
                f"results store {self.path} does not exist yet; run a scenario first "
                f"(`kaifang run FILE`) or give the store path with --store (or KAIFANG_STORE)."
            )
        if self.path.is_dir():
            raise StoreError(
                f"results store {self.path} is a folder, not a DuckDB file; give a file path "
                f"such as {self.path / 'kaifang.duckdb'}."
            )
        folder = self.path.parent
        if write:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise self._folder_error(exc) from None
            if self.path.exists() and not _can(self.path, os.W_OK):
                raise self._read_only_error()
            if not _can(folder, os.W_OK | os.X_OK):
                raise self._folder_error(PermissionError(errno.EACCES, "permission denied"))
        # Readers take the lock too when they can (so they never see a half-written run);
        # a store in a folder they cannot write (a read-only share) is read without it.
        use_lock = write or _can(folder, os.W_OK | os.X_OK)
        lock = FileLock(str(self.path) + ".lock") if use_lock else None
        if lock is not None:
            try:
                lock.acquire(timeout=self.timeout)
            except Timeout:
                raise StoreError(
                    f"results store {self.path} is busy: another process held {self.path}.lock for "
                    f"{self.timeout:.0f} s. Wait for it to finish, or delete the lock file if no "
                    f"kaifang process is running."
                ) from None
            except OSError as exc:
                raise self._folder_error(exc) from None
        try:
            con = self._open_with_retry(duckdb, read_only=not write)
            try:
                self._check_intact(con)
                self._check_schema(con, write=write)
                yield con
            except duckdb.Error as exc:
                raise self._translate(exc) from None
            except OSError as exc:
                if _is_disk_full(exc):
                    raise self._disk_full_error() from None
                raise
            finally:
                with contextlib.suppress(Exception):
                    con.close()
        finally:
            if lock is not None:
                lock.release()

    def _disk_full_error(self) -> StoreError:
        return StoreError(
            f"results store {self.path}: no space left on device while writing; nothing was "
            f"recorded and the store is unchanged. Free some disk space. {_ELSEWHERE}"
        )

    def _translate(self, exc: Exception) -> Exception:
        """A DuckDB error met while using the store, as the user's problem where it is one."""
        import duckdb

        msg = str(exc)
        if _is_disk_full(exc):
            return self._disk_full_error()
        if "read-only" in msg.lower() or "permission denied" in msg.lower():
            return self._read_only_error()
        if isinstance(exc, (duckdb.IOException, duckdb.SerializationException)) or "corrupt" in msg.lower():
            return self._damaged_error(msg.splitlines()[0][:200])
        return exc

    def _check_intact(self, con: Any) -> None:
        """A file shorter than the blocks DuckDB uses (each a distinct block of the file) was
        truncated."""
        if Path(str(self.path) + ".wal").exists():
            return  # blocks of an unfinished write are in the log, not yet in the file
        row = con.execute("SELECT block_size, used_blocks FROM pragma_database_size()").fetchone()
        if row is None or row[0] is None:
            return
        expected = int(row[0]) * int(row[1])
        size = self.path.stat().st_size
        if size < expected:
            raise self._damaged_error(
                f"truncated: the file holds {size / 1e6:.1f} MB of the {expected / 1e6:.1f} MB it should"
            )

    def _open_with_retry(self, duckdb: Any, *, read_only: bool = False) -> Any:
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only)
            except duckdb.Error as exc:
                msg = str(exc)
                low = msg.lower()
                if "lock" in low and time.monotonic() < deadline:
                    time.sleep(delay)
                    delay = min(delay * 2, 1.0)
                    continue
                if "lock" in low:
                    raise StoreError(
                        f"results store {self.path} is locked by another program ({msg}). Close "
                        f"that program (e.g. a DuckDB shell) and try again."
                    ) from None
                if _is_disk_full(exc):
                    raise self._disk_full_error() from None
                if "permission denied" in low or "read-only" in low:
                    raise (
                        self._read_only_error()
                        if self.path.exists()
                        else self._folder_error(PermissionError(errno.EACCES, "permission denied"))
                    ) from None
                if isinstance(exc, duckdb.IOException) and "could not read" in low:
                    raise self._damaged_error(msg.splitlines()[0][:200]) from None
                raise StoreError(
                    f"results store {self.path} cannot be opened: it is not a DuckDB file kaifang "
                    f"can read ({msg.splitlines()[0][:200]}). kaifang leaves it as it is: move it "
                    f"aside or point --store / KAIFANG_STORE at another file; --no-store runs "
                    f"without recording."
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
            row = [
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
            ]
            con.execute("BEGIN TRANSACTION")
            try:
                self._write_run(con, row, [(run_id, *b) for b in blobs])
                con.execute("COMMIT")
            except BaseException:
                # a failed ROLLBACK (e.g. the transaction was already aborted) must not hide
                # the error that made the write fail
                with contextlib.suppress(Exception):
                    con.execute("ROLLBACK")
                raise
        return run_id

    @staticmethod
    def _write_run(con: Any, run_row: list[Any], table_rows: list[tuple[Any, ...]]) -> None:
        """Insert one run's row and its tables (inside the caller's transaction)."""
        con.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", run_row)
        for rec in table_rows:
            con.execute("INSERT INTO run_tables VALUES (?, ?, ?, ?, ?, ?)", list(rec))

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
        if "regions" not in frames:
            raise StoreError(
                f"run {rid} in results store {self.path} is incomplete: its tables are missing (the "
                f"store was damaged or edited by another program). `kaifang runs delete {rid}` removes "
                f"it; the other runs are not affected."
            )
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

    def export(
        self,
        run_id: str,
        path: str | Path,
        fmt: ExportFormat = "csv",
        *,
        progress: Callable[[str], None] | None = None,
    ) -> Path:
        """Write a stored run to disk; return what was written.

        ``csv`` and ``parquet`` write a folder ``path`` holding ``regions.<fmt>``, one file per
        extra table and ``run.json`` (scenario text, diagnostics, provenance); ``xlsx`` writes
        one workbook ``path`` with a sheet per table and a ``run`` sheet with the metadata.

        Missing values are missing in every format: an empty field in CSV, null in Parquet and
        JSON, an empty cell in Excel. ``progress`` is called with a message per table.
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
        try:
            if fmt == "xlsx":
                return self._export_xlsx(rid, res, frames, out, progress)
            if out.exists() and not out.is_dir():
                raise StoreError(
                    f"export target {out} is a file; {fmt} export writes a folder. Give a folder path."
                )
            out.mkdir(parents=True, exist_ok=True)
            for name, fname in zip(frames, unique_filenames(frames), strict=True):
                df = frames[name]
                if progress is not None:
                    progress(f"writing {name} ({len(df):,} rows)")
                if fmt == "csv":
                    df.to_csv(out / f"{fname}.csv", index=False)
                else:
                    df.to_parquet(out / f"{fname}.parquet", engine="pyarrow", index=False)
            (out / "run.json").write_text(json.dumps(json_safe(meta), indent=2, sort_keys=True) + "\n")
        except OSError as exc:
            raise _export_error(out, exc) from None
        return out

    def _export_xlsx(
        self,
        rid: str,
        res: RunResult,
        frames: dict[str, pd.DataFrame],
        out: Path,
        progress: Callable[[str], None] | None,
    ) -> Path:
        from kaifang.store._xlsx import XlsxError, write_xlsx

        if out.suffix.lower() != ".xlsx":
            out = out.with_suffix(".xlsx")
        if out.is_dir():
            raise StoreError(
                f"export target {out} is a folder; xlsx export writes one file. Give a file name."
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        flat: list[tuple[str, Any]] = [
            ("run_id", rid),
            ("scenario", res.scenario),
            ("model", res.model),
            ("synthetic", str(res.synthetic)),
        ]
        flat += [(f"diagnostics.{k}", json.dumps(json_safe(v))) for k, v in res.diagnostics.items()]
        flat += [
            (f"provenance.{k}", v if isinstance(v, str) else json.dumps(json_safe(v)))
            for k, v in res.provenance.items()
        ]
        # Excel cells hold at most 32,767 characters; the full metadata is in run.json of a
        # csv or parquet export
        flat = [
            (k, v if len(str(v)) <= 32_000 else str(v)[:32_000] + " ... (cut; see run.json)") for k, v in flat
        ]
        sheets = [*frames.items(), ("run", pd.DataFrame(flat, columns=["key", "value"]))]
        part = out.with_name(out.name + ".part")
        try:
            write_xlsx(part, sheets, progress=progress)
            os.replace(part, out)
        except XlsxError as exc:
            raise StoreError(f"cannot export run {rid} as xlsx: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                part.unlink()
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
            except BaseException:
                with contextlib.suppress(Exception):  # never hide the error that failed the write
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
