"""``kaifang run FILE...``: solve scenarios, print a table (or JSON), save the results."""

from __future__ import annotations

import datetime as _dt
import json
import sys
import warnings
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from kaifang.cli._app import app, console, err_console
from kaifang.errors import KaifangWarning
from kaifang.models import PreparedRun, prepare_scenario, solve_prepared
from kaifang.results import RunResult
from kaifang.scenario import Scenario

_MAX_COLS = 9


def print_table(result: RunResult) -> None:
    """Print the per-region table of ``result`` (percent changes with two decimals)."""
    df = result.regions
    cols = list(df.columns)[:_MAX_COLS]
    title = f"{result.scenario} — {result.model}"
    if result.synthetic:
        title += "  [SYNTHETIC DEMO DATA]"
    t = Table(title=title, title_justify="left")
    for c in cols:
        t.add_column(c, justify="left" if c == "region" else "right")
    no_trade = df["no_trade"].to_numpy(dtype=bool) if "no_trade" in df.columns else [False] * len(df)
    for rec, flag in zip(df[cols].itertuples(index=False), no_trade, strict=True):
        empty = "no trade" if flag else "—"
        t.add_row(*[((empty if v != v else f"{v:,.3f}") if isinstance(v, float) else str(v)) for v in rec])
    console.print(t)
    d = result.diagnostics
    bits = [f"{k}={d[k]}" for k in ("converged", "iterations", "residual", "solve_seconds") if k in d]
    if bits:
        console.print("diagnostics: " + ", ".join(bits), style="dim")
    if len(df.columns) > _MAX_COLS:
        console.print(f"({len(df.columns) - _MAX_COLS} more columns in the saved results)", style="dim")


def print_warnings(result: RunResult, *, stderr: bool = False) -> None:
    """Print the run's warnings, one ``warning:`` line each (under the table, or on stderr)."""
    out = err_console if stderr else console
    for message in result.warnings:
        out.print(f"[bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)


def solve_with_messages(run: PreparedRun | Scenario) -> RunResult:
    """Solve one scenario (validated first when not yet a :class:`PreparedRun`), showing progress
    on a terminal; the warnings are in the result (:func:`print_warnings`)."""
    if isinstance(run, Scenario):
        from kaifang.cli.validate import prepare_files

        run = prepare_files([Path(run.source)])[0] if Path(run.source).is_file() else prepare_scenario(run)
    sc = run.scenario
    with err_console.status(f"[bold]{sc.name}[/]: starting", spinner="dots") as status:

        def progress(message: str) -> None:
            status.update(f"[bold]{sc.name}[/]: {message}")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KaifangWarning)  # they are in result.warnings
            return solve_prepared(run, progress=progress if sys.stderr.isatty() else None)


@app.command("run")
def run_cmd(
    files: list[Path] = typer.Argument(..., help="Scenario files (TOML)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the results as JSON (one object per scenario)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the full results (default: kaifang-results/<name>/<time>)."
    ),
    save: bool = typer.Option(True, "--save/--no-save", help="Save the full results to disk."),
    store_path: Path | None = typer.Option(
        None,
        "--store",
        help="Results store (DuckDB file) to record the runs in "
        "(default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb).",
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the runs in the results store."),
    strict: bool = typer.Option(
        False, "--strict", help="Treat warnings (e.g. a shock that changes nothing) as errors (exit code 2)."
    ),
) -> None:
    """Solve one or more scenario files and report the change for every region.

    Every file is validated completely (its model's sections and shocks against its data set)
    before any is solved, so a mistake in the last file costs no time and stores nothing.
    Each run is recorded in the results store and its run id printed; with --json, one JSON
    object per scenario and line (JSON Lines), with the run id as its field ``run_id`` and the
    warnings as its list ``warnings``. `kaifang runs list` shows the stored runs.
    """
    from kaifang.cli.validate import prepare_files

    prepared = prepare_files(files, strict=strict)  # every file validated before any is solved
    scenarios = [p.scenario for p in prepared]
    store = None
    if not no_store:
        from kaifang.store import ResultsStore

        store = ResultsStore(store_path)
    for run in prepared:
        sc = run.scenario
        result = solve_with_messages(run)
        run_id = store.add(result, sc) if store is not None else None
        if as_json:
            doc = result.to_document()
            if run_id is not None:
                doc["run_id"] = run_id
            sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
            print_warnings(result, stderr=True)
        else:
            print_table(result)
            print_warnings(result)
            if run_id is not None:
                console.print(f"run id: [bold]{run_id}[/]  (store: {store.path})", highlight=False)
        if save:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            if out is not None and len(scenarios) == 1:
                folder = out
            else:
                folder = (out or Path("kaifang-results")) / sc.name / stamp
            path = result.save(folder)
            if not as_json:
                console.print(f"saved: {path}", style="dim")
