"""Reader of a user's own table (CSV or Parquet): a plain :class:`pandas.DataFrame`, as read.

Formats by file name: ``.csv`` (also ``.csv.gz``, ``.csv.bz2``, ``.csv.zip``, ``.csv.xz``),
``.tsv`` / ``.tab`` (tab-separated, same compressions) and ``.parquet`` / ``.pq``. Column names
and values are left as they are; checking them is the caller's job (it knows what they mean).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kaifang.errors import DataError, DataUnavailableError, suggest

__all__ = ["TABLE_FORMATS", "read_table", "table_format"]

#: accepted file-name endings and their formats
TABLE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_COMPRESSED = (".gz", ".bz2", ".zip", ".xz", ".zst")


def table_format(path: str | Path) -> str | None:
    """``"csv"``, ``"tsv"`` or ``"parquet"`` from the file name, ``None`` when not recognised."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return TABLE_FORMATS.get(suffixes[-1]) if suffixes else None


def read_table(path: str | Path, *, source: str | None = None) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a table.

    Parameters
    ----------
    path
        The file; its name decides the format (see the module docstring).
    source
        What named the file, for messages (e.g. ``"spec.toml: field 'data.file'"``).

    Raises
    ------
    DataUnavailableError
        The file does not exist (the message lists similar names in its folder).
    DataError
        Unknown format, or the file cannot be parsed in its format.
    """
    p = Path(path)
    where = f"{source} " if source else ""
    if not p.is_file():
        hint = ""
        if p.parent.is_dir():
            hint = suggest(p.name, [q.name for q in p.parent.iterdir() if q.is_file()])
        raise DataUnavailableError(
            f"{where}names the data file {str(p)!r}, which does not exist.{hint} "
            "Check the path (a relative path is read from the folder of the file that names it)."
        )
    fmt = table_format(p)
    if fmt is None:
        raise DataError(
            f"{where}names the data file {str(p)!r}, whose format is not known from its name; "
            f"use a file ending in {', '.join(TABLE_FORMATS)} (CSV and TSV may be compressed, "
            "e.g. .csv.gz)."
        )
    try:
        if fmt == "parquet":
            return pd.read_parquet(p)
        return pd.read_csv(p, sep="\t" if fmt == "tsv" else ",")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{where}names the data file {str(p)!r}, which cannot be read as {fmt.upper()} ({msg}). "
            "Check that the file is complete and in that format."
        ) from None
