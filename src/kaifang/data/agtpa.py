"""Reader of the ``agtpa`` data set (Yotov, Piermartini, Monteiro and Larch 2016).

Every reader returns a plain :class:`pandas.DataFrame` with lower-case column names,
``exporter``/``importer`` as ISO3 strings and ``year`` (and ``pair_id`` where present) as
integers. Domestic flows (``exporter == importer``) are kept.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd

from kaifang.data.store import locate

__all__ = ["FILES", "read_agtpa"]

AgtpaFile = Literal[
    "Chapter2Application2.dta",
    "agtpa_applications.csv.gz",
    "Chapter1Exercise1.dta",
    "Chapter1Exercise2.dta",
]
FILES: tuple[str, ...] = (
    "Chapter2Application2.dta",
    "agtpa_applications.csv.gz",
    "Chapter1Exercise1.dta",
    "Chapter1Exercise2.dta",
)


def _read_applications() -> pd.DataFrame:
    """The applications panel: the CSV conversion where a mirror has it, else the public ``.rda``.

    The CSV is a lossless conversion of ``agtpa_applications.rda`` that only mirrors provide;
    with internet access but no mirror, the ``.rda`` is downloaded and read with ``pyreadr``.
    """
    from kaifang.errors import DataUnavailableError

    try:
        return pd.read_csv(locate("agtpa", "agtpa_applications.csv.gz", download=False))
    except DataUnavailableError:
        pass
    import pyreadr

    rda = locate("agtpa", "agtpa_applications.rda")
    frames = pyreadr.read_r(str(rda))
    df = next(iter(frames.values()))
    for col in df.columns:
        if isinstance(df[col].dtype, pd.CategoricalDtype):
            df[col] = df[col].astype(str)
    return df


def read_agtpa(filename: AgtpaFile = "agtpa_applications.csv.gz") -> pd.DataFrame:
    """Read one file of the ``agtpa`` data set as a tidy table.

    Parameters
    ----------
    filename
        ``Chapter2Application2.dta`` (the chapter-2 panel, upper-case columns in the file),
        ``agtpa_applications.csv.gz`` (the same panel with RTA lags and lead),
        ``Chapter1Exercise1.dta`` or ``Chapter1Exercise2.dta``.

    Returns
    -------
    pandas.DataFrame
        Columns in lower case; ``year`` and ``pair_id`` as ``int64``; trade in millions of USD.
    """
    from kaifang.errors import DataError, suggest

    if filename not in FILES:
        raise DataError(
            f"agtpa has no file {filename!r}.{suggest(filename, FILES)} Files: {', '.join(FILES)}."
        )
    if filename == "agtpa_applications.csv.gz":
        df = _read_applications()
    else:
        df = pd.read_stata(locate("agtpa", filename))
    df = df.rename(columns=str.lower)
    for col in ("year", "pair_id"):
        if col in df:
            df[col] = df[col].astype("int64")
    for col in ("exporter", "importer"):
        df[col] = df[col].astype(str)
    return df
