"""``kaifang new`` (a commented scenario template) and ``kaifang schema`` (its JSON Schema)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from kaifang.cli._app import app, err_console
from kaifang.errors import UserInputError


@app.command("new")
def new_cmd(
    model: str = typer.Option("caliendo_parro", "--model", help="caliendo_parro | gravity | ims2025."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Data set (default: the model's first: cp2015, agtpa, liberation2025)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write to this file (never overwritten); default: stdout."
    ),
) -> None:
    """Write a commented scenario template for a model and data set.

    The template validates as it is (`kaifang validate`); edit its shocks and settings.
    Example: kaifang new --model caliendo_parro --dataset cp2015 --out my.toml
    """
    from kaifang.models.authoring import scenario_template

    text = scenario_template(model, dataset)
    if out is None:
        sys.stdout.write(text)
        return
    if out.exists():
        raise UserInputError(
            f"--out {str(out)!r} already exists; kaifang new never overwrites a file. Choose another name."
        )
    if not out.parent.is_dir():
        raise UserInputError(f"--out {str(out)!r}: folder {str(out.parent)!r} does not exist.")
    with open(out, "x", encoding="utf-8") as fh:  # "x": fails rather than overwrite a file made meanwhile
        fh.write(text)
    err_console.print(f"wrote {out} (check it with: kaifang validate {out})", highlight=False)


@app.command("schema")
def schema_cmd(
    out: Path | None = typer.Option(
        None, "--out", help="Write to this file (never overwritten); default: stdout."
    ),
) -> None:
    """Print the JSON Schema (draft 4) of scenario files, for editors (VS Code, taplo).

    Example: kaifang schema > scenario.schema.json, then put '#:schema ./scenario.schema.json'
    on the first line of a scenario file (docs/scenarios.md, "Editor support").
    """
    from kaifang.models.authoring import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    if out.exists():
        raise UserInputError(f"--out {str(out)!r} already exists; choose another name or remove it first.")
    with open(out, "x", encoding="utf-8") as fh:
        fh.write(text)
