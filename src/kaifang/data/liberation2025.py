"""Reader of the ``liberation2025`` data set: 2023 goods trade among 194 economies, GDP and the
2025 US "Liberation Day" tariffs (Ignatenko, Lashkaripour, Macedoni and Simonovska 2025).

Files (the authors' replication package, ``data/base_data/``), all in the order of ``country_labels.csv``:

``country_labels.csv``
    columns ``iso3, iso_code, CountryName``; ``iso_code`` runs 1 ... N.
``trade_cepii.csv``
    N x N goods trade in 2023 (BACI), thousands of USD, row = exporter, column = importer;
    empty cells and the diagonal are no data (read as 0).
``gdp.csv``
    GDP in 2023, USD (one column ``gdp``).
``tariffs.csv``
    the tariff the USA announced on imports from each economy, as a fraction (one column
    ``applied_tariff``).

The reader returns plain arrays with their region labels (ISO3 codes) and checks them once:
shapes, no negative or non-finite values. :func:`kaifang.baseline.ims2025.one_sector_baseline`
turns them into the calibrated one-sector world of the paper (domestic sales built from GDP), as
labelled arrays that other one-sector models (e.g. structural gravity) can use as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kaifang import _warm
from kaifang.errors import DataError, DataUnavailableError, suggest

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = [
    "DATASET",
    "FILES",
    "Liberation2025",
    "load",
    "read_gdp",
    "read_labels",
    "read_tariffs",
    "read_trade",
]

DATASET = "liberation2025"
FILES = ("country_labels.csv", "trade_cepii.csv", "gdp.csv", "tariffs.csv")


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise DataUnavailableError(
            f"{what} file {str(p)!r} does not exist. Check the path (or run "
            f"`kaifang data fetch {DATASET}` for the data set's own files)."
        )
    try:
        return pd.read_csv(p)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: cannot be read as CSV ({exc}); {what} must be a CSV file.") from None


def _numeric(df: pd.DataFrame, path: Path, what: str) -> np.ndarray:
    vals = df.apply(pd.to_numeric, errors="coerce")
    bad = vals.isna() & df.notna()
    if bad.to_numpy().any():
        r, c = np.argwhere(bad.to_numpy())[0]
        raise DataError(
            f"{path}: {what} has a non-numeric value {df.iat[r, c]!r} in row {r + 2} (column "
            f"{df.columns[c]!r}); every entry must be a number."
        )
    return vals.to_numpy(dtype=float)


def read_labels(path: str | Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Read ``country_labels.csv``: the ISO3 codes and country names, in data-set order.

    Parameters
    ----------
    path
        Path of the labels file (columns ``iso3, iso_code, CountryName``).

    Returns
    -------
    tuple
        ``(codes, names)``, each a tuple of N strings.

    Raises
    ------
    DataError
        Missing columns, duplicate codes or ``iso_code`` not running 1 ... N.
    """
    p = Path(path)
    df = _read_csv(p, "country labels")
    missing = {"iso3", "iso_code", "CountryName"} - set(df.columns)
    if missing:
        raise DataError(
            f"{p}: column(s) {sorted(missing)} missing; the labels file needs iso3, iso_code, CountryName."
        )
    codes = tuple(str(c).strip().upper() for c in df["iso3"])
    if len(set(codes)) != len(codes):
        dup = pd.Series(codes)[pd.Series(codes).duplicated()].iloc[0]
        raise DataError(f"{p}: region code {dup!r} appears more than once; codes must be unique.")
    order = pd.to_numeric(df["iso_code"], errors="coerce").to_numpy()
    if not np.array_equal(order, np.arange(1, len(codes) + 1)):
        raise DataError(f"{p}: column 'iso_code' must run 1, 2, ..., {len(codes)} in file order.")
    return codes, tuple(str(n) for n in df["CountryName"])


