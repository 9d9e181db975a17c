"""Reader and downloader of the OECD Inter-Country Input-Output tables, 2023 edition (``icio``).

OECD (2023), *OECD Inter-Country Input-Output Database*, http://oe.cd/icio. One table per year,
1995-2020: 76 economies and the rest of the world (``ROW``) x 45 industries (ISIC rev. 4, codes
such as ``A01_02``, ``C26``, ``J61``), final sales to each economy in six categories (``HFCE``
households, ``NPISH`` non-profit institutions, ``GGFC`` government, ``GFCF`` gross fixed capital
formation, ``INVNT`` changes in inventories, ``DPABR`` direct purchases abroad by residents),
millions of current US dollars at basic prices.

The published CSV file (``ICIO2023_<year>.csv`` once fetched) has one row per
``<economy>_<industry>`` (e.g. ``AUS_A01_02``), then ``TLS`` (taxes less subsidies on products),
``VA`` (value added) and ``OUT`` (output); its columns are the same ``<economy>_<industry>``
labels, then ``<economy>_<category>`` (e.g. ``AUS_HFCE``) and ``OUT``. The extended tables split
China and Mexico (``CN1``/``CN2``, ``MX1``/``MX2``); they are summed into ``CHN`` and ``MEX``.

Parsing is done by pymrio (:func:`pymrio.parse_oecd`), the maintained MRIO library. Where it
falls short kaifang adds what it needs (each place is marked ``pymrio:`` in the code): pymrio's
downloader neither reports the size before downloading nor shows progress nor records a checksum,
so :func:`fetch_icio` downloads itself (from pymrio's table of download addresses); and pymrio
drops the published output row and column, so gross output is rebuilt as row sums (ICIO tables are
balanced by construction, so this equals the published ``OUT``) and the published value added
(``TLS`` + ``VA``) is checked against it.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kaifang.data.mrio import RawMRIO, cached_table, check_memory
from kaifang.data.store import cache_dir, download, locate_year, record_checksum, sha256
from kaifang.errors import DataError

__all__ = ["FD_CATEGORIES", "INDUSTRY_NAMES", "SECTORS", "YEARS", "bundle_of", "fetch_icio", "read_icio"]

#: Years of the 2023 edition.
YEARS: tuple[int, ...] = tuple(range(1995, 2021))

#: Final-demand categories of each economy, in column order.
FD_CATEGORIES: tuple[str, ...] = ("HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR")

#: The 45 industries of the 2023 edition (ISIC rev. 4) and their names.
INDUSTRY_NAMES: dict[str, str] = {
    "A01_02": "Agriculture, hunting, forestry",
    "A03": "Fishing and aquaculture",
    "B05_06": "Mining and quarrying, energy producing products",
    "B07_08": "Mining and quarrying, non-energy producing products",
    "B09": "Mining support service activities",
    "C10T12": "Food products, beverages and tobacco",
    "C13T15": "Textiles, textile products, leather and footwear",
    "C16": "Wood and products of wood and cork",
    "C17_18": "Paper products and printing",
    "C19": "Coke and refined petroleum products",
    "C20": "Chemical and chemical products",
    "C21": "Pharmaceuticals, medicinal chemical and botanical products",
    "C22": "Rubber and plastics products",
    "C23": "Other non-metallic mineral products",
    "C24": "Manufacture of basic metals",
    "C25": "Fabricated metal products",
    "C26": "Computer, electronic and optical equipment",
    "C27": "Electrical equipment",
    "C28": "Machinery and equipment, nec",
    "C29": "Motor vehicles, trailers and semi-trailers",
    "C30": "Other transport equipment",
    "C31T33": "Manufacturing nec; repair and installation of machinery and equipment",
    "D": "Electricity, gas, steam and air conditioning supply",
    "E": "Water supply; sewerage, waste management and remediation activities",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles",
    "H49": "Land transport and transport via pipelines",
    "H50": "Water transport",
    "H51": "Air transport",
    "H52": "Warehousing and support activities for transportation",
    "H53": "Postal and courier activities",
    "I": "Accommodation and food service activities",
    "J58T60": "Publishing, audiovisual and broadcasting activities",
    "J61": "Telecommunications",
    "J62_63": "IT and other information services",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support services",
    "O": "Public administration and defence; compulsory social security",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
    "T": "Activities of households as employers",
}

#: Industry codes in table order (for the scenario builder).
SECTORS: tuple[str, ...] = tuple(INDUSTRY_NAMES)

#: The five-year bundles the OECD distributes the 2023 edition in.
BUNDLES: tuple[tuple[int, int], ...] = ((1995, 2000), (2001, 2005), (2006, 2010), (2011, 2015), (2016, 2020))

_SPLIT_REGIONS = {"CN1": "CHN", "CN2": "CHN", "MX1": "MEX", "MX2": "MEX"}


def file_name(year: int) -> str:
    """Name of one year's table in the cache or mirror (``ICIO2023_<year>.csv``)."""
    return f"ICIO2023_{year}.csv"


