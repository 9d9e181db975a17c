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
    from kaifang.models import PreparedRun
    from kaifang.results import RunResult
    from kaifang.scenario import Scenario
    from kaifang.store import StoreError

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


def print_warnings(result: RunResult, *, stderr: bool = False) -> None:
    """Print the run's warnings, one ``warning:`` line each (under the table, or on stderr)."""
    from rich.markup import escape

    from kaifang.cli._format import clean

    out = err_console if stderr else console
    for message in result.warnings:
        out.print(
            f"[bold yellow]warning:[/] {escape(clean(message, keep_newlines=True))}",
            highlight=False,
            soft_wrap=True,
        )


def solve_with_messages(run: PreparedRun | Scenario) -> RunResult:
    """Solve one scenario (validated first when not yet a :class:`~kaifang.models.PreparedRun`),
    showing progress on a terminal; its warnings are in the result (:func:`print_warnings`)."""
    from rich.markup import escape

    from kaifang.cli._format import clean
    from kaifang.errors import KaifangWarning
    from kaifang.models import prepare_scenario, solve_prepared
    from kaifang.scenario import Scenario

    if isinstance(run, Scenario):
        from kaifang.cli.validate import prepare_files

        run = prepare_files([Path(run.source)])[0] if Path(run.source).is_file() else prepare_scenario(run)
    sc = run.scenario
    label = escape(clean(sc.name))
    with err_console.status(f"[bold]{label}[/]: starting", spinner="dots") as status:

        def progress(message: str) -> None:
            status.update(f"[bold]{label}[/]: {escape(clean(message))}")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KaifangWarning)  # they are in result.warnings
            return solve_prepared(run, progress=progress if sys.stderr.isatty() else None)


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
    strict: bool = typer.Option(
        False, "--strict", help="Treat warnings (e.g. a shock that changes nothing) as errors (exit code 2)."
    ),
) -> None:
    """Solve one or more scenario files and report the change for every region.

    Every file is validated completely (its model's sections and shocks against its data set),
    and the results store opened, before any is solved, so a mistake in the last file costs no
    time and stores nothing. Each run is recorded in the store and its run id printed; with
    --json, one JSON object per scenario and line (JSON Lines), with the run id as its field
    ``run_id`` and the warnings as its list ``warnings``. `kaifang runs list` shows the stored
    runs. The full results (result.json and one Parquet file per table; CSV too with --csv)
    are saved under kaifang-results/<name>/<time>/ unless --no-save.
    """
    from kaifang.cli._files import check_name, open_store, results_folder, save_result
    from kaifang.cli.validate import prepare_files
    from kaifang.errors import UserInputError

    prepared = prepare_files(files, strict=strict)  # every file validated before any is solved
    scenarios = [p.scenario for p in prepared]
    for sc in scenarios:
        check_name(sc)
    if save and out is not None and out.exists() and not out.is_dir():
        raise UserInputError(f"--out {str(out)!r} is a file; give a folder for the results.")
    store = None if no_store else open_store(store_path)
    if store is not None:
        from kaifang.store import StoreError  # with --no-store, the store package is never loaded
    store_error: StoreError | None = None
    for run in prepared:
        sc = run.scenario
        result = solve_with_messages(run)
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
            print_warnings(result, stderr=True)
        else:
            print_table(result, table=table, regions=regions, sort=sort, top=top, columns=columns)
            print_warnings(result)
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