def read_trade(path: str | Path, n: int) -> np.ndarray:
    """Read ``trade_cepii.csv`` as an ``(exporter, importer)`` array in thousands of USD.

    Empty cells are no recorded trade (0); the diagonal (no data) is set to 0.

    Raises
    ------
    DataError
        Wrong shape, non-numeric, negative or non-finite entries.
    """
    p = Path(path)
    df = _read_csv(p, "trade matrix")
    x = _numeric(df, p, "the trade matrix")
    if x.shape != (n, n):
        raise DataError(
            f"{p}: the trade matrix has shape {x.shape}, expected ({n}, {n}) (one row and one "
            f"column per region of country_labels.csv)."
        )
    x = np.nan_to_num(x, nan=0.0)
    if not np.isfinite(x).all():
        raise DataError(f"{p}: the trade matrix has an infinite entry; flows must be finite.")
    if (x < 0).any():
        r, c = np.argwhere(x < 0)[0]
        raise DataError(
            f"{p}: negative trade flow {x[r, c]} from exporter row {r + 1} to importer column "
            f"{c + 1}; flows must be >= 0."
        )
    np.fill_diagonal(x, 0.0)
    return x


def _read_vector(path: Path, n: int, column: str, what: str) -> np.ndarray:
    df = _read_csv(path, what)
    if column not in df.columns:
        raise DataError(
            f"{path}: column {column!r} missing (columns: {list(df.columns)}); the {what} file "
            f"has one column {column!r}."
        )
    v = _numeric(df[[column]], path, f"the {what}")[:, 0]
    if v.shape != (n,):
        raise DataError(
            f"{path}: the {what} file has {v.shape[0]} value(s), expected {n} (one per region of "
            f"country_labels.csv, in that order)."
        )
    if not np.isfinite(v).all():
        k = int(np.flatnonzero(~np.isfinite(v))[0])
        raise DataError(f"{path}: the {what} of region number {k + 1} is missing or not finite.")
    return v


def read_gdp(path: str | Path, n: int) -> np.ndarray:
    """Read ``gdp.csv`` (USD). Raises :class:`DataError` unless N positive finite values."""
    p = Path(path)
    v = _read_vector(p, n, "gdp", "GDP")
    if (v <= 0).any():
        k = int(np.flatnonzero(v <= 0)[0])
        raise DataError(f"{p}: GDP of region number {k + 1} is {v[k]}; GDP must be positive.")
    return v


def read_tariffs(path: str | Path, n: int, labels: Sequence[str] | None = None) -> np.ndarray:
    """Read a tariff file like ``tariffs.csv``: one rate per region, as a fraction (0.25 = 25 %).

    Parameters
    ----------
    path
        CSV with one column ``applied_tariff`` and N rows, in the order of the labels.
    n
        Number of regions.
    labels
        Region codes (for messages).

    Raises
    ------
    DataError
        Wrong number of rates, non-numeric, non-finite or negative rates.
    """
    p = Path(path)
    v = _read_vector(p, n, "applied_tariff", "tariff")
    if (v < 0).any():
        k = int(np.flatnonzero(v < 0)[0])
        who = labels[k] if labels is not None else f"region number {k + 1}"
        raise DataError(
            f"{p}: the tariff on {who} (row {k + 2}) is {v[k]}, negative; rates are fractions >= 0 "
            f"(0.25 means 25 %)."
        )
    return v


