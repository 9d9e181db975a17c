"""``kaifang sweep FILE``: solve every point of a ``[sweep]`` file on a Dask cluster (or
serially), print and save the summary, record the sweep in the results store; ``kaifang sweeps
list|show|delete`` reads the stored sweeps.

Heavy imports (pandas, Dask, the models, the store) happen inside the command functions.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path
from typing import Any

import typer

from kaifang.cli._app import app, console, err_console

#: Below this many seconds of solving in all, a sweep on a local cluster is told that --serial
#: would be about as fast (the cluster's start and each worker's imports and data cost seconds).
SHORT_SWEEP_SECONDS = 20.0

sweeps_app = typer.Typer(help="Stored sweeps (the results store): list, show, delete.", no_args_is_help=True)
app.add_typer(sweeps_app, name="sweeps")

_STORE_HELP = "Results store (DuckDB file; default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb)."
_MAX_ROWS = 200
_MAX_OUTCOMES = 4


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "—" if v != v else f"{v:,.3f}"
    return str(v)


def _print_summary(summary: Any, labels: tuple[str, ...], title: str, regions: list[str] | None) -> None:
    from rich.table import Table

    df = summary
    if regions is not None and "region" in df.columns:
        df = df[df["region"].astype(str).isin(regions)]
    value_cols = ["point", *[c for c in df.columns if c in labels or c.startswith("sweep:")]]
    rest = [c for c in df.columns if c not in value_cols]
    keys = [c for c in rest if c == "region"]
    outcomes = [c for c in rest if c not in keys][:_MAX_OUTCOMES]
    cols = [*value_cols, *keys, *outcomes]
    t = Table(title=title, title_justify="left")
    for c in cols:
        t.add_column(c, justify="right" if c in outcomes or c == "point" else "left")
    for rec in df[cols].head(_MAX_ROWS).itertuples(index=False):
        t.add_row(*[_fmt(v) for v in rec])
    console.print(t)
    notes = []
    if len(df) > _MAX_ROWS:
        notes.append(f"showing {_MAX_ROWS} of {len(df):,} rows; --regions USA,CHN chooses the rows to print")
    if len(rest) - len(keys) > len(outcomes):
        notes.append(f"{len(rest) - len(keys) - len(outcomes)} more columns in the saved summary")
    if notes:
        console.print("(" + "; ".join(notes) + ")", style="dim")


def _env_pairs(pairs: list[str]) -> dict[str, str]:
    from kaifang.errors import UserInputError

    env = {}
    for item in pairs:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserInputError(
                f"--worker-env {item!r} is not KEY=VALUE; write it like KAIFANG_CACHE=/scratch/kf."
            )
        env[key.strip()] = value
    return env


@app.command("sweep")
def sweep_cmd(
    file: Path = typer.Argument(
        ..., help="Sweep file: a scenario file with a sweep section (TOML table 'sweep')."
    ),
    serial: bool = typer.Option(
        False, "--serial", help="Solve the points one after the other in this process (no Dask)."
    ),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="Address of a running Dask scheduler (tcp://host:8786); default: a local cluster.",
    ),
    workers: int | None = typer.Option(
        None, "--workers", min=1, help="Worker processes of the local cluster (default: one per core)."
    ),
    dashboard: bool = typer.Option(
        False, "--dashboard", help="Serve the local cluster's Dask dashboard (port 8787)."
    ),
    connect_timeout: float = typer.Option(
        10.0, "--connect-timeout", min=0.1, help="Seconds to wait for the scheduler and its first worker."
    ),
    worker_env: list[str] = typer.Option(
        [],
        "--worker-env",
        help="KEY=VALUE to set in every worker (repeatable); KAIFANG_* variables are passed on anyway.",
    ),
    forward_env: bool = typer.Option(
        True,
        "--forward-env/--no-forward-env",
        help="Pass this shell's KAIFANG_* variables (data mirror, cache) to the workers.",
    ),
    memory_limit: str | None = typer.Option(
        None,
        "--memory-limit",
        help="Memory the kept results may use, e.g. 2GB (default: 80% of what is available).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the sweep as one JSON object (with 'points')."),
    regions: str | None = typer.Option(
        None, "--regions", help="Comma-separated regions to print (all are saved and stored), e.g. USA,CHN."
    ),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Validate every point and list them; solve nothing."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the summary (default: kaifang-results/<sweep name>/<time>)."
    ),
    save: bool = typer.Option(
        True, "--save/--no-save", help="Save summary.csv, points.csv, sweep.json, sweep.toml."
    ),
    save_points: bool = typer.Option(
        False, "--save-points", help="Also save each point's full results (points/<name>/)."
    ),
    store_path: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
    no_store: bool = typer.Option(
        False, "--no-store", help="Do not record the sweep and its runs in the results store."
    ),
) -> None:
    """Solve every point of a sweep file on a Dask cluster (or serially) and summarise them.

    The file's sweep section lists the fields to vary and their values (docs/sweeps.md). Every point
    is validated before any is solved; by default the points run on a local Dask cluster (one
    worker process per core, listening on 127.0.0.1 only), or on a running cluster with
    --scheduler. Each solved point is stored as a run, grouped in one sweep record (its id is
    printed; `kaifang sweeps show ID`). Exit code 0 when every point was solved, 2 when some
    failed (e.g. did not converge) or the input is wrong, 1 when a point hit an internal error.
    """
    from rich.markup import escape

    from kaifang.errors import UserInputError
    from kaifang.scenario.sweep import load_sweep
    from kaifang.sweep import PointOutcome, parse_size, run_sweep, validate_sweep

    if serial and (scheduler or workers or dashboard):
        raise UserInputError(
            "--serial runs the points in this process: drop --scheduler, --workers and --dashboard."
        )
    if scheduler and (workers or dashboard):
        raise UserInputError(
            "--workers and --dashboard apply to the local cluster; an existing cluster (--scheduler) has its own."
        )
    limit = parse_size(memory_limit) if memory_limit is not None else None
    env = _env_pairs(worker_env)
    region_list = [r.strip() for r in regions.split(",") if r.strip()] if regions else None

    def say(message: str) -> None:
        err_console.print(escape(message), style="dim", highlight=False, soft_wrap=True)

    sw = load_sweep(file)
    if dry_run:
        say(f"validating {len(sw):,} points")
        validate_sweep(sw)
        rows = [{"point": p.index, "name": p.scenario.name, **p.assignments} for p in sw.points]
        if as_json:
            sys.stdout.write(json.dumps({"sweep": sw.name, "n_points": len(sw), "points": rows}) + "\n")
            return
        from rich.table import Table

        t = Table(title=f"{sw.name}: {len(sw):,} valid points ({sw.mode})", title_justify="left")
        cols = list(rows[0])
        for c in cols:
            t.add_column(c)
        for r in rows[:_MAX_ROWS]:
            t.add_row(*[json.dumps(r[c]) if isinstance(r[c], (list, dict)) else _fmt(r[c]) for c in cols])
        console.print(t)
        return

    store = None
    if not no_store:
        from kaifang.store import ResultsStore

        store = ResultsStore(store_path)
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = out if out is not None else Path("kaifang-results") / sw.name / stamp
    by_index = {p.index: p for p in sw.points}
    seen: set[str] = set()
    failed = 0

    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        disable=not err_console.is_terminal,
    )
    task = bar.add_task(sw.name, total=len(sw), failed="")

    def note(message: str) -> None:
        bar.console.print(message, highlight=False, soft_wrap=True)

    def on_point(o: PointOutcome) -> None:
        nonlocal failed
        if o.status == "ok" and o.result is not None:
            if save and save_points:
                o.result.save(folder / "points" / o.name)
        else:
            failed += 1
            what = escape(f"{by_index[o.index].describe()} {o.status}:")
            note(f"[bold yellow]{what}[/] {escape(o.error or '')}")
        for w in o.warnings:
            if w not in seen:
                seen.add(w)
                note(f"[bold yellow]warning:[/] {escape(w)}")
        bar.update(task, advance=1, failed=f"{failed} failed" if failed else "")

    def status(message: str) -> None:
        if message.startswith("solving"):
            bar.start()
        bar.console.print(escape(message), style="dim", highlight=False, soft_wrap=True)

    try:
        result = run_sweep(
            sw,
            engine="serial" if serial else "local",
            scheduler=scheduler,
            n_workers=workers,
            worker_env=env,
            forward_env=forward_env,
            dashboard=dashboard,
            connect_timeout=connect_timeout,
            memory_limit=limit,
            store=store,
            full_results=True if save and save_points else None,
            on_point=on_point,
            status=status,
        )
    finally:
        bar.stop()

    saved = result.save(folder) if save else None
    if as_json:
        doc = result.to_document()
        doc["store"] = str(store.path) if store is not None else None
        doc["saved"] = str(saved) if saved is not None else None
        sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
    else:
        title = f"{sw.name} — {sw.base.model}, {len(sw):,} points ({sw.mode})"
        _print_summary(result.summary, sw.labels, title, region_list)
        n_ok = len(sw) - result.n_failed
        line = f"solved {n_ok:,} of {len(sw):,} points in {result.seconds:.1f} s on {result.engine}"
        if result.n_failed:
            line += f"; {result.n_failed} failed (listed in points.csv and above)"
        console.print(line, highlight=False)
        work = sum(o.seconds for o in result.outcomes)
        if not serial and scheduler is None and work < SHORT_SWEEP_SECONDS:
            console.print(
                f"hint: the points took {work:.1f} s of solving in all; a sweep this short runs about as "
                f"fast with --serial (no cluster to start).",
                style="dim",
                highlight=False,
            )
        if result.sweep_id is not None and store is not None:
            console.print(f"sweep id: [bold]{result.sweep_id}[/]  (store: {store.path})", highlight=False)
        if saved is not None:
            console.print(f"saved: {saved}", style="dim")
    if result.n_failed:
        raise typer.Exit(1 if any(o.status == "error" for o in result.outcomes) else 2)


@sweeps_app.command("list")
def sweeps_list(
    as_json: bool = typer.Option(False, "--json", help="Print JSON: {'store': PATH, 'sweeps': [...]}."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """List the stored sweeps, oldest first."""
    from rich.table import Table

    from kaifang.store import ResultsStore

    st = ResultsStore(store)
    df = st.sweeps()
    rows = []
    for rec in df.to_dict(orient="records"):
        rec["created_at"] = (
            rec["created_at"].isoformat() + "Z" if hasattr(rec["created_at"], "isoformat") else ""
        )
        for k in ("n_points", "n_solved", "n_failed"):
            rec[k] = None if rec[k] is None or rec[k] != rec[k] else int(rec[k])
        rec["seconds"] = (
            None if rec["seconds"] is None or rec["seconds"] != rec["seconds"] else float(rec["seconds"])
        )
        rows.append(rec)
    if as_json:
        sys.stdout.write(json.dumps({"store": str(st.path), "sweeps": rows}) + "\n")
        return
    t = Table(title=f"sweeps in {st.path}", title_justify="left")
    for col in ("sweep_id", "created_at", "name", "model", "points", "solved", "failed", "status"):
        t.add_column(col, no_wrap=col in ("sweep_id", "created_at"))
    for r in rows:
        t.add_row(
            r["sweep_id"],
            r["created_at"][:19],
            r["name"],
            r["model"] or "",
            str(r["n_points"]),
            "" if r["n_solved"] is None else str(r["n_solved"]),
            "" if r["n_failed"] is None else str(r["n_failed"]),
            r["status"],
        )
    console.print(t)
    if not rows:
        console.print("no sweeps yet: `kaifang sweep FILE` records one.", style="dim")


@sweeps_app.command("show")
def sweeps_show(
    sweep_id: str = typer.Argument(..., help="Sweep id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print the record, its points and summary as JSON."),
    regions: str | None = typer.Option(
        None, "--regions", help="Comma-separated regions to print, e.g. USA,CHN."
    ),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Show a stored sweep: its points (values, status, run ids) and summary table."""
    from kaifang.results._impl import _clean
    from kaifang.store import ResultsStore

    rec = ResultsStore(store).get_sweep(sweep_id)
    labels = tuple(d["label"] for d in rec["dimensions"])
    if as_json:
        doc = {k: v for k, v in rec.items() if k not in ("points", "summary")}
        doc["points"] = [_clean(r) for r in rec["points"].to_dict(orient="records")]
        doc["summary"] = (
            [] if rec["summary"] is None else [_clean(r) for r in rec["summary"].to_dict(orient="records")]
        )
        sys.stdout.write(json.dumps(doc, allow_nan=False, default=str) + "\n")
        return
    console.print(
        f"[bold]{rec['name']}[/] ({rec['sweep_id']}): {rec['model']} on {rec['dataset']}, {rec['n_points']} points "
        f"({rec['mode']}), status {rec['status']}, {rec['n_solved'] or 0} solved, {rec['n_failed'] or 0} failed; "
        f"file {rec['source']} (sha256 {rec['sweep_sha256'][:12]})",
        highlight=False,
    )
    failed = rec["points"][rec["points"]["status"] != "ok"]
    for r in failed.itertuples(index=False):
        console.print(f"point {r.point} {r.status}: {r.error}", highlight=False, soft_wrap=True)
    if rec["summary"] is not None:
        region_list = [x.strip() for x in regions.split(",") if x.strip()] if regions else None
        _print_summary(rec["summary"], labels, f"{rec['name']} — summary", region_list)
    else:
        console.print(
            "the sweep did not finish: no summary (its solved points are runs in the store).", style="dim"
        )


@sweeps_app.command("delete")
def sweeps_delete(
    sweep_id: str = typer.Argument(..., help="Sweep id (or a unique prefix)."),
    keep_runs: bool = typer.Option(
        False, "--keep-runs", help="Delete the sweep record only, keep its points' runs."
    ),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Delete a stored sweep and (unless --keep-runs) its points' runs."""
    from kaifang.store import ResultsStore

    st = ResultsStore(store)
    sid = st.resolve_sweep_id(sweep_id)
    n = len(st.sweep_run_ids(sid))
    st.delete_sweep(sid, runs=not keep_runs)
    console.print(f"deleted sweep {sid}" + ("" if keep_runs else f" and its {n} runs"), highlight=False)
