"""Everything the command line prints as a table or a number: one home for the formatting.

Rules:

- Numbers are never cut. A table wider than the terminal is split into several tables, each
  repeating the label column; headers wrap at underscores instead of being shortened.
- ``x_lo``/``x_hi`` interval columns are shown with their column: ``x [lo, hi]``.
- Missing values print as ``—``.
- Names and labels are shown with control characters escaped (``\\x1b``), so a name can
  neither move the cursor nor hide text; Rich markup in them is shown literally.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from kaifang.results import RunResult

__all__ = [
    "SUMMARY_TABLES",
    "clean",
    "fmt_number",
    "fmt_seconds",
    "fmt_sig",
    "format_diagnostics",
    "parse_list",
    "print_columns",
    "print_frame",
    "print_result",
    "select_rows",
]

#: Small summary tables a model may add to its results (e.g. the 2025 tariff model's
#: ``averages``); printed after the per-region table.
SUMMARY_TABLES = ("averages", "summary", "totals")
#: Outcome columns shown by default (the first ones of the table; ``--columns all`` for all).
DEFAULT_MAX_COLUMNS = 8
#: Columns whose values are region labels (``--regions`` filters on them).
REGION_COLUMNS = ("region", "importer", "exporter", "partner")
_BIDI = {"\u200e", "\u200f", "\u061c", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))}


# -- text ----------------------------------------------------------------------------------
def clean(text: object, *, keep_newlines: bool = False) -> str:
    """``text`` with control characters (C0, C1, DEL) and bidirectional overrides escaped as
    ``\\xNN``/``\\uNNNN``. ``keep_newlines`` keeps line breaks and tabs (for messages)."""
    s = str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if keep_newlines and ch in "\n\t":
            out.append(ch)
        elif ch in _BIDI or unicodedata.category(ch) == "Cc":
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def parse_list(values: Iterable[str] | None) -> list[str]:
    """Option values given repeatedly and/or comma-separated, in order, without blanks."""
    out: list[str] = []
    for v in values or ():
        out.extend(p.strip() for p in v.split(",") if p.strip())
    return out


# -- numbers -------------------------------------------------------------------------------
def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(v)) if not isinstance(v, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def fmt_number(v: Any, decimals: int = 3) -> str:
    """A table cell: floats with ``decimals`` decimals and thousands separators, integers as
    they are, booleans yes/no, missing values ``—``, anything else as (escaped) text."""
    if _is_missing(v):
        return "—"
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return "yes" if v else "no"
    if isinstance(v, int) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") in "iu"):
        return f"{int(v):,}"
    if isinstance(v, float) or (hasattr(v, "dtype") and getattr(v.dtype, "kind", "") == "f"):
        f = float(v)
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        s = f"{f:,.{decimals}f}"
        return s[1:] if s.startswith("-") and not s.strip("-0.,") else s  # no "-0.000"
    return clean(v)


def fmt_sig(v: Any, digits: int = 3) -> str:
    """A number with ``digits`` significant digits (residuals, errors)."""
    if _is_missing(v):
        return "—"
    return f"{float(v):.{digits}g}"


def fmt_seconds(v: Any) -> str:
    """Seconds with two decimals, e.g. ``0.07 s``."""
    if _is_missing(v):
        return "—"
    return f"{float(v):.2f} s"


def format_diagnostics(d: Mapping[str, Any]) -> str:
    """One line of the solver diagnostics that matter: convergence, iterations, residuals
    (3 significant digits), seconds (2 decimals). Nested entries are left to ``--json``."""
    bits: list[str] = []
    if "converged" in d:
        bits.append("converged" if d["converged"] else "NOT converged")
    if isinstance(d.get("iterations"), (int, float)):
        bits.append(f"{int(d['iterations'])} iterations")
    for k, v in d.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if "residual" in k or k.endswith("_error"):
            bits.append(f"{k.replace('_', ' ')} {fmt_sig(v)}")
    for k, v in d.items():
        if k.endswith("seconds") and isinstance(v, (int, float)) and not isinstance(v, bool):
            label = "solve" if k == "solve_seconds" else k.removesuffix("_seconds").replace("_", " ")
            bits.append(f"{label} {fmt_seconds(v)}")
    return ", ".join(bits)


# -- table layout --------------------------------------------------------------------------
@dataclass(frozen=True)
class DisplayColumn:
    """One column as printed: its header and its cells (already formatted)."""

    header: str
    cells: tuple[str, ...]
    right: bool = True

    @property
    def cell_width(self) -> int:
        return max((len(c) for c in self.cells), default=1)


# a header breaks after an underscore or before an interval's " [lo, hi]"
_HEADER_BREAK = re.compile(r"(?<=_)|(?= \[)")


def _wrap_header(header: str, width: int) -> list[str]:
    """Split ``header`` at its line breaks, then at underscores (and before ``[lo, hi]``)
    into lines of at most ``width`` characters where its words allow."""
    lines: list[str] = []
    for part in header.split("\n"):
        cur = ""
        for p in re.split(_HEADER_BREAK, part):
            if cur and len(cur) + len(p) > width:
                lines.append(cur.rstrip(" "))
                cur = p.lstrip(" ")
            else:
                cur += p
        lines.append(cur)
    return lines or [""]


def _layout(col: DisplayColumn, *, wrap: bool = True) -> tuple[int, list[str]]:
    """Width of a column and its header lines. Unwrapped: as wide as its widest cell or
    header line. Wrapped: as wide as its widest cell or the first 12 characters of its header
    (at least 7), longer headers broken at underscores."""
    parts = col.header.split("\n")
    longest_line = max(len(x) for x in parts)
    if not wrap:
        return max(col.cell_width, longest_line, 1), parts
    longest_word = max((len(p) for x in parts for p in re.split(_HEADER_BREAK, x)), default=1)
    width = max(col.cell_width, min(longest_line, 12), min(longest_word, 16), 7 if col.right else 1)
    lines = _wrap_header(col.header, width)
    return max(width, *(len(x) for x in lines)), lines


def print_columns(
    console: Console,
    key: DisplayColumn,
    columns: Sequence[DisplayColumn],
    *,
    title: str = "",
    caption: str | None = None,
) -> None:
    """Print ``key`` and ``columns`` as one table, or as several tables (each repeating the
    key column) when they do not fit the console's width. Nothing is cut."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    width = console.width
    key_w, key_lines = _layout(key, wrap=False)
    laid = [(_layout(c, wrap=False), c) for c in columns]
    if 1 + key_w + 3 + sum(w + 3 for (w, _), _ in laid) > width:  # too wide: wrap the headers
        key_w, key_lines = _layout(key)
        laid = [(_layout(c), c) for c in columns]
    groups: list[list[tuple[tuple[int, list[str]], DisplayColumn]]] = []
    used = 1 + key_w + 3
    for item in laid:
        w = item[0][0] + 3
        if groups and used + w <= width:
            groups[-1].append(item)
            used += w
        else:
            groups.append([item])
            used = 1 + key_w + 3 + w
    if not groups:
        groups = [[]]
    for i, group in enumerate(groups):
        if title:
            part = f" ({i + 1}/{len(groups)})" if len(groups) > 1 else ""
            console.print(Text(clean(title) + part, style="italic"), soft_wrap=True)
        t = Table(
            box=box.HEAVY_HEAD,
            caption=Text(caption) if caption and i == len(groups) - 1 else None,
            caption_justify="left",
        )
        t.add_column(Text("\n".join(key_lines)), no_wrap=True, min_width=key_w, justify="left")
        for (w, lines), c in group:
            t.add_column(
                Text("\n".join(lines)), no_wrap=True, min_width=w, justify="right" if c.right else "left"
            )
        cols = [key, *(c for _, c in group)]
        for r in range(len(key.cells)):
            t.add_row(*(Text(c.cells[r]) for c in cols))
        console.print(t)


