"""Reader of the World Input-Output Database, 2013 release (``wiod2013``), 1995–2011.

Timmer, Dietzenbacher, Los, Stehrer and de Vries (2015), "An Illustrated User Guide to the World
Input–Output Database: the Case of Global Automotive Production", *Review of International
Economics* 23. One world input-output table per year: 41 regions (40 countries by ISO3 code, with
``ROM`` for Romania, and the rest of the world ``RoW``) × 35 industries (``c1`` … ``c35``, NACE
rev. 1.1; ``c1``–``c16`` goods, ``c17``–``c35`` services, which are traded in this table),
final sales to each region in five categories, and gross output; millions of current US dollars at
basic prices, rounded to integers (so the published output differs from the row sums by a few
units; :attr:`RawMRIO.rounding` is 1).

The files are the tables in R's format from the R package ``wiod`` (one ``wiot_<year>.RData`` per
year, read with the ``rdata`` package); each holds a list with ``countries``, ``industries``,
``inter`` (1435 × 1435), ``final`` (1435 × 205) and ``output`` (1435).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from kaifang.data.mrio import RawMRIO, cached_table
from kaifang.data.store import locate, sha256
from kaifang.errors import DataError

__all__ = ["FD_CATEGORIES", "INDUSTRY_NAMES", "SECTORS", "YEARS", "read_wiod2013"]

#: Years the release covers.
YEARS: tuple[int, ...] = tuple(range(1995, 2012))

#: The five final-demand categories of each destination, in column order (WIOD codes).
FD_CATEGORIES: tuple[str, ...] = ("CONS_h", "CONS_np", "CONS_g", "GFCF", "INVEN")

#: Industry codes and their names (WIOD 2013 release, NACE rev. 1.1).
INDUSTRY_NAMES: dict[str, str] = {
    "c1": "Agriculture, hunting, forestry and fishing",
    "c2": "Mining and quarrying",
    "c3": "Food, beverages and tobacco",
    "c4": "Textiles and textile products",
    "c5": "Leather and footwear",
    "c6": "Wood and products of wood and cork",
    "c7": "Pulp, paper, printing and publishing",
    "c8": "Coke, refined petroleum and nuclear fuel",
    "c9": "Chemicals and chemical products",
    "c10": "Rubber and plastics",
    "c11": "Other non-metallic minerals",
    "c12": "Basic metals and fabricated metal",
    "c13": "Machinery n.e.c.",
    "c14": "Electrical and optical equipment",
    "c15": "Transport equipment",
    "c16": "Manufacturing n.e.c.; recycling",
    "c17": "Electricity, gas and water supply",
    "c18": "Construction",
    "c19": "Sale and repair of motor vehicles; retail sale of fuel",
    "c20": "Wholesale trade, except motor vehicles",
    "c21": "Retail trade, except motor vehicles; repair of household goods",
    "c22": "Hotels and restaurants",
    "c23": "Inland transport",
    "c24": "Water transport",
    "c25": "Air transport",
    "c26": "Other transport services; travel agencies",
    "c27": "Post and telecommunications",
    "c28": "Financial intermediation",
    "c29": "Real estate activities",
    "c30": "Renting of machinery and equipment; other business activities",
    "c31": "Public administration and defence; compulsory social security",
    "c32": "Education",
    "c33": "Health and social work",
    "c34": "Other community, social and personal services",
    "c35": "Private households with employed persons",
}

#: Industry codes in table order (for the scenario builder).
SECTORS: tuple[str, ...] = tuple(INDUSTRY_NAMES)


def _file(year: int) -> str:
    return f"wiot_{year}.RData"


def read_wiod2013(year: int = 2011, *, path: str | Path | None = None) -> RawMRIO:
    """Read one year of the WIOD 2013 release.

    Parameters
    ----------
    year
        A year from 1995 to 2011.
    path
        Read this file instead of locating the registered one (mirror, cache or download); it must
        be a ``wiot_<year>.RData`` file of the release.

    Returns
    -------
    RawMRIO
        The table as published, in millions of US dollars, rows and columns ordered region first,
        then industry.

    Raises
    ------
    DataError
        A year the release does not have (listing the years), or a file that is not a WIOD
        table.
    """
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        raise DataError(
            f"data set 'wiod2013' has no year {year!r}; it covers {YEARS[0]}-{YEARS[-1]} "
            f"(set [baseline] year to one of {', '.join(map(str, YEARS))})."
        )
    p = Path(path) if path is not None else locate("wiod2013", _file(year))
    return cached_table("wiod2013", year, p, lambda: _parse(p, year))


#: R's missing integer (``NA_integer_``), the smallest 32-bit integer.
_R_NA_INTEGER = np.iinfo(np.int32).min


def _r_symbol(obj: Any) -> str | None:
    """The name an R symbol (or a reference to one read earlier in the file) stands for."""
    while obj is not None and obj.referenced_object is not None:
        obj = obj.referenced_object
    if obj is None or obj.value is None or obj.value.value is None:
        return None
    return obj.value.value.decode("utf-8", "replace")


def _r_pairlist(obj: Any) -> dict[str, Any]:
    """The tagged elements of an R pairlist (a saved environment, or an object's attributes)."""
    out: dict[str, Any] = {}
    while obj is not None and obj.info.type.name == "LIST":
        name = _r_symbol(obj.tag)
        if name is not None:
            out[name] = obj.value[0]
        obj = obj.value[1] if len(obj.value) > 1 else None
    return out


def _r_strings(obj: Any) -> list[str]:
    if obj.info.type.name != "STR":
        raise TypeError(f"expected a character vector, found R type {obj.info.type.name}")
    return [c.value.decode("utf-8", "replace") if c.value is not None else "" for c in obj.value]


def _r_numbers(obj: Any, name: str) -> np.ndarray:
    """An R integer or double vector or matrix as float64, in R's column-major order."""
    kind = obj.info.type.name
    if kind not in ("INT", "REAL"):
        raise TypeError(f"element {name!r} is R type {kind}, not a numeric array")
    value = np.asarray(obj.value)
    if kind == "INT" and (value == _R_NA_INTEGER).any():
        raise ValueError(f"element {name!r} has missing values (NA)")
    dim = _r_pairlist(obj.attributes).get("dim")
    out = value.astype(float)
    if dim is not None:
        out = out.reshape(tuple(int(d) for d in np.asarray(dim.value)), order="F")
    return out


def _read_wiot(p: Path, year: int) -> dict[str, Any]:
    """The elements of the list ``wiot_<year>`` in an R data file, read from the file's parsed
    object tree: strings as lists, numbers as float64 arrays. (The ``rdata`` package's general
    conversion gives the same arrays, but builds labelled xarray objects on the way, which
    costs about 0.5 s a table, mostly imports.)"""
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = rdata.parser.parse_file(p)
    objects = _r_pairlist(parsed.object)
    want = f"wiot_{year}"
    if want not in objects:
        raise KeyError(f"the file holds {sorted(objects) or 'no objects'}, not {want!r}")
    obj = objects[want]
    if obj.info.type.name != "VEC":
        raise TypeError(f"{want!r} is R type {obj.info.type.name}, not a list")
    names = _r_strings(_r_pairlist(obj.attributes)["names"])
    elements = dict(zip(names, obj.value, strict=True))
    missing = [k for k in ("countries", "industries", "inter", "final", "output") if k not in elements]
    if missing:
        raise KeyError(f"the list {want!r} has no {', '.join(missing)}")
    return {
        "countries": _r_strings(elements["countries"]),
        "industries": _r_strings(elements["industries"]),
        **{k: _r_numbers(elements[k], k) for k in ("inter", "final", "output")},
    }


def _parse(p: Path, year: int) -> RawMRIO:
    try:
        obj = _read_wiot(p, year)
        regions = tuple(obj["countries"])
        sectors = tuple(obj["industries"])
        Z, Y = obj["inter"], obj["final"]
        x = obj["output"].reshape(-1)
    except Exception as exc:  # a wrong or damaged file: say which and what was expected
        raise DataError(
            f"{p}: not a WIOD 2013 table for {year} ({type(exc).__name__}: {exc}); expected an R data "
            f"file holding the list 'wiot_{year}' with countries, industries, inter, final and output."
        ) from None
    g, n, k = len(regions), len(sectors), len(FD_CATEGORIES)
    if Z.shape != (g * n, g * n) or Y.shape != (g * n, g * k) or x.shape != (g * n,):
        raise DataError(
            f"{p}: table shapes inter {Z.shape}, final {Y.shape}, output {x.shape} do not fit "
            f"{g} countries x {n} industries x {k} final-demand categories."
        )
    return RawMRIO(
        dataset="wiod2013",
        year=year,
        regions=regions,
        sectors=sectors,
        fd_categories=FD_CATEGORIES,
        Z=Z,
        Y=Y,
        x=x,
        units="millions of current US dollars (basic prices)",
        rounding=1.0,
        files={p.name: sha256(p)},
        notes=(f"WIOD 2013 release, world input-output table {year}, as published",),
    )
