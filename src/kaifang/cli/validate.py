"""``kaifang validate FILE...``: every check a run makes, without solving.

The same checks as ``kaifang run`` (one code path, :func:`kaifang.models.prepare_scenario`):
the common fields, the model's own sections, the shocks parsed and composed onto the data
set's regions and sectors, groups resolved. Exit code 0 when every file is valid (warnings
are printed), 2 when any is not (or, with ``--strict``, has a warning).
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import typer
from rich.markup import escape

from kaifang.cli._app import app, console, err_console
from kaifang.errors import KaifangWarning, UserInputError
from kaifang.models import PreparedRun, ValidationReport, prepare_scenario
from kaifang.scenario import load_scenario

__all__ = ["prepare_files", "validate_cmd"]


def _prepare(path: Path, strict: bool) -> PreparedRun:
    sc = load_scenario(path)
    with err_console.status(f"[bold]{escape(str(path))}[/]: validating", spinner="dots") as status:

        def progress(message: str) -> None:
            status.update(f"[bold]{escape(str(path))}[/]: {message}")

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KaifangWarning)  # collected by prepare_scenario
            return prepare_scenario(sc, progress if sys.stderr.isatty() else None, strict=strict)


def prepare_files(files: list[Path], *, strict: bool = False) -> list[PreparedRun]:
    """Validate and prepare every file; raise one :class:`UserInputError` listing every file's error.

    Nothing is solved: ``kaifang run`` calls this first, so a mistake in any file stops the
    command before the first solve and before anything is stored.
    """
    out: list[PreparedRun] = []
    errors: list[str] = []
    for f in files:
        try:
            out.append(_prepare(f, strict))
        except UserInputError as exc:
            errors.append(str(exc))
    if errors:
        head = (
            f"{len(errors)} of {len(files)} scenario files are not valid; nothing was solved or stored.\n"
            if len(files) > 1
            else ""
        )
        raise UserInputError(head + "\n".join(errors))
    return out


def _describe(run: PreparedRun) -> str:
    sc = run.scenario
    bits = [f"{k.replace('_', ' ')} {v}" for k, v in run.summary.items() if isinstance(v, int)]
    tail = f": {', '.join(bits)}" if bits else ""
    if run.prepared is None:
        tail += " (only the common fields: this model has no prepare step)"
    return f"{sc.model} on {sc.dataset}{tail}"


@app.command("validate")
def validate_cmd(
    files: list[Path] = typer.Argument(..., help="Scenario files (TOML)."),
    strict: bool = typer.Option(False, "--strict", help="Treat warnings as errors (exit code 2)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per file and line (JSON Lines)."),
) -> None:
    """Check scenario files completely (model sections, shocks against the data set) without solving.

    Prints each file's result and its warnings; exit code 0 when every file is valid, 2 when
    any is not.
    """
    failed = 0
    for f in files:
        try:
            run = _prepare(f, strict)
        except UserInputError as exc:
            failed += 1
            if as_json:
                sys.stdout.write(
                    json.dumps({"source": str(f), "valid": False, "errors": str(exc).splitlines()})
                )
                sys.stdout.write("\n")
            else:
                console.print(f"[bold red]invalid[/] {escape(str(f))}", highlight=False)
                for line in str(exc).splitlines():
                    console.print(f"  [bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
            continue
        if as_json:
            report = ValidationReport(
                scenario=run.scenario,
                warnings=run.warnings,
                complete=run.prepared is not None,
                summary=run.summary,
            )
            sys.stdout.write(json.dumps(report.to_document()) + "\n")
            continue
        console.print(f"[bold green]valid[/] {escape(str(f))}  ({escape(_describe(run))})", highlight=False)
        for message in run.warnings:
            console.print(f"  [bold yellow]warning:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if failed:
        if not as_json:
            err_console.print(f"{failed} of {len(files)} files are not valid.", highlight=False)
        raise typer.Exit(2)
