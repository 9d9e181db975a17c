"""``kaifang compare A B ...``: key outcomes per region, side by side, for runs or scenario files."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from kaifang.cli._app import app, console, err_console
from kaifang.cli.run import REGIONS_HELP, SORT_HELP, TOP_HELP

if TYPE_CHECKING:
    from kaifang.results import RunResult

_STORE_HELP = "Results store (DuckDB file; default: $KAIFANG_STORE, else kaifang-results/kaifang.duckdb)."


def load_runs(
    items: list[str], store_path: Path | None, *, no_store: bool = False
) -> dict[str, tuple[str | None, RunResult]]:
    """Resolve each item to a run: a scenario file (``*.toml`` or an existing file) is solved
    (and recorded in the store unless ``no_store``); anything else is a run id in the store.

    Every file and run id is checked, and the store opened, before anything is solved.
    Returns label -> (run id or ``None``, result), labels unique and in the given order.
    """
    from kaifang.cli._files import check_name
    from kaifang.cli.run import print_warnings, solve_with_messages
    from kaifang.cli.validate import prepare_files
    from kaifang.errors import UserInputError
    from kaifang.store import ResultsStore

    if not items:
        raise UserInputError("name at least one run id or scenario file.")
    store = ResultsStore(store_path)
    plan: list[tuple[str, object]] = []
    for item in items:
        p = Path(item)
        if item.endswith(".toml") or p.is_file():
            run = prepare_files([p])[0]  # full validation, no solving
            check_name(run.scenario)
            plan.append(("file", run))
        else:
            plan.append(("id", store.resolve_id(item)))
    if not no_store and any(kind == "file" for kind, _ in plan):
        store.check(write=True)
    out: dict[str, tuple[str | None, RunResult]] = {}
    for kind, what in plan:
        if kind == "file":
            res = solve_with_messages(what)  # type: ignore[arg-type]
            print_warnings(res, stderr=True)
            rid = None if no_store else store.add(res, what.scenario)  # type: ignore[attr-defined]
            if rid is not None:
                err_console.print(f"{res.scenario}: run id {rid}", style="dim", highlight=False, markup=False)
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


def _letters(n: int) -> list[str]:
    """A, B, ..., Z, AA, AB, ... (short run keys for column headers)."""
    out = []
    for i in range(n):
        s, j = "", i + 1
        while j:
            j, rem = divmod(j - 1, 26)
            s = chr(65 + rem) + s
        out.append(s)
    return out


@app.command("compare")
def compare_cmd(
    items: list[str] = typer.Argument(
        ..., metavar="RUN_OR_FILE...", help="Run ids (see `kaifang runs list`) or scenario files."
    ),
    outcome: list[str] = typer.Option(
        None, "--outcome", "-o", help="Outcome column to show (repeatable; default: the key outcomes)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON: the runs and a tidy table."),
    regions: list[str] = typer.Option(None, "--regions", "-r", help=REGIONS_HELP),
    sort: str | None = typer.Option(
        None,
        "--sort",
        help=SORT_HELP + " Sorts by the first run's values; OUTCOME@KEY (e.g. welfare_pct@B) by another's.",
    ),
    top: int | None = typer.Option(None, "--top", help=TOP_HELP),
    store: Path | None = typer.Option(None, "--store", help=_STORE_HELP),
    no_store: bool = typer.Option(False, "--no-store", help="Do not record runs of scenario files."),
) -> None:
    """Compare runs side by side: key outcomes (welfare, real wage, trade...) per region per run.

    Columns are headed OUTCOME and a key (A, B, ...) per run; the legend below the table
    says which run each key stands for, and what its welfare_pct measures.
    """
    import pandas as pd

    from kaifang.cli._format import DisplayColumn, clean, fmt_number, parse_list, print_columns, select_rows
    from kaifang.report.compare import compare_runs, measure_warning, welfare_label, welfare_measure

    runs = load_runs(items, store, no_store=no_store)
    table = compare_runs({k: v[1] for k, v in runs.items()}, parse_list(outcome) or None)
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
    keys = dict(zip(labels, _letters(len(labels)), strict=True))
    wide = table.pivot(index="region", columns="run", values=outs)
    wide = wide.reindex(list(dict.fromkeys(table["region"])))
    flat = pd.DataFrame({"region": [str(r) for r in wide.index]})
    for o in outs:
        for lab in labels:
            flat[f"{o}@{keys[lab]}"] = wide[(o, lab)].to_numpy() if (o, lab) in wide.columns else float("nan")
    if sort is not None and "@" not in sort.lstrip("-").split(":")[0] and labels:
        col, _, order = sort.partition(":")
        sort = f"{col}@{keys[labels[0]]}" + (f":{order}" if order else "")
    flat = select_rows(flat, regions=parse_list(regions), sort=sort, top=top)
    key_col = DisplayColumn("region", tuple(flat["region"]), right=False)
    cols = [
        DisplayColumn(f"{o}\n{keys[lab]}", tuple(fmt_number(v) for v in flat[f"{o}@{keys[lab]}"].tolist()))
        for o in outs
        for lab in labels
    ]
    print_columns(console, key_col, cols, title="comparison (percent changes)")
    for lab in labels:
        rid, res = runs[lab]
        note = "  [SYNTHETIC DEMO DATA]" if res.synthetic else ""
        measure = welfare_label(res) if "welfare_pct" in outs else ""
        console.print(
            clean(
                f"{keys[lab]}: {res.scenario} — {res.model} on {res.provenance.get('dataset')}"
                f"{'  run ' + rid if rid else ''}{note}{'  welfare_pct: ' + measure if measure else ''}"
            ),
            style="dim",
            highlight=False,
            markup=False,
        )
    if warning:
        err_console.print(clean(f"warning: {warning}"), style="yellow", highlight=False, markup=False)
