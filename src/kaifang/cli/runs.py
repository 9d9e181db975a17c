"""``kaifang runs list|show|export|delete``: the results store on the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import typer
from rich.table import Table

from kaifang.cli._app import app, console
from kaifang.store import ResultsStore

runs_app = typer.Typer(
    help="Stored runs (the results store): list, show, export, delete.", no_args_is_help=True
)
app.add_typer(runs_app, name="runs")

_STORE_HELP = "Results store (DuckDB file; default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb)."


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
    st = ResultsStore(store)
    rows = _rows(st)
    if as_json:
        console.print_json(json.dumps({"store": str(st.path), "runs": rows}))
        return
    t = Table(title=f"runs in {st.path}", title_justify="left")
    for col in ("run_id", "created_at", "scenario", "model", "dataset", "solve s"):
        t.add_column(
            col, justify="right" if col == "solve s" else "left", no_wrap=col in ("run_id", "created_at")
        )
    for r in rows:
        sec = "" if r["solve_seconds"] is None else f"{r['solve_seconds']:.3f}"
        name = r["scenario"] + (" [SYNTHETIC]" if r["synthetic"] else "")
        t.add_row(r["run_id"], r["created_at"][:19], name, r["model"], r["dataset"], sec)
    console.print(t)
    if not rows:
        console.print("no runs yet: `kaifang run FILE` records one.", style="dim")


@runs_app.command("show")
def show(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix of one)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the run's metadata, diagnostics, provenance and regions as JSON."
    ),
    scenario: bool = typer.Option(False, "--scenario", help="Print only the scenario text of the run."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Show one stored run: its per-region table, diagnostics and provenance."""
    st = ResultsStore(store)
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
    from kaifang.cli.run import print_table

    console.print(
        f"run [bold]{info['run_id']}[/]  created {info['created_at']}  store {st.path}", highlight=False
    )
    print_table(res)
    prov = res.provenance
    console.print(
        f"data set: {prov.get('dataset')}   scenario: {info['scenario_source']} "
        f"(sha256 {str(prov.get('scenario_sha256'))[:12]}…)   kaifang {prov.get('kaifang_version')}",
        highlight=False,
    )
    tabs = ", ".join(f"{k} ({v} rows)" for k, v in info["tables"].items())
    console.print(f"tables: {tabs}", highlight=False)


@runs_app.command("export")
def export(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix of one)."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Target: a folder for csv/parquet, a .xlsx file for xlsx."
    ),
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, parquet or xlsx."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Export a stored run's tables to CSV files, Parquet files or an Excel workbook."""
    st = ResultsStore(store)
    fmt_l: Literal["csv", "parquet", "xlsx"] = fmt.lower()  # type: ignore[assignment]
    path = st.export(run_id, out, fmt_l)
    console.print(f"exported: {path}", highlight=False)


@runs_app.command("delete")
def delete(
    run_ids: list[str] = typer.Argument(..., help="Run ids to delete."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
) -> None:
    """Delete stored runs."""
    st = ResultsStore(store)
    full = [st.resolve_id(r) for r in run_ids]  # all must exist before any is deleted
    for rid in full:
        st.delete(rid)
        console.print(f"deleted {rid}", highlight=False)
