"""Reader of the Caliendo–Parro (2015) NAFTA data set (``cp2015``).

Returns plain NumPy tables in the documented axis order; the calibrated world is built from
them by :func:`kaifang.baseline.multisector.from_raw`. The files are those of the paper's
replication package (Caliendo and Parro 2015, *Review of Economic Studies* 82(1)); their names
and checksums are registered in :mod:`kaifang.data.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kaifang.data.store import locate, sha256
from kaifang.errors import DataError

__all__ = [
    "REGIONS",
    "SECTORS",
    "SERVICE_THETA",
    "TRADABLE_SECTORS",
    "RawMultiSector",
    "read_cp2015",
    "read_tariffs",
]

#: Region codes (ISO3, ``ROW`` = rest of world) in the order of the data files.
REGIONS: tuple[str, ...] = (
    "ARG", "AUS", "AUT", "BRA", "CAN", "CHL", "CHN", "DNK", "FIN", "FRA", "DEU", "GRC", "HUN", "IND",
    "IDN", "IRL", "ITA", "JPN", "KOR", "MEX", "NLD", "NZL", "NOR", "PRT", "ZAF", "ESP", "SWE", "TUR",
    "GBR", "USA", "ROW",
)  # fmt: skip

#: Sector names in the order of the data files (the first 20 are tradable goods).
SECTORS: tuple[str, ...] = (
    "Agriculture", "Mining", "Food", "Textile", "Wood", "Paper", "Petroleum", "Chemicals", "Plastic",
    "Minerals", "Basic metals", "Metal products", "Machinery n.e.c.", "Office", "Electrical",
    "Communication", "Medical", "Auto", "Other transport", "Other manufacturing", "Electricity",
    "Construction", "Retail", "Hotels", "Land transport", "Water transport", "Air transport",
    "Auxiliary transport", "Post", "Finance", "Real estate", "Renting of machinery", "Computer", "R&D",
    "Other business", "Public", "Education", "Health", "Other services", "Private households",
)  # fmt: skip

TRADABLE_SECTORS = 20
#: Trade elasticity the paper uses for the (non-traded) service sectors.
SERVICE_THETA = 8.22


@dataclass(frozen=True)
class RawMultiSector:
    """Raw tables of a multi-sector data set in the Caliendo–Parro layout.

    Attributes
    ----------
    regions, sectors
        Labels, in array order.
    imports
        Bilateral imports at producer prices, shape ``(N, N, J)`` (importer, exporter, sector),
        zero on the diagonal and for non-traded sectors (domestic sales come from ``gross_output``).
    tariff
        Applied tariffs as fractions, ``(N, N, J)``.
    gross_output
        Gross output, ``(N, J)`` (region, sector).
    va_share
        Value-added share of gross output ``beta``, ``(N, J)``.
    io
        Input-output coefficients ``(N, J, J)``: ``io[n, k, j]`` = share of input ``k`` in sector
        ``j``'s intermediate spending in region ``n``.
    theta
        Trade elasticities, ``(J,)``.
    tradable
        Which sectors are traded, ``(J,)``.
    files
        Data file name -> SHA-256 (provenance).
    """

    dataset: str
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    imports: np.ndarray
    tariff: np.ndarray
    gross_output: np.ndarray
    va_share: np.ndarray
    io: np.ndarray
    theta: np.ndarray
    tradable: np.ndarray
    files: dict[str, str]
    synthetic: bool = False


def _load(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.loadtxt(path, dtype=float, ndmin=2)
    except ValueError as exc:
        raise DataError(
            f"{path}: not a table of numbers ({exc}); delete it and fetch the data set again."
        ) from None
    if arr.size != int(np.prod(shape)):
        raise DataError(
            f"{path}: expected {shape} numbers, found shape {arr.shape}; the file is not the cp2015 one."
        )
    return arr.reshape(shape)


def _bilateral(path: Path, n: int, jt: int) -> np.ndarray:
    """Rows ``j*N + n`` (importer n, sector j), columns exporter i -> ``(N, N, J_T)``."""
    raw = _load(path, (jt * n, n)).reshape(jt, n, n)  # (sector, importer, exporter)
    return np.ascontiguousarray(raw.transpose(1, 2, 0))


def read_tariffs(name: str = "tariffs2005") -> np.ndarray:
    """Tariff table ``name`` (``tariffs1993`` or ``tariffs2005``) as fractions, ``(N, N, J)``."""
    n, j, jt = len(REGIONS), len(SECTORS), TRADABLE_SECTORS
    out = np.zeros((n, n, j))
    out[:, :, :jt] = _bilateral(locate("cp2015", f"{name}.txt"), n, jt) / 100.0
    return out


def read_cp2015() -> RawMultiSector:
    """Read and checksum-verify the cp2015 files (mirror, cache or download).

    Returns
    -------
    RawMultiSector
        Flows in US dollars (``xbilat1993`` is in thousands and is multiplied by 1000).
    """
    n, j, jt = len(REGIONS), len(SECTORS), TRADABLE_SECTORS
    names = ("xbilat1993.txt", "tariffs1993.txt", "tariffs2005.txt", "GO.txt", "B.txt", "IO.txt", "T.txt")
    paths = {f: locate("cp2015", f) for f in names}
    imports = np.zeros((n, n, j))
    imports[:, :, :jt] = _bilateral(paths["xbilat1993.txt"], n, jt) * 1000.0
    tariff = read_tariffs("tariffs1993")
    go = _load(paths["GO.txt"], (j, n)).T.copy()
    beta = _load(paths["B.txt"], (j, n)).T.copy()
    io = _load(paths["IO.txt"], (n, j, j))  # region n: rows k (input), columns j (user)
    theta = np.full(j, SERVICE_THETA)
    theta[:jt] = _load(paths["T.txt"], (jt, 1))[:, 0]
    tradable = np.arange(j) < jt
    return RawMultiSector(
        dataset="cp2015",
        regions=REGIONS,
        sectors=SECTORS,
        imports=imports,
        tariff=tariff,
        gross_output=go,
        va_share=beta,
        io=io,
        theta=theta,
        tradable=tradable,
        files={f: sha256(p) for f, p in paths.items()},
    )
