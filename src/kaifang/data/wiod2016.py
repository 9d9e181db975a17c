"""Reader of the World Input-Output Database, 2016 release (``wiod2016``), 2000-2014.

Timmer, Dietzenbacher, Los, Stehrer and de Vries (2015), "An Illustrated User Guide to the World
Input-Output Database: the Case of Global Automotive Production", *Review of International
Economics* 23. One world input-output table per year: 43 countries and the rest of the world
(``ROW``) x 56 industries (ISIC rev. 4, codes ``A01`` ... ``U``), final sales to each region in
five categories, millions of current US dollars at basic prices.

The file read is the release's R version, ``WIOT<year>_October16_ROW.RData`` (from
``WIOTS_in_R.zip``), holding one data frame ``wiot``: a row per ``Country`` and industry (columns
``IndustryCode``, ``IndustryDescription``, ``Country``, ``RNr`` = 1...56, ``Year``), then the rows of
the value-added block (``II_fob``, ``TXSP``, ``EXP_adj``, ``PURR``, ``PURNR``, ``VA``, ``IntTTL``,
``GO``; ``Country = "TOT"``); columns ``<country><n>``: ``n`` = 1...56 the using industries, 57...61
the final-demand categories (``CONS_h``, ``CONS_np``, ``CONS_g``, ``GFCF``, ``INVEN``), and ``TOT``
the row total (gross output).

pymrio has no parser for this release (its ``parse_wiod`` reads the 2013 release's Excel files),
so kaifang reads the R file itself with the ``rdata`` package. Value added for kaifang is gross
output less intermediate inputs at basic prices (the release's ``VA`` row plus its net taxes,
cif/fob adjustment and direct purchases rows, which all sit between basic-price inputs and output).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from kaifang.data.mrio import RawMRIO, cached_table, check_memory
from kaifang.data.store import locate_year, sha256
from kaifang.errors import DataError

__all__ = ["FD_CATEGORIES", "INDUSTRY_NAMES", "SECTORS", "YEARS", "read_wiod2016"]

YEARS: tuple[int, ...] = tuple(range(2000, 2015))

#: Final-demand categories, column numbers 57-61 of each destination.
FD_CATEGORIES: tuple[str, ...] = ("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN")

#: The 56 industries of the 2016 release (ISIC rev. 4).
INDUSTRY_NAMES: dict[str, str] = {
    "A01": "Crop and animal production, hunting and related service activities",
    "A02": "Forestry and logging",
    "A03": "Fishing and aquaculture",
    "B": "Mining and quarrying",
    "C10-C12": "Food products, beverages and tobacco products",
    "C13-C15": "Textiles, wearing apparel and leather products",
    "C16": "Wood and products of wood and cork, except furniture",
    "C17": "Paper and paper products",
    "C18": "Printing and reproduction of recorded media",
    "C19": "Coke and refined petroleum products",
    "C20": "Chemicals and chemical products",
    "C21": "Basic pharmaceutical products and pharmaceutical preparations",
    "C22": "Rubber and plastic products",
    "C23": "Other non-metallic mineral products",
    "C24": "Basic metals",
    "C25": "Fabricated metal products, except machinery and equipment",
    "C26": "Computer, electronic and optical products",
    "C27": "Electrical equipment",
    "C28": "Machinery and equipment n.e.c.",
    "C29": "Motor vehicles, trailers and semi-trailers",
    "C30": "Other transport equipment",
    "C31_C32": "Furniture; other manufacturing",
    "C33": "Repair and installation of machinery and equipment",
    "D35": "Electricity, gas, steam and air conditioning supply",
    "E36": "Water collection, treatment and supply",
    "E37-E39": "Sewerage; waste collection, treatment and disposal; remediation",
    "F": "Construction",
    "G45": "Wholesale and retail trade and repair of motor vehicles and motorcycles",
    "G46": "Wholesale trade, except of motor vehicles and motorcycles",
    "G47": "Retail trade, except of motor vehicles and motorcycles",
    "H49": "Land transport and transport via pipelines",
    "H50": "Water transport",
    "H51": "Air transport",
    "H52": "Warehousing and support activities for transportation",
    "H53": "Postal and courier activities",
    "I": "Accommodation and food service activities",
    "J58": "Publishing activities",
    "J59_J60": "Motion picture, video, television, sound recording, broadcasting",
    "J61": "Telecommunications",
    "J62_J63": "Computer programming, consultancy; information service activities",
    "K64": "Financial service activities, except insurance and pension funding",
    "K65": "Insurance, reinsurance and pension funding, except compulsory social security",
    "K66": "Activities auxiliary to financial services and insurance activities",
    "L68": "Real estate activities",
    "M69_M70": "Legal and accounting activities; head offices; management consultancy",
    "M71": "Architectural and engineering activities; technical testing and analysis",
    "M72": "Scientific research and development",
    "M73": "Advertising and market research",
    "M74_M75": "Other professional, scientific and technical activities; veterinary activities",
    "N": "Administrative and support service activities",
    "O84": "Public administration and defence; compulsory social security",
    "P85": "Education",
    "Q": "Human health and social work activities",
    "R_S": "Other service activities",
    "T": "Activities of households as employers",
    "U": "Activities of extraterritorial organizations and bodies",
}

#: Industry codes in table order (for the scenario builder).
SECTORS: tuple[str, ...] = tuple(INDUSTRY_NAMES)

_ROW_FIELDS = ("IndustryCode", "Country", "RNr")
_COLUMN = re.compile(r"^([A-Z]{3})(\d{1,2})$")
_N_INDUSTRIES = 56


def file_name(year: int) -> str:
    """The release's file name for ``year``."""
    return f"WIOT{year}_October16_ROW.RData"


