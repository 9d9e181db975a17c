"""Labelled forms of a run's results: an :class:`xarray.Dataset` and a short text summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr

    from kaifang.results._impl import RunResult


def label_columns(df: pd.DataFrame) -> list[str]:
    """The columns that label a table's rows: every column that is neither numeric nor boolean."""
    return [
        c
        for c in df.columns
        if not (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))
    ]


def table_to_dataset(df: pd.DataFrame, prefix: str = "") -> xr.Dataset:
    """One tidy table as a Dataset: its label columns become dimensions (labels in order of first
    appearance), every other column a variable named ``prefix + column``. Label combinations the
    table lacks are NaN (booleans with gaps become floats 1/0/NaN)."""
    import xarray as xr

    dims = label_columns(df)
    if not dims:
        raise ValueError("a table without label columns has no dimensions")
    if df.duplicated(dims).any():
        raise ValueError(f"the labels {dims} do not identify the rows")
    levels = [pd.unique(df[d].astype(str)) for d in dims]
    full = (
        pd.Index(levels[0], name=dims[0])
        if len(dims) == 1
        else pd.MultiIndex.from_product(levels, names=dims)
    )
    keyed = df.assign(**{d: df[d].astype(str) for d in dims}).set_index(dims)
    complete = len(keyed) == len(full)
    keyed = keyed.reindex(full)
    shape = tuple(len(v) for v in levels)
    data_vars = {}
    for col in keyed.columns:
        values = keyed[col]
        if pd.api.types.is_bool_dtype(df[col]) and complete:
            arr = values.to_numpy(dtype=bool)
        else:
            arr = values.to_numpy(dtype=float)
        data_vars[prefix + col] = (
            dims,
            arr.reshape(shape),
            {"table": prefix.rstrip("_") or "regions", "column": col},
        )
    return xr.Dataset(data_vars, coords={d: list(v) for d, v in zip(dims, levels, strict=True)})


def to_xarray(result: RunResult, tables: Sequence[str] | None = None) -> xr.Dataset:
    """See :meth:`kaifang.results.RunResult.to_xarray`."""
    import xarray as xr

    names = ["regions", *result.tables] if tables is None else list(tables)
    unknown = [n for n in names if n != "regions" and n not in result.tables]
    if unknown:
        raise KeyError(
            f"the run has no table {unknown[0]!r}; its tables: {', '.join(['regions', *result.tables])}."
        )
    parts: list[xr.Dataset] = []
    left_out: list[str] = []
    for name in names:
        df = result.regions if name == "regions" else result.tables[name]
        try:
            parts.append(table_to_dataset(df, "" if name == "regions" else f"{name}_"))
        except ValueError:
            left_out.append(name)
    order: dict[str, list[str]] = {}
    for part in parts:
        for dim in part.dims:
            seen = order.setdefault(str(dim), [])
            seen += [v for v in part[dim].values.tolist() if v not in seen]
    ds = (
        xr.merge(parts, join="outer", compat="no_conflicts", combine_attrs="override")
        if parts
        else xr.Dataset()
    )
    ds = ds.reindex({d: v for d, v in order.items()})
    prov, diag = result.provenance, result.diagnostics
    ds.attrs = {
        "scenario": result.scenario,
        "model": result.model,
        "dataset": str(prov.get("dataset", "")),
        "welfare_measure": str(diag.get("welfare_measure", "")),
        "synthetic": int(bool(result.synthetic)),
        "kaifang_version": str(prov.get("kaifang_version", "")),
    }
    if left_out:
        ds.attrs["tables_left_out"] = ", ".join(left_out)
    return ds


def headline_column(regions: pd.DataFrame) -> str | None:
    """``welfare_pct`` when present, else the shortest numeric column naming welfare."""
    if "welfare_pct" in regions.columns:
        return "welfare_pct"
    cands = [c for c in regions.columns if "welfare" in c and pd.api.types.is_numeric_dtype(regions[c])]
    return min(cands, key=len) if cands else None


def _fmt_pct(v: float) -> str:
    return f"{v:+.3f} %"


def summary(result: RunResult) -> str:
    """See :meth:`kaifang.results.RunResult.summary`."""
    prov, diag = result.provenance, result.diagnostics
    regions = result.regions
    dataset = prov.get("dataset", "?")
    lines = [f"{result.scenario}: model {result.model}, data {dataset} ({len(regions)} regions)"]
    if result.synthetic:
        lines.append("SYNTHETIC demo data: illustrative only, not real economies.")
    conv = diag.get("converged")
    bits = ["converged" if conv else "NOT converged" if conv is not None else "convergence not reported"]
    if diag.get("iterations") is not None:
        bits.append(f"{diag['iterations']} iterations")
    if isinstance(diag.get("residual"), (int, float)):
        bits.append(f"residual {diag['residual']:.3g}")
    if isinstance(diag.get("solve_seconds"), (int, float)):
        bits.append(f"{diag['solve_seconds']:.2f} s")
    lines.append("Solver: " + ", ".join(bits))
    col = headline_column(regions)
    if col is not None and "region" in regions.columns:
        vals = pd.to_numeric(regions[col], errors="coerce")
        if vals.notna().any():
            hi, lo = int(vals.idxmax()), int(vals.idxmin())
            lines.append(
                f"{col}: largest gain {regions.at[hi, 'region']} {_fmt_pct(vals[hi])}, "
                f"largest loss {regions.at[lo, 'region']} {_fmt_pct(vals[lo])}"
                + _interval(regions, col, hi, lo)
            )
    measure: Any = diag.get("welfare_measure")
    if isinstance(measure, str) and measure:
        lines.append(f"Welfare measure: {measure.split('; ')[0]}")
    if result.warnings:
        lines.append(f"Warnings ({len(result.warnings)}):")
        lines += [f"  - {w}" for w in result.warnings]
    else:
        lines.append("Warnings: none")
    return "\n".join(lines)


def _interval(regions: pd.DataFrame, col: str, hi: int, lo: int) -> str:
    lo_c, hi_c = f"{col}_lo", f"{col}_hi"
    if lo_c not in regions.columns or hi_c not in regions.columns:
        return ""
    a, b = regions.at[hi, lo_c], regions.at[hi, hi_c]
    c, d = regions.at[lo, lo_c], regions.at[lo, hi_c]
    if not all(np.isfinite([a, b, c, d])):
        return ""
    return f" (intervals [{a:+.3f}, {b:+.3f}] and [{c:+.3f}, {d:+.3f}])"
