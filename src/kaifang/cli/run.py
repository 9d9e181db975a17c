"""``kaifang run FILE...``: solve scenarios, print a table (or JSON), save the results."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kaifang.cli._app import app, console, err_console

if TYPE_CHECKING:
    from kaifang.results import RunResult
    from kaifang.scenario import Scenario

# option texts shared with `runs show` and `compare`
REGIONS_HELP = (
    "Only these regions: codes or built-in groups (e.g. USA,CHN,EU), comma-separated or repeated. "
    "Table only; --json keeps every region."
)
SORT_HELP = "Sort the table by a column: COLUMN (ascending), -COLUMN or COLUMN:desc (descending)."
TOP_HELP = "Only the first N rows (after --sort; without it, the N largest of the first outcome)."
COLUMNS_HELP = "Columns to show, comma-separated or repeated, or 'all' (default: the first eight)."
TABLE_HELP = "Print this table of the results instead of the per-region table (e.g. sectors)."


def print_table(
    result: RunResult,
    *,
    table: str | None = None,
    regions: list[str] | None = None,
    sort: str | None = None,
    top: int | None = None,
    columns: list[str] | None = None,
) -> None:
    """Print a run's per-region table (or ``table``), summary tables and diagnostics."""
    from kaifang.cli._format import parse_list, print_result

    print_result(
        console,
        result,
        table=table,
        regions=parse_list(regions),
        sort=sort,
        top=top,
        columns=parse_list(columns) or None,
    )


def solve_with_messages(sc: Scenario) -> RunResult:
    """Solve one scenario, showing progress on a terminal and KaifangWarnings (e.g. group
    members folded into ROW) as one ``warning:`` line each on stderr."""
    from rich.markup import escape

    from kaifang.cli._format import clean
    from kaifang.errors import KaifangWarning
    from kaifang.models import run_scenario

    label = escape(clean(sc.name))
    with err_console.status(f"[bold]{label}[/]: starting", spinner="dots") as status:

        def progress(message: str) -> None:
            status.update(f"[bold]{label}[/]: {escape(clean(message))}")

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KaifangWarning)
            result = run_scenario(sc, progress=progress if sys.stderr.isatty() else None)
    seen: set[str] = set()
    for w in caught:
        if issubclass(w.category, KaifangWarning):
            if str(w.message) not in seen:
                seen.add(str(w.message))
                err_console.print(
                    f"[bold yellow]warning:[/] {escape(clean(str(w.message), keep_newlines=True))}",
                    highlight=False,
                    soft_wrap=True,
                )
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


@app.command("run")
def run_cmd(
    files: list[Path] = typer.Argument(..., metavar="FILE...", help="Scenario files (TOML)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the results as JSON (one object per line, one per scenario)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Folder for the full results (default: kaifang-results/<name>/<time>)."
    ),
    save: bool = typer.Option(True, "--save/--no-save", help="Save the full results to disk."),
    csv: bool = typer.Option(
        False, "--csv", help="Save the tables as CSV files too (always saved: result.json and Parquet)."
    ),
    store_path: Path | None = typer.Option(
        None,
        "--store",
        help="Results store (DuckDB file) to record the runs in "
        "(default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb).",
    ),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record the runs in the results store."),
    regions: list[str] = typer.Option(None, "--regions", "-r", help=REGIONS_HELP),
    sort: str | None = typer.Option(None, "--sort", help=SORT_HELP),
    top: int | None = typer.Option(None, "--top", help=TOP_HELP),
    columns: list[str] = typer.Option(None, "--columns", "-c", help=COLUMNS_HELP),
    table: str | None = typer.Option(None, "--table", help=TABLE_HELP),
) -> None:
    """Solve one or more scenario files and report the change for every region.

    Every file is read and checked, and the results store opened, before anything is solved.
    Each run is recorded in the store and its run id printed (with --json, as the field
    ``run_id`` of the run's JSON object); `kaifang runs list` shows them. The full results
    (result.json and one Parquet file per table; CSV too with --csv) are saved under
    kaifang-results/<name>/<time>/ unless --no-save.
    """
    from kaifang.cli._files import check_name, open_store, results_folder, save_result
    from kaifang.errors import UserInputError
    from kaifang.scenario import load_scenario
    from kaifang.store import StoreError

    scenarios = [load_scenario(f) for f in files]  # validate all before solving any
    for sc in scenarios:
        check_name(sc)
    if save and out is not None and out.exists() and not out.is_dir():
        raise UserInputError(f"--out {str(out)!r} is a file; give a folder for the results.")
    store = None if no_store else open_store(store_path)
    store_error: StoreError | None = None
    for sc in scenarios:
        result = solve_with_messages(sc)
        run_id = None
        if store is not None and store_error is None:
            try:
                run_id = store.add(result, sc)
            except StoreError as exc:  # e.g. the disk filled up: show and save the results first
                store_error = exc
        if as_json:
            doc = result.to_document()
            if run_id is not None:
                doc["run_id"] = run_id
            sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
            sys.stdout.flush()
        else:
            print_table(result, table=table, regions=regions, sort=sort, top=top, columns=columns)
            if run_id is not None:
                console.print(f"run id: {run_id}  (store: {store.path})", highlight=False, markup=False)
        if save:
            path = save_result(result, results_folder(sc.name, out, single=len(scenarios) == 1), csv=csv)
            if not as_json:
                console.print(f"saved: {path}", style="dim", highlight=False, markup=False)
    if store_error is not None:
        raise StoreError(
            f"{store_error} The results above were "
            + ("saved; " if save else "printed but not saved (--no-save); ")
            + "they are not in the store."
        )