@dataclass(frozen=True)
class Liberation2025:
    """The data set's arrays, checked, with their region labels.

    Attributes
    ----------
    regions
        ISO3 codes in data-set order.
    names
        Country names in the same order.
    trade
        ``(exporter, importer)`` goods trade in 2023, thousands of USD, diagonal 0.
    gdp
        GDP in 2023, USD.
    tariffs
        The announced US tariff on each economy's goods (fractions, as in the file: no floor).
    files
        File name -> SHA-256 of the files read (for provenance).
    """

    regions: tuple[str, ...]
    names: tuple[str, ...]
    trade: np.ndarray = field(repr=False)
    gdp: np.ndarray = field(repr=False)
    tariffs: np.ndarray = field(repr=False)
    files: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Number of regions."""
        return len(self.regions)

    def index(self, label: str, *, field: str = "region") -> int:
        """Position of a region given its ISO3 code or country name (case-insensitive).

        Raises
        ------
        DataError
            The label is not a region of the data set (with the closest codes).
        """
        key = str(label).strip().lower()
        for k, (c, nm) in enumerate(zip(self.regions, self.names, strict=True)):
            if key in (c.lower(), nm.lower()):
                return k
        raise DataError(
            f"{field} {label!r} is not a region of data set {DATASET!r}."
            f"{suggest(str(label), self.regions + self.names)} Use an ISO3 code from "
            f"country_labels.csv (e.g. USA, CHN, DEU)."
        )

    def trade_array(self) -> xr.DataArray:
        """The trade matrix as a labelled array with dims ``(exporter, importer)``."""
        import xarray as xr

        return xr.DataArray(
            self.trade,
            dims=("exporter", "importer"),
            coords={"exporter": list(self.regions), "importer": list(self.regions)},
            name="trade",
            attrs={"units": "thousands of USD", "year": 2023, "source": "BACI (CEPII)"},
        )


def load(folder: str | Path | None = None, *, tariff_file: str | Path | None = None) -> Liberation2025:
    """Load and check the ``liberation2025`` data set.

    Parameters
    ----------
    folder
        A folder holding the four files; default: the registered data set (mirror, cache or
        download, SHA-256 verified, see :func:`kaifang.data.locate`).
    tariff_file
        Optional replacement for ``tariffs.csv`` (same layout: column ``applied_tariff``, one
        row per region in label order), e.g. a user's own tariff schedule.

    Raises
    ------
    DataUnavailableError
        A file is missing (and cannot be downloaded).
    DataError
        A file is malformed (see the ``read_*`` functions).
    """
    from kaifang.data.store import locate, sha256

    paths: dict[str, Path] = {}
    for name in FILES:
        if folder is None:
            paths[name] = locate(DATASET, name)
        else:
            p = Path(folder) / name
            if not p.is_file():
                raise DataUnavailableError(
                    f"data file {name!r} of data set {DATASET!r} is missing from {str(folder)!r}. "
                    f"Put the file there, or leave the folder unset to use the registered data set "
                    f"(`kaifang data fetch {DATASET}`)."
                )
            paths[name] = p
    if tariff_file is not None:
        paths["tariffs.csv"] = Path(tariff_file)
    codes, names, trade, gdp = _read_base(paths)
    n = len(codes)
    tariffs = read_tariffs(paths["tariffs.csv"], n, codes)  # read every time: a user may edit it
    files = {name: sha256(p) for name, p in paths.items()}
    if tariff_file is not None:
        files = {k: v for k, v in files.items() if k != "tariffs.csv"}
        files[f"tariffs.csv (replaced by {Path(tariff_file).name})"] = sha256(Path(tariff_file))
    return Liberation2025(codes, names, trade.copy(), gdp.copy(), tariffs, files)


#: The labels, trade and GDP :func:`load` read last, by their files' paths, sizes and
#: modification times: the points of a sweep (and the validation and the solve of one run) parse
#: the 194 x 194 trade file once per process. A file that changes is read again.
_BASE: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[str, ...], np.ndarray, np.ndarray]] = (
    _warm.register("liberation2025", {}, 1, __name__)
)


def _read_base(
    paths: dict[str, Path],
) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray, np.ndarray]:
    from kaifang.data.store import file_signature

    key = tuple(file_signature(paths[f]) for f in ("country_labels.csv", "trade_cepii.csv", "gdp.csv"))
    got = _BASE.get(key)
    if got is None:
        codes, labels = read_labels(paths["country_labels.csv"])
        n = len(codes)
        got = (codes, labels, read_trade(paths["trade_cepii.csv"], n), read_gdp(paths["gdp.csv"], n))
        _BASE.clear()
        _BASE[key] = got
    return got
