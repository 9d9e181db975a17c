"""Multi-region input-output tables as read from files: plain labelled arrays.

A :class:`RawMRIO` is what a reader found in a world input-output table (WIOD, OECD ICIO, a
user's own file), with nothing calibrated: intermediate sales ``Z``, final sales ``Y`` by
destination country and final-demand category, and gross output ``x`` as published. Rows and
columns are ordered **country first, then industry** (position ``s * N + i`` for region ``s`` and
industry ``i``). The calibrated, validated table that models and value-chain decompositions use
is :class:`kaifang.baseline.inputoutput.InputOutputTable`, built from this one.

:func:`read_table` reads any registered table data set (``wiod2013``, ``wiod2016``, ``icio``, or
``mrio`` for a user's own file) into a :class:`RawMRIO`; :func:`check_memory` refuses a table
too large for this machine before it is read.
"""

from __future__ import annotations

import os
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from kaifang import _warm
from kaifang.errors import DataError

__all__ = ["TABLE_DATASETS", "RawMRIO", "available_memory", "check_memory", "read_table", "table_bytes"]

#: Data sets whose files are world input-output tables (readers in this package).
TABLE_DATASETS: tuple[str, ...] = ("wiod2013", "wiod2016", "icio", "mrio")


@dataclass(frozen=True, eq=False)
class RawMRIO:
    """A world input-output table as published (no corrections).

    Attributes
    ----------
    dataset
        Name of the data set (``"wiod2013"``, ``"icio"``, ``"mrio"`` for a user's file).
    year
        Year of the table (``None`` when the source has none).
    regions, sectors
        Region and industry labels, in array order.
    fd_categories
        Final-demand categories, in the order of the columns of each destination in ``Y``.
    Z
        Intermediate sales, ``(G N, G N)``: row ``(s, i)`` sells to column ``(r, j)``.
    Y
        Final sales, ``(G N, G K)``: columns ordered destination first, then category.
    x
        Gross output as published, ``(G N,)``; ``None`` when the source gives none (then it is
        the row sum of ``Z`` and ``Y``).
    value_added
        Value added as published, ``(G N,)``, or ``None`` (then ``x`` minus the column sums of
        ``Z``).
    units
        The money unit of every value, e.g. ``"millions of current US dollars"``.
    rounding
        The unit the published values are rounded to (1.0 for WIOD's integer millions, 0.0 when
        the values are not rounded); used to tell rounding from imbalance.
    files
        File name -> SHA-256 of what was read (provenance).
    notes
        What the reader did, in words (e.g. which rows it dropped).
    """

    dataset: str
    year: int | None
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    fd_categories: tuple[str, ...]
    Z: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    x: np.ndarray | None = field(default=None, repr=False)
    value_added: np.ndarray | None = field(default=None, repr=False)
    units: str = ""
    rounding: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


#: How many tables one process keeps read (:func:`cached_table`): a sweep over one table, or
#: the validation and the solve of one scenario, read its file once.
TABLE_CACHE_SIZE = 2
_TABLE_CACHE: OrderedDict[tuple[object, ...], RawMRIO] = _warm.register(
    "tables", OrderedDict(), TABLE_CACHE_SIZE, __name__
)


def cached_table(dataset: str, year: int | None, path: Path, read: Callable[[], RawMRIO]) -> RawMRIO:
    """``read()`` of the table in ``path``, or a copy of what it gave before for the same file.

    The file is known by its resolved path, size and modification time, so a file that changes
    is read again; a path that is not a file is a :class:`~kaifang.errors.DataError` naming it. The last :data:`TABLE_CACHE_SIZE` tables are kept; each call returns copies of
    the arrays, so a caller may change them freely.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such file (field [baseline] file).")
    from kaifang.data.store import file_signature

    key = (dataset, year, *file_signature(path))
    raw = _TABLE_CACHE.get(key)
    if raw is None:
        raw = read()
        _TABLE_CACHE[key] = raw
        while len(_TABLE_CACHE) > TABLE_CACHE_SIZE:
            _TABLE_CACHE.popitem(last=False)
    else:
        _TABLE_CACHE.move_to_end(key)
    return replace(
        raw,
        Z=raw.Z.copy(),
        Y=raw.Y.copy(),
        x=None if raw.x is None else raw.x.copy(),
        value_added=None if raw.value_added is None else raw.value_added.copy(),
        files=dict(raw.files),
    )


def _parse_bytes(text: str) -> int:
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kKmMgGtT]?)[bB]?\s*", text)
    if not m:
        raise DataError(
            f"environment variable KAIFANG_MEMORY_LIMIT has value {text!r}; give a size such as 8GB or 500MB."
        )
    unit = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12}[m.group(2).lower()]
    return int(float(m.group(1)) * unit)


def available_memory() -> int:
    """Bytes of memory a table may use: ``KAIFANG_MEMORY_LIMIT`` (e.g. ``8GB``) if set, else the
    machine's available physical memory (total memory where that is unknown, 8 GB as a last resort)."""
    env = os.environ.get("KAIFANG_MEMORY_LIMIT")
    if env:
        return _parse_bytes(env)
    for name in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):
        try:
            return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf(name))
        except (ValueError, OSError, AttributeError):
            continue
    return 8 * 10**9


