"""``kaifang run FILE...``: solve scenarios, print a table (or JSON), save the results."""

from __future__ import annotations

import datetime as _dt
import json
import sys
import warnings
from pathlib import Path

import typer
from rich.table import Table

from kaifang.cli._app import app, console, err_console
from kaifang.errors import KaifangWarning
from kaifang.models import run_scenario
from kaifang.results import RunResult
from kaifang.scenario import Scenario, load_scenario

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
    for rec in df[cols].itertuples(index=False):
        t.add_row(*[(("—" if v != v else f"{v:,.3f}") if isinstance(v, float) else str(v)) for v in rec])
    console.print(t)
    d = result.diagnostics
    bits = [f"{k}={d[k]}" for k in ("converged", "iterations", "residual", "solve_seconds") if k in d]
    if bits:
        console.print("diagnostics: " + ", ".join(bits), style="dim")
    if len(df.columns) > _MAX_COLS:
        console.print(f"({len(df.columns) - _MAX_COLS} more columns in the saved results)", style="dim")


def solve_with_messages(sc: Scenario) -> RunResult:
    """Solve one scenario, showing progress on a terminal and KaifangWarnings (e.g. group
    members folded into ROW) as one ``warning:`` line each on stderr."""
    with err_console.status(f"[bold]{sc.name}[/]: starting", spinner="dots") as status:

        def progress(message: str) -> None:
            status.update(f"[bold]{sc.name}[/]: {message}")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KaifangWarning)
            result = run_scenario(sc, progress=progress if sys.stderr.isatty() else None)
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, KaifangWarning):
            if str(w.message) not in seen:
                seen.add(str(w.message))
                err_console.print(f"[bold yellow]warning:[/] {w.message}", highlight=False, soft_wrap=True)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


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
) -> None:
    """Solve one or more scenario files and report the change for every region.

    Each run is recorded in the results store and its run id printed (with --json, as the
    field ``run_id`` of the run's JSON object); `kaifang runs list` shows them.
    """
    scenarios = [load_scenario(f) for f in files]  # validate all before solving any
    store = None
    if not no_store:
        from kaifang.store import ResultsStore

        store = ResultsStore(store_path)
    for sc in scenarios:
        result = solve_with_messages(sc)
        run_id = store.add(result, sc) if store is not None else None
        if as_json:
            doc = result.to_document()
            if run_id is not None:
                doc["run_id"] = run_id
            sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
        else:
            print_table(result)
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
