"""``kaifang compare A B ...``: key outcomes per region, side by side, for runs or scenario files."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.table import Table

from kaifang.cli._app import app, console, err_console
from kaifang.errors import UserInputError
from kaifang.results import RunResult

_STORE_HELP = "Results store (DuckDB file; default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb)."


def load_runs(
    items: list[str], store_path: Path | None, *, no_store: bool = False
) -> dict[str, tuple[str | None, RunResult]]:
    """Resolve each item to a run: a scenario file (``*.toml`` or an existing file) is solved
    (and recorded in the store unless ``no_store``); anything else is a run id in the store.

    Returns label -> (run id or ``None``, result), labels unique and in the given order.
    """
    from kaifang.cli.run import solve_with_messages
    from kaifang.scenario import load_scenario
    from kaifang.store import ResultsStore

    if not items:
        raise UserInputError("name at least one run id or scenario file.")
    store = ResultsStore(store_path)
    # validate every scenario file and run id before solving anything
    plan: list[tuple[str, object]] = []
    for item in items:
        p = Path(item)
        if item.endswith(".toml") or p.is_file():
            plan.append(("file", load_scenario(p)))
        else:
            plan.append(("id", store.resolve_id(item)))
    out: dict[str, tuple[str | None, RunResult]] = {}
    for kind, what in plan:
        if kind == "file":
            res = solve_with_messages(what)  # type: ignore[arg-type]
            rid = None if no_store else store.add(res, what)  # type: ignore[arg-type]
            if rid is not None:
                err_console.print(f"{res.scenario}: run id {rid}", style="dim", highlight=False)
        else:
            rid = str(what)
            res = store.get(rid)
        label = rid or res.scenario
        k = 2
        while label in out:
            label = f"{rid or res.scenario}#{k}"
            k += 1
        out[label] = (rid, res)
    return out


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:,.3f}"
    return str(v)


@app.command("compare")
def compare_cmd(
    items: list[str] = typer.Argument(..., help="Run ids (see `kaifang runs list`) or scenario files."),
    outcome: list[str] = typer.Option(
        None, "--outcome", "-o", help="Outcome column to show (repeatable; default: the key outcomes)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the runs and a tidy table."),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record runs of scenario files."),
) -> None:
    """Compare runs side by side: key outcomes (welfare, real wage, trade...) per region per run."""
    from kaifang.report.compare import compare_runs, measure_warning, welfare_label, welfare_measure

    runs = load_runs(items, store, no_store=no_store)
    table = compare_runs({k: v[1] for k, v in runs.items()}, outcome or None)
    outs = [c for c in table.columns if c not in ("region", "run", "scenario", "model")]
    warning = measure_warning({k: v[1] for k, v in runs.items()}) if "welfare_pct" in outs else None
    if as_json:
        doc = {
            "runs": [
                {
                    "label": label,
                    "run_id": rid,
                    "scenario": res.scenario,
                    "model": res.model,
                    "dataset": res.provenance.get("dataset"),
                    "synthetic": res.synthetic,
                    "welfare_measure": welfare_measure(res) or None,
                }
                for label, (rid, res) in runs.items()
            ],
            "outcomes": outs,
            "warnings": [warning] if warning else [],
            "table": [
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in rec.items()}
                for rec in table.to_dict(orient="records")
            ],
        }
        sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
        return
    labels = list(runs)
    names = [runs[k][1].scenario for k in labels]
    short = dict(zip(labels, names if len(set(names)) == len(names) else labels, strict=True))
    wide = table.pivot(index="region", columns="run", values=outs)
    wide = wide.reindex(list(dict.fromkeys(table["region"])))
    t = Table(title="comparison (percent changes)", title_justify="left")
    t.add_column("region")
    for o in outs:
        for lab in labels:
            t.add_column(f"{o}\n{short[lab]}", justify="right")
    for region, row in wide.iterrows():
        t.add_row(str(region), *[_fmt(row.get((o, lab), float("nan"))) for o in outs for lab in labels])
    console.print(t)
    for lab in labels:
        rid, res = runs[lab]
        note = "  [SYNTHETIC DEMO DATA]" if res.synthetic else ""
        measure = welfare_label(res) if "welfare_pct" in outs else ""
        console.print(
            f"{short[lab]}: {res.scenario} — {res.model} on {res.provenance.get('dataset')}"
            f"{'  run ' + rid if rid else ''}{note}{'  welfare_pct: ' + measure if measure else ''}",
            style="dim",
            highlight=False,
        )
    if warning:
        err_console.print(f"warning: {warning}", style="yellow", highlight=False)