#: Working copies a table needs while it is read, validated and calibrated (measured: pandas'
#: parse of the text, the dense arrays, the validated copy and the aggregation step).
_WORKING_COPIES = 4


def table_bytes(n_regions: int, n_sectors: int, n_categories: int) -> int:
    """Bytes of the dense arrays of one table (Z, Y and x in float64) times the working copies."""
    gn = n_regions * n_sectors
    return 8 * gn * (gn + n_regions * n_categories + 2) * _WORKING_COPIES


def check_memory(path: str | Path, n_regions: int, n_sectors: int, n_categories: int) -> None:
    """Refuse, before reading, a table whose dense arrays would not fit into memory.

    Raises
    ------
    DataError
        Naming the file, its size in regions x sectors and the memory needed and available.
    """
    need, have = table_bytes(n_regions, n_sectors, n_categories), available_memory()
    if need > have:
        raise DataError(
            f"{path}: the table has {n_regions} regions x {n_sectors} sectors ({n_regions * n_sectors} rows "
            f"and columns); reading and calibrating it needs about {need / 1e9:.1f} GB of memory, more than "
            f"the {have / 1e9:.1f} GB available (KAIFANG_MEMORY_LIMIT or the machine's free memory). "
            f"Aggregate the table before giving it to kaifang, or use a machine with more memory."
        )


def read_table(
    dataset: str, *, year: int | None = None, path: str | Path | None = None, source: str = "<scenario>"
) -> RawMRIO:
    """Read a world input-output table of a registered table data set.

    Parameters
    ----------
    dataset
        ``"wiod2013"``, ``"wiod2016"``, ``"icio"`` or ``"mrio"``.
    year
        The table's year (``wiod2013``: 1995-2011; ``wiod2016``: 2000-2014; ``icio``: 1995-2020).
    path
        A file to read instead of the registered one (required for ``mrio``).
    source
        Where the request comes from (the scenario file), for messages.

    Raises
    ------
    DataError
        Unknown data set, a missing year or file, or a malformed file (each naming it).
    """
    if dataset == "wiod2013":
        from kaifang.data.wiod2013 import read_wiod2013

        if year is None and path is None:
            year = 2011
        return read_wiod2013(year if year is not None else _year_from_name(path, dataset), path=path)
    if dataset == "wiod2016":
        from kaifang.data.wiod2016 import read_wiod2016

        return read_wiod2016(year, path=path)
    if dataset == "icio":
        from kaifang.data.icio import read_icio

        return read_icio(year, path=path)
    if dataset == "mrio":
        from kaifang.data.usertable import read_long_table

        if path is None:
            raise DataError(
                f"{source}: data set 'mrio' is your own table: name its file in [baseline] file "
                f'(e.g. file = "mytable.parquet"; the long format is described in docs/datasets.md).'
            )
        return read_long_table(path, year=year)
    raise DataError(
        f"{source}: data set {dataset!r} holds no input-output table; table data sets: "
        f"{', '.join(TABLE_DATASETS)}."
    )


def _year_from_name(path: str | Path | None, dataset: str) -> int:
    found = re.findall(r"(?:19|20)\d\d", Path(str(path)).name)
    if not found:
        raise DataError(
            f"{path}: cannot tell the year of this {dataset} file from its name; set [baseline] year."
        )
    return int(found[-1])
