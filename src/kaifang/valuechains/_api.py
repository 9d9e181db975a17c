"""Public decompositions: tidy DataFrames (and xarray views) from a table or its Leontief system."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, get_args

import numpy as np
import pandas as pd

from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.errors import suggest
from kaifang.valuechains import _terms
from kaifang.valuechains._system import ValueChainError, ValueChains, prepare

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "COUNTRY_INDICATORS",
    "METHODS",
    "SECTOR_INDICATORS",
    "By",
    "Method",
    "check_option",
    "indicators",
    "kww",
    "leontief",
    "origin_matrix",
    "wwz",
    "wwz_array",
]

Method = Literal["leontief", "kww", "wwz", "indicators"]
#: The decompositions, by name (the CLI's ``--method``).
METHODS: tuple[str, ...] = get_args(Method)
LeontiefBy = Literal["country", "sector"]
WWZBy = Literal["pair", "sector"]
IndicatorsBy = Literal["country", "sector"]
By = Literal["country", "sector", "pair"]
FDC = Literal["residual", "closed"]

#: Columns of :func:`indicators` by country (after ``country``).
COUNTRY_INDICATORS: tuple[str, ...] = (
    "gross_exports",
    "vax",
    "vax_ratio",
    "dva",
    "dva_share",
    "dc",
    "dc_share",
    "fva",
    "fva_share",
    "dvx",
    "dvx_share",
    "dvx_hiy",
    "dvx_hiy_share",
    "gvc_backward",
    "gvc_forward",
    "gvc_participation",
    "gvc_position",
)
#: Columns of :func:`indicators` by sector (after ``country`` and ``sector``); no ``dvx_hiy``,
#: which is defined by the industry where value added is created, not the exporting one.
SECTOR_INDICATORS: tuple[str, ...] = tuple(c for c in COUNTRY_INDICATORS if not c.startswith("dvx_hiy"))


def check_option(value: str, valid: tuple[str, ...], what: str) -> str:
    """``value`` if it is one of ``valid``, else a :class:`ValueChainError` listing them."""
    if value in valid:
        return value
    raise ValueChainError(f"{what} {value!r} is not one of {', '.join(valid)}.{suggest(str(value), valid)}")


def _cat(labels: tuple[str, ...], codes: np.ndarray) -> pd.Categorical:
    # the codes come from _grid and are in range by construction
    return pd.Categorical.from_codes(codes, categories=list(labels), validate=False)


def _grid(*sizes: int) -> list[np.ndarray]:
    """Row-major codes of every axis of an array of shape ``sizes``, each ``(prod(sizes),)``."""
    total = int(np.prod(sizes))
    dtype = np.int16 if max(sizes) < 2**15 else np.int32
    out = []
    inner = total
    for k in sizes:
        inner //= k
        out.append(np.tile(np.repeat(np.arange(k, dtype=dtype), inner), total // (inner * k)))
    return out


# --------------------------------------------------------------------------- Leontief / HIY
def leontief(table: InputOutputTable | ValueChains, by: LeontiefBy = "country") -> pd.DataFrame:
    """Value-added origin of gross exports (Leontief; Hummels, Ishii and Yi 2001).

    ``H = diag(c) B diag(E)``: the value added created in each source that is embodied in the
    gross exports of each exporting (using) country or industry.

    Parameters
    ----------
    table
        The table, or its :func:`prepare`-d system.
    by
        ``"country"``: one row per source and using country, columns ``source``, ``using``,
        ``value`` (H_ts = m_ts E_s) and ``share`` (value / gross exports of ``using``);
        ``"sector"``: the full matrix in long form, columns ``source``, ``source_sector``,
        ``using``, ``using_sector``, ``value`` (decompr's long form).

    Returns
    -------
    pandas.DataFrame
        Values in the table's units. For each using industry with output, the values over all
        sources add up to its exports exactly.
    """
    check_option(by, get_args(LeontiefBy), "leontief: by")
    vc = prepare(table)
    g, n = vc.G, vc.N
    if by == "country":
        h = _terms.hiy_by_country(vc)
        t, s = _grid(g, g)
        ge = vc.gross_exports
        share = np.divide(h, ge[None, :], out=np.full_like(h, np.nan), where=ge[None, :] != 0)
        return pd.DataFrame(
            {
                "source": _cat(vc.regions, t),
                "using": _cat(vc.regions, s),
                "value": h.ravel(),
                "share": share.ravel(),
            }
        )
    h = _terms.hiy_matrix(vc)
    t, j, s, i = _grid(g, n, g, n)
    return pd.DataFrame(
        {
            "source": _cat(vc.regions, t),
            "source_sector": _cat(vc.sectors, j),
            "using": _cat(vc.regions, s),
            "using_sector": _cat(vc.sectors, i),
            "value": h.ravel(),
        }
    )


def origin_matrix(table: InputOutputTable | ValueChains) -> xr.DataArray:
    """The Leontief value-added origin matrix H as a labelled array.

    Dimensions ``source``, ``source_sector``, ``using``, ``using_sector``: the value added of
    industry ``source_sector`` of ``source`` embodied in the gross exports of industry
    ``using_sector`` of ``using``.
    """
    import xarray as xr

    vc = prepare(table)
    g, n = vc.G, vc.N
    return xr.DataArray(
        _terms.hiy_matrix(vc).reshape(g, n, g, n),
        dims=("source", "source_sector", "using", "using_sector"),
        coords={
            "source": list(vc.regions),
            "source_sector": list(vc.sectors),
            "using": list(vc.regions),
            "using_sector": list(vc.sectors),
        },
        name="value_added",
        attrs={"units": vc.table.units, "dataset": vc.table.dataset},
    )


# --------------------------------------------------------------------------- KWW
def kww(table: InputOutputTable | ValueChains, fdc: FDC = "residual") -> pd.DataFrame:
    """Koopman, Wang and Wei (2014): each country's gross exports in nine value-added terms.

    Parameters
    ----------
    table
        The table, or its :func:`prepare`-d system.
    fdc
        ``"residual"`` (default, decompr's choice): foreign double counting is gross exports less
        terms 1-8, so the nine terms add up to gross exports exactly; ``"closed"``: its closed
        form ``f_s sum_r A_sr L_rr E_r``, which differs from the residual by what the table's
        rounding leaves in the rows (zero for a balanced table).

    Returns
    -------
    pandas.DataFrame
        One row per country: ``country``, the nine terms (``DVA_FIN``, ``DVA_INT``,
        ``DVA_INTrex``, ``RDV_FIN``, ``RDV_INT``, ``DDC``, ``FVA_FIN``, ``FVA_INT``, ``FDC``) and
        ``texp`` (gross exports). Country level only: the terms are not additive by industry.
    """
    check_option(fdc, get_args(FDC), "kww: fdc")
    vc = prepare(table)
    terms, closed = _terms.kww_terms(vc)
    if fdc == "closed":
        terms = terms.copy()
        terms[:, 8] = closed
    df = pd.DataFrame(terms, columns=list(_terms.KWW_TERMS))
    df.insert(0, "country", _cat(vc.regions, np.arange(vc.G)))
    df["texp"] = vc.gross_exports
    return df


# --------------------------------------------------------------------------- WWZ
def wwz_array(table: InputOutputTable | ValueChains) -> xr.DataArray:
    """The sixteen WWZ terms as a labelled array with dimensions ``exporter``, ``sector``,
    ``importer`` and ``term``."""
    import xarray as xr

    vc = prepare(table)
    return xr.DataArray(
        _terms.wwz_terms(vc),
        dims=("exporter", "sector", "importer", "term"),
        coords={
            "exporter": list(vc.regions),
            "sector": list(vc.sectors),
            "importer": list(vc.regions),
            "term": list(_terms.WWZ_TERMS),
        },
        name="value_added",
        attrs={"units": vc.table.units, "dataset": vc.table.dataset},
    )


def wwz(table: InputOutputTable | ValueChains, by: WWZBy = "pair") -> pd.DataFrame:
    """Wang, Wei and Zhu (2013): bilateral (sector) gross exports in sixteen value-added terms.

    Parameters
    ----------
    table
        The table, or its :func:`prepare`-d system.
    by
        ``"pair"``: one row per exporter and importer (sums over exporting industries);
        ``"sector"``: one row per exporter, exporting industry (``sector``) and importer.

    Returns
    -------
    pandas.DataFrame
        ``exporter``, (``sector``,) ``importer``, the sixteen terms (``DVA_FIN``, ``DVA_INT``,
        ``DVA_INTrexI1``, ``DVA_INTrexF``, ``DVA_INTrexI2``, ``RDV_INT``, ``RDV_FIN``, ``RDV_FIN2``,
        ``OVA_FIN``, ``MVA_FIN``, ``OVA_INT``, ``MVA_INT``, ``DDC_FIN``, ``DDC_INT``, ``ODC``,
        ``MDC``), then ``texp`` (exports), ``texpint`` and ``texpfd`` (their intermediate and final
        parts), ``texpdiff`` = sum of the terms - texp, ``texpintdiff`` and ``texpfddiff`` (the
        same for the intermediate and final parts; zero in a balanced table) and ``DViX_Fsr``
        (home value added of the row's industry in the exports to the importer, by the industry
        where it is created, domestic rounds only). Rows with exporter = importer are zero.
    """
    check_option(by, get_args(WWZBy), "wwz: by")
    vc = prepare(table)
    g, n = vc.G, vc.N
    terms = _terms.wwz_terms(vc)  # [s, i, r, k]
    texp = vc.exports_to.reshape(g, n, g)
    tint = vc.intermediate_to.reshape(g, n, g)
    tfd = vc.final_to.reshape(g, n, g)
    dvix = _terms.domestic_forward(vc)
    if by == "pair":
        terms = terms.sum(axis=1)
        texp, tint, tfd, dvix = (a.sum(axis=1) for a in (texp, tint, tfd, dvix))
        s, r = _grid(g, g)
        labels = {"exporter": _cat(vc.regions, s), "importer": _cat(vc.regions, r)}
    else:
        s, i, r = _grid(g, n, g)
        labels = {
            "exporter": _cat(vc.regions, s),
            "sector": _cat(vc.sectors, i),
            "importer": _cat(vc.regions, r),
        }
    flat = terms.reshape(-1, 16)
    cols: dict[str, object] = dict(labels)
    for k, name in enumerate(_terms.WWZ_TERMS):
        cols[name] = flat[:, k]
    fin = flat[:, [0, 8, 9]].sum(axis=1)
    cols["texp"] = texp.ravel()
    cols["texpint"] = tint.ravel()
    cols["texpfd"] = tfd.ravel()
    cols["texpdiff"] = flat.sum(axis=1) - texp.ravel()
    cols["texpintdiff"] = (flat.sum(axis=1) - fin) - tint.ravel()
    cols["texpfddiff"] = fin - tfd.ravel()
    cols["DViX_Fsr"] = dvix.ravel()
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- indicators
def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.full(np.broadcast(a, b).shape, np.nan), where=b != 0)


def _shares(cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    ge = cols["gross_exports"]
    out = dict(cols)
    for name in ("vax", "dva", "dc", "fva", "dvx", "dvx_hiy"):
        if name in cols:
            out[f"{name}_share" if name != "vax" else "vax_ratio"] = _ratio(cols[name], ge)
    out["gvc_backward"] = out["fva_share"]
    out["gvc_forward"] = out["dvx_share"]
    out["gvc_participation"] = out["gvc_forward"] + out["gvc_backward"]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["gvc_position"] = np.log1p(out["gvc_forward"]) - np.log1p(out["gvc_backward"])
    return out


def indicators(table: InputOutputTable | ValueChains, by: IndicatorsBy = "country") -> pd.DataFrame:
    """Value-chain indicators of each country's (or exporting industry's) gross exports.

    Columns (levels in the table's units, shares of ``gross_exports``; NaN where a country or
    industry does not export):

    * ``gross_exports``: GE, all cross-border sales;
    * ``vax``, ``vax_ratio``: value-added exports, home value added absorbed abroad
      (KWW terms 1-3; Johnson and Noguera 2012), and VAX / GE;
    * ``dva``, ``dva_share``: domestic value added in exports that is part of home GDP
      (KWW terms 1-5);
    * ``dc``, ``dc_share``: domestic content of exports, m_ss E_s (Hummels, Ishii and Yi 2001;
      KWW terms 1-6, up to the table's rounding) -- the other common "DVA share";
    * ``fva``, ``fva_share``: foreign value added (vertical specialisation VS = f_s E_s);
    * ``dvx``, ``dvx_share``: indirect value-added exports, home value added in intermediates
      the importer re-exports to third countries where it is absorbed (KWW term 3; Koopman et
      al. 2010);
    * ``dvx_hiy``, ``dvx_hiy_share`` (by country only): home value added in all other
      countries' exports (HIY "VS1", including what returns home and double counting);
    * ``gvc_backward`` = ``fva_share``, ``gvc_forward`` = ``dvx_share``;
    * ``gvc_participation`` = gvc_forward + gvc_backward and
      ``gvc_position`` = ln(1 + gvc_forward) - ln(1 + gvc_backward) (Koopman et al. 2010).

    By sector (``country``, ``sector``), VAX, DVA and DVX are the matching WWZ terms summed over
    importers (terms 1-5, 1-8 and 4-5), DC and FVA the HIY terms of the exporting industry, so
    that industries add up to the country values exactly.
    """
    check_option(by, get_args(IndicatorsBy), "indicators: by")
    vc = prepare(table)
    g, n = vc.G, vc.N
    if by == "country":
        terms, _ = _terms.kww_terms(vc)
        h = _terms.hiy_by_country(vc)
        foreign = np.where(np.eye(g, dtype=bool), 0.0, h)  # H_ts, t != s
        cols = {
            "gross_exports": vc.gross_exports,
            "vax": terms[:, :3].sum(axis=1),
            "dva": terms[:, :5].sum(axis=1),
            "dc": np.diag(h).copy(),
            "fva": foreign.sum(axis=0),  # VS_s = sum over t != s of H_ts
            "dvx": terms[:, 2],
            "dvx_hiy": foreign.sum(axis=1),  # VS1_s = sum over r != s of H_sr
        }
        out = _shares(cols)
        df = pd.DataFrame({k: out[k] for k in COUNTRY_INDICATORS})
        df.insert(0, "country", _cat(vc.regions, np.arange(g)))
        return df
    w = _terms.wwz_terms(vc).sum(axis=2)  # [s, i, k] over importers
    E = vc.exports
    cols = {
        "gross_exports": E.ravel(),
        "vax": w[..., :5].sum(axis=-1).ravel(),
        "dva": w[..., :8].sum(axis=-1).ravel(),
        "dc": (vc.m_home * E).ravel(),
        "fva": (vc.f_foreign * E).ravel(),
        "dvx": w[..., 3:5].sum(axis=-1).ravel(),
    }
    out = _shares(cols)
    s, i = _grid(g, n)
    df = pd.DataFrame({k: out[k] for k in SECTOR_INDICATORS})
    df.insert(0, "sector", _cat(vc.sectors, i))
    df.insert(0, "country", _cat(vc.regions, s))
    return df
