"""``kaifang estimate FILE``: estimate a gravity equation from a TOML specification.

The estimation libraries (pandas, numba, the engine) are imported when the command runs, not
when the command line starts. Progress goes to stderr: on a terminal as a status line; in a
pipe or log only the notice that the engine's kernels are being compiled (a machine's first
run, which takes seconds), so that a silent pause is never left unexplained.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from kaifang.cli._app import app, console, err_console


def _jsonable(x: object) -> object:
    """numpy scalars and arrays as plain Python values (for json.dumps)."""
    if hasattr(x, "tolist"):
        return x.tolist()  # type: ignore[union-attr]
    return str(x)


@contextmanager
def _progress(name: str) -> Iterator[Callable[[str], None]]:
    """A progress callback: a status line on a terminal, else only the compile notice."""
    from kaifang.estimate._compile import MESSAGE

    if err_console.is_terminal:
        with err_console.status(f"[bold]{name}[/]: starting", spinner="dots") as status:
            yield lambda message: status.update(f"[bold]{name}[/]: {message}")
        return

    def plain(message: str) -> None:
        if message == MESSAGE:
            err_console.print(f"{name}: {message}", style="dim", highlight=False, soft_wrap=True)

    yield plain


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
    from kaifang.estimate import load_spec, run_spec

    spec = load_spec(file)
    with _progress(spec.name or file.stem) as progress:
        est = run_spec(spec, source=str(file), progress=progress)
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
        from kaifang.results import package_version

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
    from rich.table import Table

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
