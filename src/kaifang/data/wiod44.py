"""Reader of the ``wiod44`` data set: the ``ge_gravity`` example data (Baier, Yotov, Zylkin 2019)."""

from __future__ import annotations

import pandas as pd

from kaifang.data.store import locate

__all__ = ["FILE", "read_wiod44"]

FILE = "GE_gravity_example_data.dta"


def read_wiod44() -> pd.DataFrame:
    """Read ``GE_gravity_example_data.dta``: 44 economies x 44 x years 2000, 2005, 2010, 2014.

    Returns
    -------
    pandas.DataFrame
        Columns ``exporter``, ``importer`` (ISO3 strings), ``expcode``, ``impcode``, ``year``
        (``int64``), ``trade``, ``eu_enlargement``, ``other_fta`` and ``fta`` (floats).
        Domestic sales (``exporter == importer``) are included.
    """
    df = pd.read_stata(locate("wiod44", FILE)).rename(columns=str.lower)
    df["year"] = df["year"].astype("int64")
    for col in ("expcode", "impcode"):
        df[col] = df[col].astype("int64")
    for col in ("eu_enlargement", "other_fta", "fta"):
        df[col] = df[col].astype("float64")
    for col in ("exporter", "importer"):
        df[col] = df[col].astype(str)
    return df
