"""Small world input-output tables for tests: random tables and fixture files in published layouts.

The fixture writers put known numbers into files laid out as the OECD (ICIO 2023 edition CSV) and
the WIOD 2016 release (R file) publish them -- the row and column labels follow the published
conventions, the values are made up -- and return the numbers written, so that readers can be
checked against them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from kaifang.baseline import InputOutputTable
from kaifang.data.icio import FD_CATEGORIES as ICIO_FD
from kaifang.data.icio import INDUSTRY_NAMES as ICIO_INDUSTRIES
from kaifang.data.wiod2016 import FD_CATEGORIES as WIOD16_FD
from kaifang.data.wiod2016 import INDUSTRY_NAMES as WIOD16_INDUSTRIES


def random_table(
    seed: int,
    g: int,
    n: int,
    *,
    k: int = 2,
    negative_final: bool = False,
    regions: tuple[str, ...] | None = None,
    sectors: tuple[str, ...] | None = None,
) -> InputOutputTable:
    """A random, balanced table with every flow positive (optionally some negative final cells)."""
    rng = np.random.default_rng(seed)
    gn = g * n
    Z = rng.uniform(0.5, 5.0, size=(gn, gn))
    Y = rng.uniform(2.0, 30.0, size=(gn, g * k)) * (gn / (g * k))  # final sales large enough that
    if negative_final:  # value added (output less inputs) is positive everywhere; three origins
        for q, r in zip(rng.integers(0, gn, size=3), rng.integers(0, g, size=3), strict=True):
            Y[q, r * k : (r + 1) * k] = -rng.uniform(1.0, 3.0, size=k)  # buy less than nothing from r
    x = Z.sum(axis=1) + Y.sum(axis=1)
    assert (x - Z.sum(axis=0) > 0).all()
    return InputOutputTable.from_arrays(
        Z,
        Y,
        x,
        regions=regions or tuple(f"R{r}" for r in range(g)),
        sectors=sectors or tuple(f"s{j}" for j in range(n)),
        fd_categories=tuple(f"f{c}" for c in range(k)),
        dataset="random",
    )


def write_icio_csv(
    path: Path,
    regions: tuple[str, ...] = ("AUS", "CHN", "USA", "ROW"),
    seed: int = 0,
    split_china: bool = True,
) -> dict[str, object]:
    """Write a table in the layout of the ICIO 2023 edition CSV and return what was written.

    Rows ``<economy>_<industry>`` (all 45 industries), then ``TLS``, ``VA``, ``OUT``; columns the
    same labels, then ``<economy>_<category>`` for the six final-demand categories, then ``OUT``; the
    first header cell is ``V1``. With ``split_china`` China's production is published as ``CHN``
    plus ``CN1`` and ``CN2`` rows and columns (placed after ``ROW``, as the extended tables do),
    with final demand for ``CHN`` only.
    """
    rng = np.random.default_rng(seed)
    inds = list(ICIO_INDUSTRIES)
    prod = list(regions) + (["CN1", "CN2"] if split_china and "CHN" in regions else [])
    rows = [f"{r}_{s}" for r in prod for s in inds]
    fd_cols = [f"{r}_{c}" for r in regions for c in ICIO_FD]
    m, f = len(rows), len(fd_cols)
    Z = np.round(rng.uniform(0.0, 5.0, size=(m, m)), 3)
    Y = np.round(rng.uniform(0.0, 40.0, size=(m, f)), 3)
    Y[:, next(c for c, name in enumerate(fd_cols) if name.endswith("_INVNT"))] *= -0.1  # inventories fall
    out_rows = Z.sum(axis=1) + Y.sum(axis=1)
    tls = np.round(rng.uniform(0.0, 1.0, size=m), 3)
    va = out_rows - Z.sum(axis=0) - tls  # columns add up to the rows' output
    body = pd.DataFrame(np.hstack([Z, Y]), index=rows, columns=rows + fd_cols)
    body["OUT"] = out_rows
    tail = pd.DataFrame(0.0, index=["TLS", "VA", "OUT"], columns=[*rows, *fd_cols, "OUT"])
    tail.loc["TLS", rows] = tls
    tail.loc["VA", rows] = va
    tail.loc["OUT", rows] = Z.sum(axis=0) + tls + va
    frame = pd.concat([body, tail])
    frame.index.name = "V1"
    frame.to_csv(path)
    # the expected table after CN1, CN2 are summed into CHN
    g, n, k = len(regions), len(inds), len(ICIO_FD)
    if len(prod) > len(regions):
        C = np.zeros((g * n, m))
        for r, name in enumerate(prod):
            target = regions.index("CHN") if name in ("CN1", "CN2") else regions.index(name)
            C[target * n : (target + 1) * n, r * n : (r + 1) * n] = np.eye(n)
    else:
        C = np.eye(m)
    return {
        "regions": tuple(regions),
        "sectors": tuple(inds),
        "Z": C @ Z @ C.T,
        "Y": C @ Y,
        "value_added": C @ (tls + va),
        "x": C @ out_rows,
        "fd": tuple(ICIO_FD),
        "k": k,
    }


def write_wiod2016_rdata(
    path: Path, regions: tuple[str, ...] = ("AUS", "CHN", "ROW"), year: int = 2014, seed: int = 0
) -> dict[str, object]:
    """Write a table in the layout of the WIOD 2016 release's R file and return what was written.

    A data frame ``wiot``: columns ``IndustryCode``, ``IndustryDescription``, ``Country``, ``RNr``,
    ``Year``, then ``<country>1`` ... ``<country>56`` (intermediate use), ``<country>57`` ...
    ``<country>61`` (final demand), ``TOT``; rows one per country and industry, then the value-added
    block (``II_fob`` ... ``GO``, Country ``TOT``).
    """
    rng = np.random.default_rng(seed)
    inds = list(WIOD16_INDUSTRIES)
    g, n, k = len(regions), len(inds), len(WIOD16_FD)
    gn = g * n
    Z = np.round(rng.uniform(0.0, 3.0, size=(gn, gn)), 2)
    Y = np.round(rng.uniform(0.0, 30.0, size=(gn, g * k)), 2)
    Y[:, 4::k] *= -0.05  # INVEN
    x = Z.sum(axis=1) + Y.sum(axis=1)
    cols = [f"{r}{j}" for r in regions for j in range(1, n + 1)] + [
        f"{r}{j}" for r in regions for j in range(n + 1, n + k + 1)
    ]
    data = np.hstack([Z, Y])
    frame = pd.DataFrame(data, columns=cols)
    frame.insert(0, "Year", pd.array([year] * gn, dtype="Int32"))
    frame.insert(0, "RNr", pd.array([j for _ in regions for j in range(1, n + 1)], dtype="Int32"))
    frame.insert(
        0, "Country", pd.Series(np.array([r for r in regions for _ in inds], dtype=object), dtype=object)
    )
    frame.insert(
        0,
        "IndustryDescription",
        pd.Series(
            np.array([WIOD16_INDUSTRIES[s] for _ in regions for s in inds], dtype=object), dtype=object
        ),
    )
    frame.insert(
        0, "IndustryCode", pd.Series(np.array([s for _ in regions for s in inds], dtype=object), dtype=object)
    )
    frame["TOT"] = x
    va_rows = ["II_fob", "TXSP", "EXP_adj", "PURR", "PURNR", "VA", "IntTTL", "GO"]
    tail = pd.DataFrame(0.0, index=range(len(va_rows)), columns=[*cols, "TOT"])
    tail.loc[0, cols[:gn]] = Z.sum(axis=0)
    tail.loc[5, cols[:gn]] = x - Z.sum(axis=0)
    tail.loc[6, cols[:gn]] = Z.sum(axis=0)
    tail.loc[7, cols[:gn]] = x
    tail.insert(0, "Year", pd.array([year] * len(va_rows), dtype="Int32"))
    tail.insert(0, "RNr", pd.array(list(range(65, 65 + len(va_rows))), dtype="Int32"))
    tail.insert(0, "Country", pd.Series(np.array(["TOT"] * len(va_rows), dtype=object), dtype=object))
    tail.insert(0, "IndustryDescription", pd.Series(np.array(va_rows, dtype=object), dtype=object))
    tail.insert(0, "IndustryCode", pd.Series(np.array(va_rows, dtype=object), dtype=object))
    wiot = pd.concat([frame, tail], ignore_index=True)
    for c in ("IndustryCode", "IndustryDescription", "Country"):
        wiot[c] = pd.Series(np.array(wiot[c].tolist(), dtype=object), dtype=object)
    import rdata

    rdata.write_rda(path, {"wiot": wiot})
    return {"regions": tuple(regions), "sectors": tuple(inds), "Z": Z, "Y": Y, "x": x, "year": year}
