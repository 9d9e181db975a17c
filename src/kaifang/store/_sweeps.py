"""Sweep records in the results store: one record per sweep grouping its points' runs.

Two tables beside ``runs`` (created on the first sweep written, so a store without sweeps is
unchanged and older kaifang versions read the store as before):

``sweeps``
    one row per sweep: ``sweep_id``, ``created_at`` (UTC), ``finished_at``, ``name``,
    ``model``, ``dataset``, ``mode``, ``sweep_sha256``, ``source``, ``text`` (the sweep file's
    exact text), ``dimensions`` (JSON), ``engine``, ``status`` (``running``, ``done``,
    ``interrupted``, ``refused``), ``n_points``, ``n_solved``, ``n_failed``, ``seconds`` and the
    summary table (Parquet).
``sweep_points``
    one row per point: ``sweep_id``, ``point``, ``name``, ``values`` (JSON), ``status``
    (``ok``, ``failed``, ``error``), ``run_id`` (the point's run in ``runs``; null when it
    failed), ``error``, ``seconds``.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["SweepRecorder", "SweepRecordsMixin"]

_SWEEP_DDL = [
    """CREATE TABLE IF NOT EXISTS sweeps (
        sweep_id VARCHAR PRIMARY KEY,
        created_at TIMESTAMP NOT NULL,
        finished_at TIMESTAMP,
        name VARCHAR NOT NULL,
        model VARCHAR,
        dataset VARCHAR,
        mode VARCHAR NOT NULL,
        sweep_sha256 VARCHAR NOT NULL,
        source VARCHAR,
        text VARCHAR NOT NULL,
        dimensions VARCHAR NOT NULL,
        engine VARCHAR,
        status VARCHAR NOT NULL,
        n_points BIGINT NOT NULL,
        n_solved BIGINT,
        n_failed BIGINT,
        seconds DOUBLE,
        summary BLOB,
        summary_meta VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS sweep_points (
        sweep_id VARCHAR NOT NULL,
        point BIGINT NOT NULL,
        name VARCHAR NOT NULL,
        "values" VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        run_id VARCHAR,
        error VARCHAR,
        seconds DOUBLE,
        PRIMARY KEY (sweep_id, point)
    )""",
]
_SWEEP_LIST = [
    "sweep_id",
    "created_at",
    "name",
    "model",
    "dataset",
    "mode",
    "status",
    "n_points",
    "n_solved",
    "n_failed",
    "seconds",
    "sweep_sha256",
]


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None)


class SweepRecordsMixin:
    """The sweep part of :class:`~kaifang.store.ResultsStore` (see the module docstring)."""

    # provided by ResultsStore
    path: Any

    def _connect(self, *, write: bool) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    @staticmethod
    def _sweep_tables(con: Any) -> bool:
        names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return "sweeps" in names

    def add_sweep(self, sweep: Any, *, engine: str = "") -> str:
        """Record the start of a sweep (status ``running``); return its id (same form as run ids).

        ``sweep`` is a :class:`kaifang.scenario.sweep.Sweep`.
        """
        from kaifang.store._impl import _dumps, _new_run_id

        dims = [
            {"label": d.label, "fields": list(d.fields), "op": d.op, "values": list(d.values)}
            for d in sweep.dimensions
        ]
        with self._connect(write=True) as con:
            for ddl in _SWEEP_DDL:
                con.execute(ddl)
            existing = {r[0] for r in con.execute("SELECT sweep_id FROM sweeps").fetchall()}
            now = _now()
            sweep_id = _new_run_id(now)
            while sweep_id in existing:
                sweep_id = _new_run_id(now)
            con.execute(
                "INSERT INTO sweeps (sweep_id, created_at, name, model, dataset, mode, sweep_sha256, source, "
                "text, dimensions, engine, status, n_points) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    sweep_id,
                    now,
                    sweep.name,
                    sweep.base.model,
                    sweep.base.dataset,
                    sweep.mode,
                    sweep.sha256,
                    sweep.source,
                    sweep.text,
                    _dumps(dims),
                    engine,
                    "running",
                    len(sweep.points),
                ],
            )
        return sweep_id

    def add_sweep_point(
        self,
        sweep_id: str,
        *,
        point: int,
        name: str,
        values: Mapping[str, Any],
        status: str,
        run_id: str | None = None,
        error: str | None = None,
        seconds: float | None = None,
    ) -> None:
        """Record one point of a sweep: its values, status, run id (when solved) and error."""
        from kaifang.store._impl import _dumps

        with self._connect(write=True) as con:
            con.execute(
                "INSERT OR REPLACE INTO sweep_points VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [sweep_id, int(point), name, _dumps(dict(values)), status, run_id, error, seconds],
            )

    def finish_sweep(
        self,
        sweep_id: str,
        *,
        status: str,
        summary: pd.DataFrame | None = None,
        seconds: float | None = None,
    ) -> None:
        """Close a sweep record: its final status (``done``, ``interrupted``...), the counts of
        solved and failed points (from ``sweep_points``), its time and summary table."""
        from kaifang.store._impl import _to_parquet

        blob = meta = None
        if summary is not None:
            blob, meta = _to_parquet(summary)
        with self._connect(write=True) as con:
            solved, failed = con.execute(
                "SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status != 'ok') "
                "FROM sweep_points WHERE sweep_id = ?",
                [sweep_id],
            ).fetchone()
            con.execute(
                "UPDATE sweeps SET finished_at = ?, status = ?, n_solved = ?, n_failed = ?, seconds = ?, "
                "summary = ?, summary_meta = ? WHERE sweep_id = ?",
                [_now(), status, solved, failed, seconds, blob, meta, sweep_id],
            )

    def sweeps(self) -> pd.DataFrame:
        """All sweeps, oldest first: sweep_id, created_at (UTC), name, model, dataset, mode,
        status, n_points, n_solved, n_failed, seconds, sweep_sha256. Empty (with these
        columns) when the store has none."""
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in _SWEEP_LIST})
        if not self.path.exists():
            return empty
        with self._connect(write=False) as con:
            if not self._sweep_tables(con):
                return empty
            df = con.execute(f"SELECT {', '.join(_SWEEP_LIST)} FROM sweeps ORDER BY sweep_id").df()
        return df.reset_index(drop=True)

    def resolve_sweep_id(self, sweep_id: str) -> str:
        """The full sweep id for ``sweep_id`` or a unique prefix of one."""
        from kaifang.store._impl import StoreError

        ids = list(self.sweeps()["sweep_id"])
        if sweep_id in ids:
            return sweep_id
        hits = [i for i in ids if i.startswith(sweep_id)] if sweep_id else []
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            raise StoreError(
                f"sweep id {sweep_id!r} is ambiguous in {self.path}: it starts {len(hits)} sweeps "
                f"({', '.join(hits[:5])}{', ...' if len(hits) > 5 else ''}); give more characters."
            )
        close = difflib.get_close_matches(sweep_id, ids, n=3, cutoff=0.4)
        hint = (" Did you mean " + " or ".join(repr(c) for c in close) + "?") if close else ""
        raise StoreError(
            f"no sweep {sweep_id!r} in results store {self.path}.{hint} `kaifang sweeps list` shows the "
            f"{len(ids)} stored sweeps."
        )

    def get_sweep(self, sweep_id: str) -> dict[str, Any]:
        """A stored sweep: its row of :meth:`sweeps` plus ``source``, ``text``, ``engine``,
        ``dimensions`` (list), ``points`` (DataFrame: point, name, values, status, run_id,
        error, seconds; ``run_present`` says whether the run is still in the store) and
        ``summary`` (DataFrame, or ``None`` while the sweep has not finished)."""
        from kaifang.store._impl import _from_parquet

        sid = self.resolve_sweep_id(sweep_id)
        with self._connect(write=False) as con:
            cur = con.execute("SELECT * FROM sweeps WHERE sweep_id = ?", [sid])
            cols = [d[0] for d in cur.description]
            rec = dict(zip(cols, cur.fetchone(), strict=True))
            points = con.execute(
                'SELECT p.point, p.name, p."values", p.status, p.run_id, p.error, p.seconds, '
                "r.run_id IS NOT NULL AS run_present FROM sweep_points p LEFT JOIN runs r ON p.run_id = r.run_id "
                "WHERE p.sweep_id = ? ORDER BY p.point",
                [sid],
            ).df()
        blob, meta = rec.pop("summary"), rec.pop("summary_meta")
        rec["summary"] = _from_parquet(bytes(blob), meta) if blob is not None else None
        rec["dimensions"] = json.loads(rec["dimensions"])
        points["values"] = [json.loads(v) for v in points["values"]]
        rec["points"] = points.reset_index(drop=True)
        for key in ("created_at", "finished_at"):
            if rec[key] is not None:
                rec[key] = rec[key].isoformat() + "Z"
        return rec

    def sweep_run_ids(self, sweep_id: str) -> Sequence[str]:
        """The run ids of a sweep's solved points, in point order."""
        pts = self.get_sweep(sweep_id)["points"]
        return [r for r in pts["run_id"] if isinstance(r, str)]

    def delete_sweep(self, sweep_id: str, *, runs: bool = True) -> None:
        """Remove a sweep record and (by default) its points' runs."""
        sid = self.resolve_sweep_id(sweep_id)
        with self._connect(write=True) as con:
            ids = [
                r[0]
                for r in con.execute("SELECT run_id FROM sweep_points WHERE sweep_id = ?", [sid]).fetchall()
            ]
            con.execute("BEGIN TRANSACTION")
            if runs:
                for rid in ids:
                    if rid is not None:
                        con.execute("DELETE FROM run_tables WHERE run_id = ?", [rid])
                        con.execute("DELETE FROM runs WHERE run_id = ?", [rid])
            con.execute("DELETE FROM sweep_points WHERE sweep_id = ?", [sid])
            con.execute("DELETE FROM sweeps WHERE sweep_id = ?", [sid])
            con.execute("COMMIT")


class SweepRecorder:
    """Records a sweep's points in a results store from a background thread, so that solving
    goes on while a point is written (the store's file is opened for each write).

    Created when the first point is in (the sweep record is written then, status
    ``running``); :meth:`add` queues a point (blocking while ``max_queued`` are waiting);
    :meth:`close` waits for the queue, closes the record and raises the first store error met.

    Parameters
    ----------
    store
        The :class:`~kaifang.store.ResultsStore`.
    sweep
        The :class:`kaifang.scenario.sweep.Sweep`.
    engine
        Where the points run (recorded).
    """

    def __init__(self, store: Any, sweep: Any, *, engine: str = "", max_queued: int = 8) -> None:
        import queue
        import threading

        self.store = store
        self.sweep_id: str = store.add_sweep(sweep, engine=engine)
        self.run_ids: dict[int, str | None] = {}
        self.error: BaseException | None = None
        self._queue: Any = queue.Queue(maxsize=max_queued)
        self._thread = threading.Thread(target=self._loop, name="kaifang-sweep-store", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            result, scenario, fields = item
            try:
                run_id = self.store.add(result, scenario) if result is not None else None
                self.store.add_sweep_point(self.sweep_id, run_id=run_id, **fields)
                self.run_ids[fields["point"]] = run_id
            except BaseException as exc:  # reported by add() or close() in the caller's thread
                self.error = exc

    def add(
        self,
        *,
        point: int,
        name: str,
        values: Mapping[str, Any],
        status: str,
        result: Any = None,
        scenario: Any = None,
        error: str | None = None,
        seconds: float | None = None,
    ) -> None:
        """Queue one point (its run when ``result`` is given) for writing."""
        if self.error is not None:
            raise self.error
        fields = {"point": point, "name": name, "values": dict(values), "status": status}
        fields.update(error=error, seconds=seconds)
        self._queue.put((result, scenario, fields))

    def close(
        self, *, status: str, summary: pd.DataFrame | None = None, seconds: float | None = None
    ) -> None:
        """Write what is queued, then close the sweep record with ``status``."""
        self._queue.put(None)
        self._thread.join()
        try:
            self.store.finish_sweep(self.sweep_id, status=status, summary=summary, seconds=seconds)
        except BaseException as exc:
            self.error = self.error or exc
        if self.error is not None:
            raise self.error
