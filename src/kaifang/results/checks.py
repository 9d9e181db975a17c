"""Sanity checks that every result passes before it is shown, saved or stored.

:func:`kaifang.models.run_scenario` applies :func:`check_result` to the result of every model,
so a failed equilibrium never reaches a table. The checks, by the name their error gives:

``converged``
    ``diagnostics["converged"]`` is true.
``residuals``
    ``diagnostics["residual"]`` is present, finite and non-negative: the equilibrium residual
    the solver stopped at is part of every result.
``welfare_bounded``
    Every welfare and real-income change (columns ``welfare_pct``, ``real_income_pct`` and
    their variants such as ``welfare_pct_conditional``, ``welfare_pct_lo``) is above −100 %:
    no region can lose all its real income in an equilibrium.
``finite``
    Every number in every table is finite, except the documented empty cells: rows whose
    ``no_trade`` column is true (the cell is relative to a baseline trade flow that is zero;
    the value is NaN, never ±inf) and the columns that ``diagnostics["not_applicable"]``
    (table -> columns) lists for the run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from kaifang.errors import KaifangError
from kaifang.results._columns import Columns, column, table_columns

if TYPE_CHECKING:
    import pandas as pd

    from kaifang.results._impl import RunResult

__all__ = ["CHECKS", "WELFARE_COLUMNS", "ResultCheckError", "check_result", "flag_no_trade"]

#: The checks, in the order they are applied.
CHECKS = ("converged", "residuals", "welfare_bounded", "finite")
#: Columns (and their ``_suffix`` variants) that measure welfare or real income in percent.
WELFARE_COLUMNS = ("welfare_pct", "real_income_pct")
#: The name of the boolean column flagging rows without baseline trade.
NO_TRADE = "no_trade"


class ResultCheckError(KaifangError, RuntimeError):
    """A result failed a sanity check; nothing of it is shown, saved or stored.

    Attributes
    ----------
    check
        The name of the failed check (one of :data:`CHECKS`).
    """

    def __init__(self, message: str, *, check: str):
        super().__init__(message)
        self.check = check


def flag_no_trade(
    table: pd.DataFrame | Columns,
    no_trade: np.ndarray | pd.Series | Sequence[bool],
    columns: Sequence[str] = (),
) -> pd.DataFrame | Columns:
    """A copy of ``table`` with the boolean ``no_trade`` column set where ``no_trade`` is true.

    An existing ``no_trade`` column is combined with ``|``. In flagged rows, the non-finite
    cells of ``columns`` become NaN (a ratio to a zero flow can come out as ±inf).

    Parameters
    ----------
    table
        The table (one row per entry of ``no_trade``): a DataFrame or :class:`~kaifang.results.Columns`
        (the copy is of the same kind).
    no_trade
        True for the rows whose baseline trade flow is zero.
    columns
        The columns that divide by that flow.
    """
    flag = np.asarray(no_trade, dtype=bool).reshape(-1)
    if flag.shape[0] != len(table):
        raise ValueError(f"no_trade has {flag.shape[0]} entries for a table of {len(table)} rows")
    if NO_TRADE in table_columns(table):
        flag = flag | column(table, NO_TRADE).astype(bool)
    changed: dict[str, np.ndarray] = {NO_TRADE: flag}
    for c in columns:
        vals = np.array(column(table, c), dtype=float)
        vals[flag & ~np.isfinite(vals)] = np.nan
        changed[c] = vals
    if isinstance(table, Columns):
        return table.assign(**changed)
    out = table.copy()
    for c, vals in changed.items():
        out[c] = vals
    return out


def _fail(result: RunResult, check: str, detail: str) -> ResultCheckError:
    return ResultCheckError(
        f"the result of scenario {result.scenario!r} (model {result.model}) fails the sanity check "
        f"{check!r}: {detail}. It is not a valid equilibrium, so nothing was shown, saved or stored; "
        f"make the scenario less extreme or tighten [solver] settings, and report it if the scenario "
        f"is reasonable.",
        check=check,
    )


def _row_label(table: pd.DataFrame | Columns, i: int) -> str:
    names = table_columns(table)
    keys = [c for c in ("region", "importer", "exporter", "partner", "sector", "group") if c in names]
    if not keys:
        return f"row {i}"
    return ", ".join(f"{k} {column(table, k)[i]}" for k in keys)


def _numbers(values: np.ndarray) -> np.ndarray:
    """``values`` as floats; entries that are not numbers become NaN."""
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        out = np.full(len(values), np.nan)
        for k, v in enumerate(values):
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                pass
        return out


def _is_welfare(col: str) -> bool:
    return any(col == w or col.startswith(w + "_") for w in WELFARE_COLUMNS)


def check_result(result: RunResult) -> None:
    """Apply :data:`CHECKS` to ``result``; raise :class:`ResultCheckError` naming the first that fails."""
    d = result.diagnostics
    if d.get("converged") is not True:
        raise _fail(result, "converged", f"diagnostics.converged is {d.get('converged')!r}, not true")
    res: Any = d.get("residual")
    if not isinstance(res, (int, float, np.floating)) or isinstance(res, bool):
        raise _fail(result, "residuals", "diagnostics has no numeric 'residual' (the equilibrium residual)")
    if not math.isfinite(float(res)) or float(res) < 0:
        raise _fail(result, "residuals", f"diagnostics.residual is {res!r}, not a finite non-negative number")
    tables = result.raw_tables()  # DataFrames or Columns, as held (no conversion)
    regions = tables["regions"]
    for col in table_columns(regions):
        if not _is_welfare(col):
            continue
        vals = _numbers(column(regions, col))
        bad = np.flatnonzero(np.isfinite(vals) & (vals <= -100.0))
        if bad.size:
            i = int(bad[0])
            raise _fail(
                result,
                "welfare_bounded",
                f"{col} is {vals[i]:.4g} % for {_row_label(regions, i)}, at or below -100 % (no region "
                f"can lose all its real income)",
            )
    not_applicable = d.get("not_applicable") or {}
    for name, table in tables.items():
        skip = set(not_applicable.get(name, ()))
        names = table_columns(table)
        flag = column(table, NO_TRADE).astype(bool) if NO_TRADE in names else np.zeros(len(table), dtype=bool)
        for col in names:
            if col in skip or col == NO_TRADE:
                continue
            raw = column(table, col)
            if raw.dtype.kind not in "fc":
                continue
            vals = raw.astype(float)
            bad = ~np.isfinite(vals) & ~(flag & np.isnan(vals))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                why = (
                    "a no-trade cell must be empty (NaN), not infinite"
                    if flag[i]
                    else "outcomes must be finite outside the no-trade cells"
                )
                raise _fail(
                    result,
                    "finite",
                    f"table {name!r}, column {col!r} is {vals[i]} for {_row_label(table, i)} "
                    f"({int(bad.sum())} such cells); {why}",
                )
