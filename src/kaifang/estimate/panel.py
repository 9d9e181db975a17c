"""Gravity data tools: validate, square and balance a panel, pair ids, border dummies, lags.

Each function takes a tidy table (one row per exporter, importer and year) and returns a new
table; nothing is changed in place. Column names default to ``exporter``, ``importer``,
``year`` and ``trade``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kaifang.errors import DataError
from kaifang.estimate._ppml import check_columns

__all__ = [
    "add_border_year_dummies",
    "add_lags",
    "add_pair_id",
    "filter_years",
    "keep_domestic",
    "square_panel",
    "validate_panel",
]


def validate_panel(
    data: pd.DataFrame,
    *,
    trade: str = "trade",
    exporter: str = "exporter",
    importer: str = "importer",
    year: str | None = "year",
    source: str = "data",
) -> None:
    """Check a trade panel: columns present, trade numeric and >= 0, no duplicate pair-years.

    Raises
    ------
    DataError
        Naming the column, the row and the value at fault.
    """
    keys = [exporter, importer] + ([year] if year else [])
    check_columns(data, [*keys, trade], what="the panel", source=source)
    t = data[trade]
    if not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t):
        num = pd.to_numeric(t, errors="coerce")
        bad = t[num.isna() & t.notna()]
        raise DataError(
            f"{source}: column {trade!r} must be numeric; found {bad.iloc[0]!r} at row {bad.index[0]!r}. "
            f"Fix or drop the non-numeric values."
        )
    neg = t < 0
    if neg.any():
        r = t[neg].index[0]
        raise DataError(
            f"{source}: column {trade!r} has {int(neg.sum())} negative value(s), e.g. {t[r]} at row {r!r} "
            f"({', '.join(f'{k}={data.at[r, k]}' for k in keys)}); trade flows must be >= 0."
        )
    dup = data.duplicated(keys, keep=False)
    if dup.any():
        first = data.loc[dup, keys].iloc[0]
        raise DataError(
            f"{source}: {int(dup.sum())} rows share the same {'/'.join(keys)} (e.g. "
            f"{', '.join(f'{k}={first[k]}' for k in keys)}); each pair-year must appear once. "
            f"Aggregate or drop the duplicates."
        )


def filter_years(data: pd.DataFrame, years: Sequence[int], *, year: str = "year") -> pd.DataFrame:
    """Keep the rows of ``years`` (error naming the years the data lacks)."""
    have = set(data[year].unique().tolist())
    missing = [y for y in years if y not in have]
    if missing:
        raise DataError(
            f"years {missing} are not in the data; it has {sorted(int(v) for v in have)}."
        )
    return data[data[year].isin(list(years))].copy()


def square_panel(
    data: pd.DataFrame,
    *,
    trade: str = "trade",
    exporter: str = "exporter",
    importer: str = "importer",
    year: str | None = "year",
    fill: float = 0.0,
) -> pd.DataFrame:
    """Square and balance: every exporter x importer (x year) of the countries present.

    Missing combinations get ``trade = fill`` (zero by default); other columns are missing
    there. Countries are the union of exporters and importers.
    """
    countries = sorted(set(data[exporter]) | set(data[importer]))
    levels = [countries, countries]
    names = [exporter, importer]
    if year:
        levels.append(sorted(data[year].unique()))
        names.append(year)
    full = pd.MultiIndex.from_product(levels, names=names).to_frame(index=False)
    out = full.merge(data, on=names, how="left")
    out[trade] = out[trade].fillna(fill)
    return out


def keep_domestic(data: pd.DataFrame, *, exporter: str = "exporter", importer: str = "importer") -> pd.DataFrame:
    """The domestic flows only (``exporter == importer``)."""
    return data[data[exporter] == data[importer]].copy()


def add_pair_id(
    data: pd.DataFrame,
    *,
    exporter: str = "exporter",
    importer: str = "importer",
    name: str = "pair",
    symmetric: bool = True,
    domestic: str | None = None,
) -> pd.DataFrame:
    """Add a pair identifier (string ``"A-B"``).

    Parameters
    ----------
    symmetric
        One id per unordered pair (both directions share it), as the Advanced Guide's
        ``pair_id``; else one per ordered pair.
    domestic
        When given, every domestic pair gets this one label (e.g. ``"0-intra"``), so that
        all domestic pairs share one pair fixed effect.
    """
    e = data[exporter].astype(str).to_numpy()
    i = data[importer].astype(str).to_numpy()
    if symmetric:
        lo, hi = np.minimum(e, i), np.maximum(e, i)
        pair = np.char.add(np.char.add(lo.astype(str), "-"), hi.astype(str))
    else:
        pair = np.char.add(np.char.add(e.astype(str), "-"), i.astype(str))
    out = data.copy()
    out[name] = pair
    if domestic is not None:
        out.loc[e == i, name] = domestic
    return out


def add_border_year_dummies(
    data: pd.DataFrame,
    years: Sequence[int] | None = None,
    *,
    exporter: str = "exporter",
    importer: str = "importer",
    year: str = "year",
    prefix: str = "intl_border_",
) -> pd.DataFrame:
    """Add international-border x year dummies ``intl_border_<year>`` (1 for international pairs).

    ``years`` defaults to every year in the data; leave one year out to keep it as the
    reference when pair fixed effects are present.
    """
    years = sorted(data[year].unique()) if years is None else list(years)
    intl = (data[exporter] != data[importer]).to_numpy()
    out = data.copy()
    for y in years:
        out[f"{prefix}{int(y)}"] = (intl & (out[year] == y).to_numpy()).astype(float)
    return out


def add_lags(
    data: pd.DataFrame,
    column: str,
    lags: Sequence[int],
    *,
    exporter: str = "exporter",
    importer: str = "importer",
    year: str = "year",
    fill: float | None = None,
) -> pd.DataFrame:
    """Add lags (positive k) and leads (negative k) of a policy variable by pair and year.

    ``<column>_lag<k>`` is the value of ``column`` for the same pair in ``year - k``;
    ``<column>_lead<k>`` the value in ``year + k``. Years outside the panel give ``fill``
    (missing by default).
    """
    check_columns(data, [column, exporter, importer, year], what="add_lags")
    base = data[[exporter, importer, year, column]]
    out = data.copy()
    for k in lags:
        shifted = base.copy()
        shifted[year] = shifted[year] + k
        name = f"{column}_lag{k}" if k >= 0 else f"{column}_lead{-k}"
        shifted = shifted.rename(columns={column: name})
        out = out.merge(shifted, on=[exporter, importer, year], how="left")
        if fill is not None:
            out[name] = out[name].fillna(fill)
    out.index = data.index
    return out
