"""``kaifang estimate FILE``: estimate a gravity equation from a TOML specification."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.table import Table

from kaifang.cli._app import app, console
from kaifang.estimate import load_spec, run_spec
from kaifang.results import package_version


def _jsonable(x: object) -> object:
    """numpy scalars and arrays as plain Python values (for json.dumps)."""
    if hasattr(x, "tolist"):
        return x.tolist()  # type: ignore[union-attr]
    return str(x)


@app.command("estimate")
def estimate_cmd(
    file: Path = typer.Argument(
        ..., help="Estimation specification (TOML), e.g. estimations/agtpa-rta-lags.toml."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the coefficient table and diagnostics as JSON."
    ),
    fixed_effects: Path | None = typer.Option(
        None,
        "--fixed-effects",
        help="Also write the estimated fixed effects to this CSV (dimension, label, value).",
    ),
) -> None:
    """Estimate PPML (or OLS) with high-dimensional fixed effects; print coefficients with clustered SEs."""
    spec = load_spec(file)
    est = run_spec(spec, source=str(file))
    table = est.table()
    if fixed_effects is not None:
        import pandas as pd

        rows = [
            pd.DataFrame({"dimension": k, "label": v.index, "value": v.to_numpy()})
            for k, v in est.fixed_effects.items()
        ]
        (pd.concat(rows) if rows else pd.DataFrame(columns=["dimension", "label", "value"])).to_csv(
            fixed_effects, index=False
        )
    diag = {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in est.diagnostics.items()
    } | {"nobs": est.nobs}
    if as_json:
        doc = {
            "name": spec.name or file.stem,
            "spec": spec.model_dump(),
            "coefficients": table.to_dict(orient="records"),
            "diagnostics": diag,
            "fixed_effects": {k: len(v) for k, v in est.fixed_effects.items()},
            "kaifang_version": package_version(),
        }
        sys.stdout.write(json.dumps(doc, default=_jsonable) + "\n")
        return
    t = Table(
        title=f"{spec.name or file.stem} — {spec.method.upper()} ({diag['engine']})", title_justify="left"
    )
    for c in table.columns:
        t.add_column(c, justify="left" if c == "term" else "right")
    for rec in table.itertuples(index=False):
        t.add_row(*[f"{v:.4f}" if isinstance(v, float) else str(v) for v in rec])
    console.print(t)
    se = (
        "clustered by " + spec.cluster + f" ({diag['se_convention']} convention)"
        if spec.cluster
        else "robust (HC1)"
    )
    console.print(
        f"observations {est.nobs}; dropped: {diag['n_dropped_separation']} separated, {diag['n_dropped_singletons']} "
        f"singletons, {diag['n_dropped_missing']} missing; converged {diag['converged']}; standard errors {se}; "
        f"fixed effects: " + ", ".join(f"{k} ({len(v)})" for k, v in est.fixed_effects.items()),
        style="dim",
    )