def read_wiod2016(year: int | None = None, *, path: str | Path | None = None) -> RawMRIO:
    """Read one year of the WIOD 2016 release (its R file).

    Parameters
    ----------
    year
        2000-2014; the file ``WIOT<year>_October16_ROW.RData`` is taken from the mirror or the cache
        (folder ``wiod2016/``).
    path
        Read this file instead (any name; the year is then read from the table).

    Raises
    ------
    DataError
        A year the release does not have (listing the years), a missing file (saying how to get
        it), a file that is not a WIOD 2016 table (naming what is wrong), or a table too large
        for memory.
    """
    if path is None:
        if year is None:
            raise DataError("data set 'wiod2016' needs a year: set [baseline] year (2000-2014).")
        if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
            raise DataError(
                f"data set 'wiod2016' has no year {year!r}; the 2016 release covers {YEARS[0]}-{YEARS[-1]} "
                f"(set [baseline] year to one of {', '.join(map(str, YEARS))})."
            )
        p = locate_year("wiod2016", year)
    else:
        p = Path(path)  # cached_table says so when it is not a file
    return cached_table("wiod2016", year, p, lambda: _parse(p, year))


def _parse(p: Path, year: int | None) -> RawMRIO:
    import rdata

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            objects = rdata.read_rda(p)
    except Exception as exc:
        raise DataError(
            f"{p}: not an R data file ({type(exc).__name__}: {exc}); expected WIOT<year>_October16_ROW.RData "
            f"of the WIOD 2016 release."
        ) from None
    df = objects.get("wiot")
    if df is None or not hasattr(df, "columns"):
        raise DataError(
            f"{p}: holds no data frame 'wiot' (objects: {', '.join(objects) or 'none'}); expected a table of the "
            f"WIOD 2016 release."
        )
    missing = [c for c in (*_ROW_FIELDS, "TOT") if c not in df.columns]
    if missing:
        raise DataError(f"{p}: the data frame 'wiot' lacks the columns {missing} of a WIOD 2016 table.")
    # columns <country><n>: the using industry (1-56) or final-demand category (57-61) of a country
    col_country: list[str] = []
    col_num: list[int] = []
    col_pos: list[int] = []
    for k, c in enumerate(df.columns):
        m = _COLUMN.match(str(c))
        if m:
            col_country.append(m.group(1))
            col_num.append(int(m.group(2)))
            col_pos.append(k)
    regions = tuple(dict.fromkeys(col_country))
    rows_country = df["Country"].astype(str).to_numpy()
    is_industry = np.isin(rows_country, regions)
    n_rows = int(is_industry.sum())
    g = len(regions)
    if g == 0 or n_rows % g:
        raise DataError(
            f"{p}: found {g} countries in the column labels and {n_rows} industry rows; a WIOD table has one "
            f"row per country and industry."
        )
    n = n_rows // g
    check_memory(p, g, n, len(FD_CATEGORIES))
    rnr = df["RNr"].to_numpy()[is_industry].astype(int)
    codes = df["IndustryCode"].astype(str).to_numpy()[is_industry]
    sectors = tuple(dict.fromkeys(codes[rows_country[is_industry] == regions[0]]))
    if len(sectors) != n or sorted(set(rnr)) != list(range(1, n + 1)):
        raise DataError(
            f"{p}: the industry rows are not numbered 1-{n} for each of the {g} countries (RNr); the rows and "
            f"columns of the table disagree."
        )
    r_index = {r: i for i, r in enumerate(regions)}
    row_pos = np.array([r_index[c] for c in rows_country[is_industry]]) * n + (rnr - 1)
    if len(set(row_pos.tolist())) != n_rows:
        raise DataError(f"{p}: some country and industry appears twice among the rows.")
    values = df.iloc[:, col_pos].to_numpy(dtype=float)[is_industry]
    total = df["TOT"].to_numpy(dtype=float)[is_industry]
    gn, k = g * n, len(FD_CATEGORIES)
    Z = np.full((gn, gn), np.nan)
    Y = np.full((gn, g * k), np.nan)
    x = np.empty(gn)
    x[row_pos] = total
    cc = np.array([r_index[c] for c in col_country])
    cn = np.array(col_num)
    inter = cn <= n
    final = (cn > n) & (cn <= n + k)
    if inter.sum() != gn or final.sum() != g * k:
        raise DataError(
            f"{p}: expected {gn} intermediate and {g * k} final-demand columns (<country>1-{n} and "
            f"<country>{n + 1}-{n + k}), found {int(inter.sum())} and {int(final.sum())}; the rows and "
            f"columns of the table disagree."
        )
    zc = cc[inter] * n + cn[inter] - 1
    yc = cc[final] * k + cn[final] - n - 1
    Z[np.ix_(row_pos, zc)] = values[:, inter]
    Y[np.ix_(row_pos, yc)] = values[:, final]
    for name, arr in (("intermediate", Z), ("final", Y), ("TOT", x)):
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{p}: the {name} block has missing values; the file is damaged or not complete.")
    years = set(df["Year"].astype(int).to_numpy()[is_industry].tolist()) if "Year" in df.columns else set()
    got_year = year if year is not None else (years.pop() if len(years) == 1 else None)
    return RawMRIO(
        dataset="wiod2016",
        year=got_year,
        regions=regions,
        sectors=sectors,
        fd_categories=FD_CATEGORIES,
        Z=Z,
        Y=Y,
        x=x,
        units="millions of current US dollars (basic prices)",
        rounding=0.0,
        files={p.name: sha256(p)},
        notes=(f"WIOD 2016 release, world input-output table {got_year}, as published",),
    )