def _is_numeric(series: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series)) and not pd.api.types.is_bool_dtype(series)


def display_columns(df: pd.DataFrame, names: Sequence[str]) -> list[DisplayColumn]:
    """The printed form of ``df[names]``: interval columns ``x_lo``/``x_hi`` folded into
    their column ``x`` as ``x [lo, hi]``; missing values of rows flagged ``no_trade`` print
    as ``no trade``."""
    flags = df["no_trade"].tolist() if "no_trade" in df.columns else [False] * len(df)

    def cell(v: Any, flag: Any) -> str:
        return "no trade" if flag is True and _is_missing(v) else fmt_number(v)

    out = []
    for name in names:
        s = df[name]
        lo, hi = f"{name}_lo", f"{name}_hi"
        numeric = _is_numeric(s)
        if lo in df.columns and hi in df.columns:
            cells = tuple(
                cell(v, f) if _is_missing(v) else f"{fmt_number(v)} [{fmt_number(a)}, {fmt_number(b)}]"
                for v, a, b, f in zip(s.tolist(), df[lo].tolist(), df[hi].tolist(), flags, strict=True)
            )
            out.append(DisplayColumn(f"{name} [{lo.rsplit('_', 1)[1]}, {hi.rsplit('_', 1)[1]}]", cells))
        else:
            cells = tuple(cell(v, f) for v, f in zip(s.tolist(), flags, strict=True))
            out.append(DisplayColumn(str(name), cells, right=numeric))
    return out


