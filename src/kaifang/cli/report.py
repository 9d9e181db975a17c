"""``kaifang report RUN... --out report.html``: one self-contained HTML report."""

from __future__ import annotations

from pathlib import Path

import typer

from kaifang.cli._app import app, console
from kaifang.errors import UserInputError

_STORE_HELP = "Results store (DuckDB file; default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb)."


@app.command("report")
def report_cmd(
    items: list[str] = typer.Argument(
        ..., metavar="RUN_OR_FILE...", help="Run ids (see `kaifang runs list`) or scenario files."
    ),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="The HTML file to write."),
    title: str | None = typer.Option(None, "--title", help="Page title."),
    measure: str | None = typer.Option(
        None, "--measure", help="Outcome for the headline, welfare chart and map (default: welfare_pct)."
    ),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record runs of scenario files."),
) -> None:
    """Write ONE self-contained HTML report for the given runs.

    The report opens offline and prints to PDF: headline table, welfare by country with a
    world map, trade and diversion, sector detail.
    """
    from kaifang.cli.compare import load_runs
    from kaifang.report import write_report

    if out.suffix.lower() not in (".html", ".htm"):
        raise UserInputError(f"--out {str(out)!r}: the report is an HTML file; give a name ending in .html.")
    if out.exists() and out.is_dir():
        raise UserInputError(f"--out {str(out)!r} is a folder; give a file name ending in .html.")
    runs = load_runs(items, store, no_store=no_store)
    path = write_report(runs, out, title=title, measure=measure)
    console.print(f"report: {path} ({path.stat().st_size / 1e6:.1f} MB)", highlight=False, markup=False)