def _check_year(year: object) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or year not in YEARS:
        raise DataError(
            f"data set 'icio' has no year {year!r}; the 2023 edition covers {YEARS[0]}-{YEARS[-1]} "
            f"(set [baseline] year, or --year, to one of {', '.join(map(str, YEARS))})."
        )
    return year


def bundle_of(year: int) -> tuple[int, int]:
    """The five-year bundle (first, last year) that holds ``year``."""
    _check_year(year)
    return next(b for b in BUNDLES if b[0] <= year <= b[1])


def _bundle_url(bundle: tuple[int, int]) -> str:
    # pymrio: its table of the OECD's download addresses (the addresses are not listed elsewhere
    # in machine-readable form); its downloader is not used (no size, progress or checksum).
    from pymrio.tools.iodownloader import OECD_CONFIG

    return OECD_CONFIG["datafiles"]["v2023"][f"{bundle[0]}-{bundle[1]}"]


def fetch_icio(
    years: Sequence[int],
    *,
    announce: Callable[[str], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    url_for: Callable[[tuple[int, int]], str] | None = None,
    overwrite: bool = False,
) -> dict[int, Path]:
    """Download years of the 2023 edition into the cache (``<cache>/icio/ICIO2023_<year>.csv``).

    Each five-year bundle needed is downloaded once (its size is announced before the body is
    read), the requested years' CSV files are extracted from it, their SHA-256 recorded in
    ``<cache>/icio/checksums.json`` (and checked on every later read) and the zip is deleted.

    Parameters
    ----------
    years
        Years to fetch (1995-2020).
    announce
        Called with a sentence before each download (what, from where, how large).
    progress
        Called with (bytes so far, total bytes or ``None``) during each download.
    url_for
        Download address of a bundle (default: the OECD's, as listed by pymrio).
    overwrite
        Download again even when a year is already in the cache.

    Returns
    -------
    dict
        Year -> path of its CSV file.
    """
    years = sorted({_check_year(y) for y in years})
    folder = cache_dir() / "icio"
    out: dict[int, Path] = {}
    todo: dict[tuple[int, int], list[int]] = {}
    for y in years:
        p = folder / file_name(y)
        if p.is_file() and not overwrite:
            out[y] = p
        else:
            todo.setdefault(bundle_of(y), []).append(y)
    for bundle, want in todo.items():
        url = (url_for or _bundle_url)(bundle)
        zpath = folder / f"ICIO2023_{bundle[0]}-{bundle[1]}.zip"

        def say(
            total: int | None, bundle: tuple[int, int] = bundle, url: str = url, want: list[int] = want
        ) -> None:
            size = f"{total / 1e6:,.0f} MB" if total else "size not given by the server (several hundred MB)"
            if announce is not None:
                announce(
                    f"icio: downloading the {bundle[0]}-{bundle[1]} bundle of the 2023 edition from {url}: "
                    f"{size}; keeping {', '.join(map(str, want))}"
                )

        download(url, zpath, announce=say, progress=progress)
        zip_sha = sha256(zpath)
        try:
            with zipfile.ZipFile(zpath) as zf:
                members = [m for m in zf.namelist() if m.lower().endswith(".csv")]
                for y in want:
                    hits = [m for m in members if str(y) in Path(m).name]
                    if not hits:
                        raise DataError(
                            f"{zpath}: the bundle holds no CSV file for {y} (files: {', '.join(members)}); "
                            f"the OECD may have changed its files. Download the year by hand and put it at "
                            f"{folder / file_name(y)}."
                        )
                    target = folder / file_name(y)
                    with zf.open(hits[0]) as src, target.open("wb") as dst:
                        shutil.copyfileobj(src, dst, length=1 << 20)
                    record_checksum(target, source=f"{url} ({Path(hits[0]).name}; zip SHA-256 {zip_sha})")
                    out[y] = target
        except zipfile.BadZipFile:
            raise DataError(
                f"{zpath}: the download from {url} is not a zip archive (the address may have changed); "
                f"download the year's CSV by hand from oe.cd/icio."
            ) from None
        finally:
            zpath.unlink(missing_ok=True)
    return out


def _header_labels(path: Path) -> tuple[list[str], list[str], list[str]]:
    """Regions, industries and final-demand categories, in file order, from the header line."""
    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = fh.readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read the file ({exc}).") from None
    cols = [c.strip().strip('"') for c in header.rstrip("\r\n").split(",")][1:]
    regions: dict[str, None] = {}
    sectors: dict[str, None] = {}
    cats: dict[str, None] = {}
    for c in cols:
        if c in ("OUT", "TOTAL") or "_" not in c:
            continue
        r, rest = c.split("_", 1)
        if rest in FD_CATEGORIES:
            cats[rest] = None
        else:
            regions[r] = None
            sectors[rest] = None
    if not regions or not sectors:
        raise DataError(
            f"{path}: not an OECD ICIO table: its header has no <economy>_<industry> columns (first "
            f"columns: {', '.join(cols[:5]) or 'none'})."
        )
    return list(regions), list(sectors), list(cats)


def read_icio(year: int | None = None, *, path: str | Path | None = None) -> RawMRIO:
    """Read one year of the OECD ICIO tables (2023 edition).

    Parameters
    ----------
    year
        1995-2020; the file is taken from the mirror or the cache (``kaifang data fetch icio
        --year YEAR`` puts it there).
    path
        Read this CSV file instead (the year is then taken from its name where it has one).

    Returns
    -------
    RawMRIO
        Regions as published (``CHN`` and ``MEX`` with their split tables summed), the 45
        industries, six final-demand categories, value added ``TLS + VA``.

    Raises
    ------
    DataError
        A year the edition does not have (listing the years), a missing file (saying how to get
        it), a file that is not an ICIO table, or a table too large for memory (before reading).
    """
    if path is None:
        if year is None:
            raise DataError("data set 'icio' needs a year: set [baseline] year (1995-2020).")
        p = locate_year("icio", _check_year(year))
    else:
        p = Path(path)  # cached_table says so when it is not a file
    return cached_table("icio", year, p, lambda: _parse(p, year))


def _parse(p: Path, year: int | None) -> RawMRIO:
    head_regions, head_sectors, head_cats = _header_labels(p)
    check_memory(p, len(head_regions), len(head_sectors), max(len(head_cats), 1))
    import pymrio

    try:
        io = pymrio.parse_oecd(str(p))
        Zdf, Ydf = io.Z, io.Y
        F = io.factor_inputs.F
    except Exception as exc:  # pymrio raises many kinds on a malformed file
        raise DataError(
            f"{p}: not an OECD ICIO table ({type(exc).__name__}: {exc}); expected the CSV of one year of the "
            f"2023 edition (rows <economy>_<industry>, TLS, VA, OUT)."
        ) from None
    # pymrio: its parser sorts the labels; keep the published order (that of the header)
    parsed_regions = {str(r) for r in Zdf.index.get_level_values(0)}
    regions = tuple(r for r in head_regions if r in parsed_regions)
    sectors = tuple(head_sectors)
    left = sorted(set(regions) & set(_SPLIT_REGIONS))
    if left:
        raise DataError(
            f"{p}: split regions {left} were not summed into CHN and MEX (the file has no CHN or MEX rows "
            f"beside them); this does not look like an ICIO 2023 table."
        )
    order = [(r, s) for r in regions for s in sectors]
    try:
        Z = Zdf.reindex(index=order, columns=order).to_numpy(dtype=float)
        cats = tuple(c for c in FD_CATEGORIES if c in set(Ydf.columns.get_level_values(1)))
        extra = sorted(set(Ydf.columns.get_level_values(1)) - set(cats))
        if extra:
            raise DataError(
                f"{p}: unknown final-demand columns {extra}; the 2023 edition has {', '.join(FD_CATEGORIES)}."
            )
        Y = Ydf.reindex(index=order, columns=[(r, c) for r in regions for c in cats]).to_numpy(dtype=float)
        va = F.reindex(columns=order).to_numpy(dtype=float).sum(axis=0)
    except KeyError as exc:
        raise DataError(f"{p}: the table's rows and columns do not match ({exc}).") from None
    for name, arr in (("intermediate", Z), ("final", Y)):
        if np.isnan(arr).any():
            r, c = np.argwhere(np.isnan(arr))[0]
            raise DataError(
                f"{p}: the {name} block has no value for row {order[r][0]}_{order[r][1]}, column {c}: the rows "
                f"and columns of the table disagree (every economy must appear in both)."
            )
    got_year = year
    if got_year is None:
        import re

        found = re.findall(r"(?:19|20)\d\d", p.name.replace("ICIO2023", ""))
        got_year = int(found[-1]) if found else None
    return RawMRIO(
        dataset="icio",
        year=got_year,
        regions=regions,
        sectors=sectors,
        fd_categories=cats,
        Z=Z,
        Y=Y,
        x=None,
        value_added=va,
        units="millions of current US dollars (basic prices)",
        rounding=0.0,
        files={p.name: sha256(p)},
        notes=(
            f"OECD ICIO 2023 edition, {got_year or 'year not given'}, parsed by pymrio "
            f"{pymrio.__version__} (CN1/CN2 and MX1/MX2 summed into CHN and MEX where present)",
        ),
    )