def base_columns(df: pd.DataFrame) -> list[str]:
    """Columns of ``df`` as the user thinks of them: ``x_lo``/``x_hi`` belong to ``x``; the
    ``no_trade`` flag shows in the cells it explains, not as a column."""
    cols = [str(c) for c in df.columns if c != "no_trade"]
    present = set(cols)
    return [c for c in cols if not ((c.endswith("_lo") or c.endswith("_hi")) and c[:-3] in present)]


def key_column(df: pd.DataFrame) -> str:
    """The label column of a table: ``region`` (or another label column), else the first."""
    for c in (*REGION_COLUMNS, "group", "sector", "term", "name"):
        if c in df.columns:
            return c
    return str(df.columns[0])


def print_frame(
    console: Console,
    df: pd.DataFrame,
    *,
    title: str,
    columns: Sequence[str] | None = None,
    max_columns: int | None = DEFAULT_MAX_COLUMNS,
    caption: str | None = None,
) -> list[str]:
    """Print ``df`` (label column first, then ``columns`` or the first ``max_columns`` others);
    return the names of the columns left out."""
    key = key_column(df)
    others = [c for c in base_columns(df) if c != key]
    if columns is not None:
        shown = [c for c in others if c in columns]
        shown.sort(key=list(columns).index)
    elif max_columns is not None:
        shown = others[:max_columns]
    else:
        shown = others
    hidden = [c for c in others if c not in shown]
    key_col = DisplayColumn(key, tuple(fmt_number(v) for v in df[key].tolist()), right=False)
    print_columns(console, key_col, display_columns(df, shown), title=title, caption=caption)
    return hidden


# -- row selection -------------------------------------------------------------------------
def _resolve_regions(tokens: Sequence[str], labels: Sequence[str], option: str) -> list[str]:
    """Region labels for ``tokens``: labels of the table (any case) or built-in country
    groups (their members that are in the table), in the order given."""
    from kaifang.errors import UserInputError, suggest

    by_upper = {str(lab).upper(): str(lab) for lab in labels}
    out: list[str] = []
    for tok in tokens:
        hit = by_upper.get(tok.upper())
        if hit is not None:
            out.append(hit)
            continue
        members: list[str] | None = None
        try:
            from kaifang.scenario.groups import group_members

            members = list(group_members(tok, source="command line", field=option))
        except (ImportError, ValueError):
            members = None
        if members:
            out.extend(by_upper[m] for m in members if m in by_upper)
            continue
        raise UserInputError(
            f"{option} {clean(tok)!r}: not a region of this table nor a built-in country group "
            f"(`kaifang groups list`).{suggest(tok, list(by_upper))} Regions: "
            f"{', '.join(list(by_upper.values())[:12])}{', ...' if len(by_upper) > 12 else ''}."
        )
    return list(dict.fromkeys(out))


def parse_sort(sort: str, columns: Sequence[str], option: str = "--sort") -> tuple[str, bool]:
    """``COLUMN`` (ascending), ``-COLUMN`` or ``COLUMN:desc`` (descending), ``COLUMN:asc``;
    returns (column, ascending)."""
    from kaifang.errors import UserInputError, suggest

    col, ascending = sort.strip(), True
    if col.startswith("-"):
        col, ascending = col[1:], False
    elif ":" in col:
        col, _, order = col.rpartition(":")
        if order.lower() not in ("asc", "desc"):
            raise UserInputError(
                f"{option} {clean(sort)!r}: the order after ':' must be asc or desc (e.g. {col}:desc)."
            )
        ascending = order.lower() == "asc"
    if col not in columns:
        raise UserInputError(
            f"{option} {clean(sort)!r}: no column {clean(col)!r}.{suggest(col, list(columns))} "
            f"Columns: {', '.join(columns)}."
        )
    return col, ascending


