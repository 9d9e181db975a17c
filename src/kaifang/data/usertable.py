"""Readers of a user's own tables: a world input-output table in long format, and a tariff table.

**Input-output table** (data set ``mrio``; CSV, gzipped CSV or Parquet), one row per flow:

=====================  ================================================================
column                 content
=====================  ================================================================
``origin_region``      the selling region
``origin_sector``      the selling sector
``destination_region`` the buying region
``destination_use``    a sector of the buying region (an intermediate purchase) or a
                       final-demand category (e.g. ``households``, ``government``,
                       ``investment``); or ``gross_output`` / ``value_added`` (then the row
                       gives that total of the origin, and ``destination_region`` is ignored)
``value``              the flow, in one money unit throughout, at basic (producer) prices
=====================  ================================================================

Missing flows are zero. Every region must sell (appear as ``origin_region``) and every sector
must be sold; the final-demand categories are the uses that are not sectors. Gross output and
value added are optional (when given, for every region and sector): gross output defaults to the
row sums, value added to gross output less intermediate inputs, and when given they are checked
against the table.

**Tariff table** (CSV or Parquet): columns ``importer``, ``exporter``, ``sector``, ``rate`` --
the ad-valorem tariff of ``importer`` on goods of ``sector`` from ``exporter``, **in percent**
(``7.5`` is 7.5 %). Pairs not listed have no tariff.

The readers return plain tables (:class:`kaifang.data.mrio.RawMRIO`, a pandas DataFrame);
aligning them with a world is :mod:`kaifang.baseline`'s job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kaifang.data.mrio import RawMRIO, check_memory
from kaifang.data.store import sha256
from kaifang.errors import DataError, suggest

__all__ = ["LONG_COLUMNS", "TARIFF_COLUMNS", "read_long_table", "read_tariff_table", "write_long_table"]

LONG_COLUMNS: tuple[str, ...] = (
    "origin_region",
    "origin_sector",
    "destination_region",
    "destination_use",
    "value",
)
TARIFF_COLUMNS: tuple[str, ...] = ("importer", "exporter", "sector", "rate")
_TOTALS = ("gross_output", "value_added")
_LABELS = LONG_COLUMNS[:4]


def _read(path: Path, columns: tuple[str, ...] | None, what: str) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"{path}: no such file ({what}).")
    name = path.name.lower()
    try:
        if name.endswith((".parquet", ".pq")):
            import pyarrow.parquet as pq

            have = pq.read_schema(path).names
            cols = [c for c in columns if c in have] if columns else None
            return pq.read_table(path, columns=cols).to_pandas()
        if name.endswith((".csv", ".csv.gz", ".txt")):
            return pd.read_csv(path, usecols=(lambda c: c in columns) if columns else None, dtype=object)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: cannot read the file ({type(exc).__name__}: {exc}).") from None
    raise DataError(f"{path}: unknown file type; give a .csv, .csv.gz or .parquet file ({what}).")


def _row(path: Path, k: int) -> str:
    """Where row ``k`` (0-based, data rows) is in the file, for messages."""
    return f"line {k + 2}" if not path.name.lower().endswith((".parquet", ".pq")) else f"row {k + 1}"


def _need_columns(path: Path, df: pd.DataFrame, need: tuple[str, ...], what: str) -> None:
    missing = [c for c in need if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns)) or "none"
        hint = "".join(suggest(m, df.columns) for m in missing[:1])
        raise DataError(
            f"{path}: the {what} lacks the column(s) {', '.join(missing)} (it has: {have}).{hint} "
            f"Expected columns: {', '.join(need)}."
        )


def _labels(path: Path, df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        col = out[c]
        bad = col.isna() | (col.astype(str).str.strip() == "")
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(
                f"{path}: field {c!r} is empty at {_row(path, k)}; every flow needs all its labels."
            )
        out[c] = col.astype(str).str.strip()
    return out


def _numbers(path: Path, col: pd.Series, field: str) -> np.ndarray:
    num = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: field {field!r} has value {col.iloc[k]!r} at {_row(path, k)}; it must be a finite number."
        )
    return num


def read_long_table(
    path: str | Path, *, year: int | None = None, final_demand: list[str] | tuple[str, ...] | None = None
) -> RawMRIO:
    """Read a world input-output table in the long format of the module docstring.

    Parameters
    ----------
    path
        CSV (``.csv``, ``.csv.gz``) or Parquet file.
    year
        The table's year, for provenance.
    final_demand
        The final-demand categories; by default every ``destination_use`` that is not a sector
        (a use that differs from a sector only in case or spaces is refused as a likely typo).

    Raises
    ------
    DataError
        Missing columns, empty labels, non-numeric values, duplicate flows, a buying region that
        never sells, a use that is neither a sector nor a category, incomplete or negative gross
        output, or a table too large for memory (checked from its labels before the values are
        read); each names the file, the field, the row and the value.
    """
    p = Path(path)
    labels = _read(p, _LABELS, "input-output table in long format")
    _need_columns(p, labels, _LABELS, "input-output table")
    labels = _labels(p, labels, _LABELS)
    totals = labels["destination_use"].isin(_TOTALS).to_numpy()
    regions = tuple(dict.fromkeys(labels["origin_region"]))
    sectors = tuple(dict.fromkeys(labels["origin_sector"]))
    flows = labels[~totals]
    dest_regions = set(flows["destination_region"])
    stray = [r for r in dict.fromkeys(flows["destination_region"]) if r not in set(regions)]
    if stray:
        k = int(np.flatnonzero((labels["destination_region"] == stray[0]).to_numpy() & ~totals)[0])
        raise DataError(
            f"{p}: field 'destination_region' has value {stray[0]!r} at {_row(p, k)}, a region that sells "
            f"nothing (it is no origin_region); the rows and columns of the table disagree: every region must "
            f"appear both as a seller and as a buyer.{suggest(stray[0], regions)}"
        )
    silent = [r for r in regions if r not in dest_regions]
    if silent:
        raise DataError(
            f"{p}: region {silent[0]!r} sells but never buys (it is no destination_region); the rows and "
            f"columns of the table disagree: every region must appear both as a seller and as a buyer."
        )
    uses = list(dict.fromkeys(flows["destination_use"]))
    sector_set = set(sectors)
    folded = {s.lower().replace(" ", ""): s for s in sectors}
    if final_demand is not None:
        cats = tuple(str(c) for c in final_demand)
        wrong = [u for u in uses if u not in sector_set and u not in set(cats)]
        if wrong:
            k = int(np.flatnonzero((labels["destination_use"] == wrong[0]).to_numpy())[0])
            raise DataError(
                f"{p}: field 'destination_use' has value {wrong[0]!r} at {_row(p, k)}, neither a sector nor one "
                f"of the final-demand categories ({', '.join(cats)}).{suggest(wrong[0], [*sectors, *cats])}"
            )
    else:
        cats = tuple(u for u in uses if u not in sector_set)
        for c in cats:
            if c.lower().replace(" ", "") in folded:
                k = int(np.flatnonzero((labels["destination_use"] == c).to_numpy())[0])
                raise DataError(
                    f"{p}: field 'destination_use' has value {c!r} at {_row(p, k)}, which differs from the sector "
                    f"{folded[c.lower().replace(' ', '')]!r} only in case or spaces; fix the label (or, if it is "
                    f"meant as a final-demand category, list the categories in [baseline] final_demand)."
                )
    if not cats:
        raise DataError(
            f"{p}: the table has no final demand (every destination_use is a sector); add the final sales of "
            f"each region (e.g. destination_use = 'households')."
        )
    g, n, k_ = len(regions), len(sectors), len(cats)
    check_memory(p, g, n, k_)
    values = _read(p, ("value",), "input-output table in long format")
    _need_columns(p, values, ("value",), "input-output table")
    val = _numbers(p, values["value"], "value")
    key = labels[["origin_region", "origin_sector", "destination_region", "destination_use"]].copy()
    key.loc[totals, "destination_region"] = ""
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)[:2]
        r = key.iloc[rows[0]]
        raise DataError(
            f"{p}: {_row(p, rows[0])} and {_row(p, rows[1])} both give the flow from {r['origin_region']}/"
            f"{r['origin_sector']} to {r['destination_region'] or '-'}/{r['destination_use']}; give each flow once "
            f"(add them up first)."
        )
    ri = {r: i for i, r in enumerate(regions)}
    si = {s: i for i, s in enumerate(sectors)}
    ci = {c: i for i, c in enumerate(cats)}
    orow = labels["origin_region"].map(ri).to_numpy() * n + labels["origin_sector"].map(si).to_numpy()
    Z = np.zeros((g * n, g * n))
    Y = np.zeros((g * n, g * k_))
    use = labels["destination_use"].to_numpy()
    dreg = labels["destination_region"].map(ri).to_numpy()
    is_z = np.array([u in sector_set for u in use]) & ~totals
    is_y = ~is_z & ~totals
    zcol = dreg[is_z].astype(int) * n + np.array([si[u] for u in use[is_z]], dtype=int)
    ycol = dreg[is_y].astype(int) * k_ + np.array([ci[u] for u in use[is_y]], dtype=int)
    Z[orow[is_z], zcol] = val[is_z]
    Y[orow[is_y], ycol] = val[is_y]
    neg = np.flatnonzero(is_z & (val < 0))
    if neg.size:
        kk = int(neg[0])
        raise DataError(
            f"{p}: field 'value' is {val[kk]:.6g} at {_row(p, kk)}, a negative intermediate flow "
            f"({labels['origin_region'].iloc[kk]}/{labels['origin_sector'].iloc[kk]} to "
            f"{labels['destination_region'].iloc[kk]}/{use[kk]}); intermediate flows must be non-negative "
            f"(negative final demand, e.g. a fall in inventories, is allowed)."
        )
    out: dict[str, np.ndarray | None] = {}
    for name in _TOTALS:
        sel = np.flatnonzero(totals & (use == name))
        if not sel.size:
            out[name] = None
            continue
        arr = np.full(g * n, np.nan)
        arr[orow[sel]] = val[sel]
        if np.isnan(arr).any():
            q = int(np.flatnonzero(np.isnan(arr))[0])
            raise DataError(
                f"{p}: {name} is missing for {regions[q // n]}/{sectors[q % n]} (it is given for other region and "
                f"sector pairs); give it for every pair or for none."
            )
        if name == "gross_output" and (arr < 0).any():
            q = int(np.argmin(arr))
            kk = int(sel[np.flatnonzero(orow[sel] == q)[0]])
            raise DataError(
                f"{p}: field 'value' of gross_output for {regions[q // n]}/{sectors[q % n]} is {arr[q]:.6g} at "
                f"{_row(p, kk)}; gross output must be non-negative."
            )
        out[name] = arr
    return RawMRIO(
        dataset="mrio",
        year=year,
        regions=regions,
        sectors=sectors,
        fd_categories=cats,
        Z=Z,
        Y=Y,
        x=out["gross_output"],
        value_added=out["value_added"],
        units="as in the file",
        rounding=0.0,
        files={p.name: sha256(p)},
        notes=(f"user's input-output table {p.name} (long format, {len(val)} rows)",),
    )


def write_long_table(
    path: str | Path,
    Z: np.ndarray,
    Y: np.ndarray,
    *,
    regions: list[str] | tuple[str, ...],
    sectors: list[str] | tuple[str, ...],
    fd_categories: list[str] | tuple[str, ...],
    x: np.ndarray | None = None,
    value_added: np.ndarray | None = None,
    drop_zeros: bool = True,
) -> Path:
    """Write arrays in the long format (the inverse of :func:`read_long_table`).

    ``Z`` is ``(G N, G N)`` and ``Y`` ``(G N, G K)``, rows and columns region first, then sector
    (category); ``x`` and ``value_added`` are written as ``gross_output`` and ``value_added`` rows.
    """
    orig = [(r, s) for r in regions for s in sectors]
    zc = [(r, s) for r in regions for s in sectors]
    yc = [(r, c) for r in regions for c in fd_categories]
    recs = []
    Z, Y = np.asarray(Z, dtype=float), np.asarray(Y, dtype=float)
    for a, (ro, so) in enumerate(orig):
        for b, (rd, u) in enumerate(zc):
            if not drop_zeros or Z[a, b] != 0:
                recs.append((ro, so, rd, u, Z[a, b]))
        for b, (rd, u) in enumerate(yc):
            if not drop_zeros or Y[a, b] != 0:
                recs.append((ro, so, rd, u, Y[a, b]))
        for name, arr in (("gross_output", x), ("value_added", value_added)):
            if arr is not None:
                recs.append((ro, so, ro, name, float(np.asarray(arr)[a])))
    df = pd.DataFrame(recs, columns=list(LONG_COLUMNS))
    p = Path(path)
    if p.name.lower().endswith((".parquet", ".pq")):
        df.to_parquet(p, index=False)
    else:
        df.to_csv(p, index=False)
    return p


def read_tariff_table(path: str | Path) -> pd.DataFrame:
    """Read a tariff table (``importer``, ``exporter``, ``sector``, ``rate`` in percent).

    Returns
    -------
    pandas.DataFrame
        The four columns (labels as strings, ``rate`` as float, percent) and ``line`` (where each
        row is in the file, for messages).

    Raises
    ------
    DataError
        Missing columns, empty labels, a non-numeric rate or one at or below -100 %, or a pair
        and sector given twice; each naming the file, field, row and value.
    """
    p = Path(path)
    df = _read(p, TARIFF_COLUMNS, "tariff table")
    _need_columns(p, df, TARIFF_COLUMNS, "tariff table")
    df = _labels(p, df, TARIFF_COLUMNS[:3])
    rate = _numbers(p, df["rate"], "rate")
    bad = rate <= -100.0
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{p}: field 'rate' is {rate[k]:g} at {_row(p, k)}; tariffs are in percent and must be above -100."
        )
    dup = df.duplicated(subset=list(TARIFF_COLUMNS[:3]), keep=False).to_numpy()
    if dup.any():
        a, b = np.flatnonzero(dup)[:2]
        raise DataError(
            f"{p}: {_row(p, a)} and {_row(p, b)} both give the tariff of {df['importer'].iloc[a]} on "
            f"{df['exporter'].iloc[a]} in {df['sector'].iloc[a]}; give each once."
        )
    out = df[list(TARIFF_COLUMNS[:3])].copy()
    out["rate"] = rate
    out["line"] = [_row(p, k) for k in range(len(df))]
    return out
