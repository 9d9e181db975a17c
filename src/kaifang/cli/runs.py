"""``kaifang runs list|show|export|delete``: the results store on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import typer

from kaifang.cli._app import app, console, err_console
from kaifang.cli.run import COLUMNS_HELP, REGIONS_HELP, SORT_HELP, TABLE_HELP, TOP_HELP

if TYPE_CHECKING:
    from kaifang.store import ResultsStore

runs_app = typer.Typer(
    help="Stored runs (the results store): list, show, export, delete.", no_args_is_help=True
)
app.add_typer(runs_app, name="runs")

_STORE_HELP = "Results store (DuckDB file; default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb)."


def _store(path: Path | None) -> ResultsStore:
    from kaifang.store import ResultsStore

    return ResultsStore(path)


def _rows(store: ResultsStore) -> list[dict]:
    df = store.list()
    rows = []
    for rec in df.to_dict(orient="records"):
        rec["created_at"] = (
            rec["created_at"].isoformat() + "Z" if hasattr(rec["created_at"], "isoformat") else ""
        )
        sec = rec.get("solve_seconds")
        rec["solve_seconds"] = None if sec is None or sec != sec else float(sec)
        rec["synthetic"] = bool(rec["synthetic"])
        rows.append(rec)
    return rows


@runs_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print JSON: {'store': PATH, 'runs': [...]}."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """List the stored runs, oldest first."""
    from rich.table import Table
    from rich.text import Text

    from kaifang.cli._format import clean, fmt_seconds

    st = _store(store)
    rows = _rows(st)
    if as_json:
        console.print_json(json.dumps({"store": str(st.path), "runs": rows}))
        return
    t = Table(title=Text(f"runs in {clean(st.path)}"), title_justify="left")
    for col in ("run_id", "created_at", "scenario", "model", "dataset", "solve"):
        t.add_column(
            col,
            justify="right" if col == "solve" else "left",
            no_wrap=col in ("run_id", "created_at", "solve"),
        )
    for r in rows:
        sec = "" if r["solve_seconds"] is None else fmt_seconds(r["solve_seconds"])
        name = clean(r["scenario"]) + (" [SYNTHETIC]" if r["synthetic"] else "")
        t.add_row(
            *(
                Text(x)
                for x in (
                    r["run_id"],
                    r["created_at"][:19],
                    name,
                    clean(r["model"]),
                    clean(r["dataset"]),
                    sec,
                )
            )
        )
    console.print(t)
    if not rows:
        console.print("no runs yet: `kaifang run FILE` records one.", style="dim", markup=False)


@runs_app.command("show")
def show(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix of one)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the run's metadata, diagnostics, provenance and regions as JSON."
    ),
    scenario: bool = typer.Option(False, "--scenario", help="Print only the scenario text of the run."),
    table: str | None = typer.Option(None, "--table", help=TABLE_HELP),
    regions: list[str] = typer.Option(None, "--regions", "-r", help=REGIONS_HELP),
    sort: str | None = typer.Option(None, "--sort", help=SORT_HELP),
    top: int | None = typer.Option(None, "--top", help=TOP_HELP),
    columns: list[str] = typer.Option(None, "--columns", "-c", help=COLUMNS_HELP),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Show one stored run: its per-region table (or another of its tables), diagnostics and provenance."""
    from rich.text import Text

    from kaifang.cli._format import clean
    from kaifang.cli.run import print_table

    st = _store(store)
    if scenario:
        typer.echo(st.scenario_text(run_id), nl=False)
        return
    info = st.info(run_id)
    res = st.get(info["run_id"])
    if as_json:
        doc = res.to_document()
        doc.update(
            {
                "run_id": info["run_id"],
                "created_at": info["created_at"],
                "tables": info["tables"],
                "scenario_source": info["scenario_source"],
            }
        )
        console.print_json(json.dumps(doc, allow_nan=False))
        return
    console.print(
        Text(f"run {info['run_id']}  created {info['created_at']}  store {clean(st.path)}"), highlight=False
    )
    print_table(res, table=table, regions=regions, sort=sort, top=top, columns=columns)
    prov = res.provenance
    console.print(
        Text(
            f"data set: {clean(prov.get('dataset'))}   scenario: {clean(info['scenario_source'])} "
            f"(sha256 {str(prov.get('scenario_sha256'))[:12]}…)   kaifang {clean(prov.get('kaifang_version'))}"
        ),
        highlight=False,
    )
    tabs = ", ".join(f"{clean(k)} ({v:,} rows)" for k, v in info["tables"].items())
    console.print(Text(f"tables: {tabs}  (--table NAME prints one)"), highlight=False)


@runs_app.command("export")
def export(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix of one)."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Target: a folder for csv/parquet, a .xlsx file for xlsx."
    ),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, parquet or xlsx."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Export a stored run's tables to CSV files, Parquet files or an Excel workbook.

    Missing values stay missing in every format (empty in CSV and Excel, null in Parquet and
    JSON).
    """
    from kaifang.errors import UserInputError

    fmt_l = fmt.lower()
    if fmt_l not in ("csv", "parquet", "xlsx"):
        raise UserInputError(f"--format {fmt!r}: unknown export format; valid formats: csv, parquet, xlsx.")
    fmt_c: Literal["csv", "parquet", "xlsx"] = fmt_l  # type: ignore[assignment]
    st = _store(store)
    with err_console.status("exporting", spinner="dots") as status:

        def progress(message: str) -> None:
            status.update(message)

        path = st.export(run_id, out, fmt_c, progress=progress)
    console.print(f"exported: {path}", highlight=False, markup=False)


@runs_app.command("delete")
def delete(
    run_ids: list[str] = typer.Argument(..., help="Run ids to delete."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Delete stored runs."""
    st = _store(store)
    full = [st.resolve_id(r) for r in run_ids]  # all must exist before any is deleted
    for rid in full:
        st.delete(rid)
        console.print(f"deleted {rid}", highlight=False, markup=False)