def select_rows(
    df: pd.DataFrame,
    *,
    regions: Sequence[str] | None = None,
    sort: str | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Rows of ``df`` for the command-line options ``--regions`` (codes or built-in groups;
    a row is kept when any of its region columns is one of them), ``--sort`` and ``--top N``
    (the first N rows after sorting; without ``--sort``, the N largest of the first numeric
    column)."""
    from kaifang.errors import UserInputError

    out = df
    if regions:
        cols = [c for c in REGION_COLUMNS if c in df.columns] or [key_column(df)]
        labels = list(dict.fromkeys(str(x) for c in cols for x in df[c].tolist()))
        wanted = set(_resolve_regions(regions, labels, "--regions"))
        mask = None
        for c in cols:
            m = df[c].astype(str).isin(wanted)
            mask = m if mask is None else (mask | m)
        out = out[mask]
    if top is not None and top < 1:
        raise UserInputError(f"--top {top}: give a positive number of rows.")
    if sort is not None or top is not None:
        if sort is not None:
            col, ascending = parse_sort(sort, [str(c) for c in df.columns])
        else:
            numeric = [c for c in base_columns(df) if _is_numeric(df[c])]
            if not numeric:
                col, ascending = key_column(df), True
            else:
                col, ascending = numeric[0], False
        out = out.sort_values(col, ascending=ascending, kind="stable", na_position="last")
    if top is not None:
        out = out.head(top)
    return out.reset_index(drop=True)


# -- a whole result ------------------------------------------------------------------------
def check_columns(
    df: pd.DataFrame, columns: Sequence[str] | None, option: str = "--columns"
) -> list[str] | None:
    """The columns asked for with ``--columns`` (``all`` for every one); error on unknown."""
    from kaifang.errors import UserInputError, suggest

    if not columns:
        return None
    if [c.lower() for c in columns] == ["all"]:
        return [c for c in base_columns(df)]
    avail = base_columns(df)
    for c in columns:
        if c not in avail:
            raise UserInputError(
                f"{option} {clean(c)!r}: no such column.{suggest(c, avail)} Columns: {', '.join(avail)} "
                f"(or 'all')."
            )
    return list(columns)


def print_result(
    console: Console,
    result: RunResult,
    *,
    table: str | None = None,
    regions: Sequence[str] | None = None,
    sort: str | None = None,
    top: int | None = None,
    columns: Sequence[str] | None = None,
) -> None:
    """Print a run: its per-region table (or the extra table ``table``), then any summary
    tables (:data:`SUMMARY_TABLES`), the diagnostics and the columns left out."""
    from kaifang.errors import UserInputError, suggest

    names = ["regions", *result.tables]
    if table is not None and table not in names:
        raise UserInputError(
            f"--table {clean(table)!r}: this run has no such table.{suggest(table, names)} "
            f"Tables: {', '.join(names)}."
        )
    name = table or "regions"
    df = result.regions if name == "regions" else result.tables[name]
    wanted = check_columns(df, columns)
    n_all = len(df)
    df = select_rows(df, regions=regions, sort=sort, top=top)
    title = f"{result.scenario} — {result.model}" + ("" if name == "regions" else f" — {name}")
    if result.synthetic:
        title += "  [SYNTHETIC DEMO DATA]"
    caption = f"{len(df)} of {n_all} rows" if len(df) != n_all else None
    hidden = print_frame(console, df, title=title, columns=wanted, caption=caption)
    if table is None:
        for extra in SUMMARY_TABLES:
            if extra in result.tables:
                print_frame(console, result.tables[extra], title=f"{extra}", max_columns=None)
    line = format_diagnostics(result.diagnostics)
    if line:
        console.print(f"diagnostics: {line}", style="dim", highlight=False, markup=False)
    tariffs = str(result.provenance.get("baseline_tariffs", ""))
    if tariffs.startswith("zero"):  # an input-output table: say it with every table
        console.print(f"baseline tariffs: {clean(tariffs)}", style="dim", highlight=False, markup=False)
    if hidden:
        console.print(
            f"not shown: {', '.join(hidden)} (--columns all, or --columns NAME,...; every column "
            "is in the saved results and in --json).",
            style="dim",
            highlight=False,
            markup=False,
        )
