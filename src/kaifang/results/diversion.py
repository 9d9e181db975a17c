"""Trade diversion and diversification: how each region's trade shifts across partners.

Pure functions from baseline and counterfactual bilateral flows to tidy tables, for any
model. Flows are arrays over ``(importer, exporter)`` or ``(importer, exporter, sector)``
(summed over sectors); domestic sales (the diagonal) are left out.

``diversion`` (one row per region, partner and direction):

* ``share_baseline_pct``, ``share_counterfactual_pct`` = 100 X_{r,p} / sum_q X_{r,q}: the
  partner's share of the region's exports (``flow = "exports"``, X_{r,p} = what p imports
  from r) or imports (``flow = "imports"``, what r imports from p);
* ``share_change_pp`` = counterfactual minus baseline share, in percentage points (these sum
  to zero over partners: trade diverted towards some partners is diverted away from others);
* ``value_change_pct`` = 100 (X'_{r,p} / X_{r,p} - 1);
* ``no_trade``: true when the baseline flow X_{r,p} is zero; then ``value_change_pct`` (and the
  shares, when the region has no such trade with anyone) are empty (NaN, ``null`` in JSON).

``diversification`` (one row per region and direction): the Herfindahl–Hirschman index of
partner shares, ``hhi = sum_p s_p^2`` (1 = a single partner), and the effective number of
partners ``1 / hhi``, baseline and counterfactual; ``no_trade`` is true when the region has no
trade in that direction before or after (the index is then empty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from kaifang.results._columns import Columns

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["diversification", "diversion", "diversion_tables"]


def _bilateral(flows: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(flows, dtype=float)
    if x.ndim == 3:
        x = x.sum(axis=2)
    if x.shape != (n, n):
        raise ValueError(f"flows have shape {np.shape(flows)}; expected ({n}, {n}) or ({n}, {n}, sectors)")
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError("flows must be finite and non-negative")
    x = x.copy()
    np.fill_diagonal(x, 0.0)
    return x


def _shares(x: np.ndarray) -> np.ndarray:
    """Row shares of ``x`` (NaN for a row with no trade)."""
    tot = x.sum(axis=1, keepdims=True)
    out = np.full(x.shape, np.nan)
    np.divide(x, tot, out=out, where=tot > 0)
    return out


def _directions(baseline: np.ndarray, counterfactual: np.ndarray, regions: Sequence[str]):
    n = len(regions)
    b = _bilateral(baseline, n)
    c = _bilateral(counterfactual, n)
    # imports of r from p: row r of (importer, exporter); exports of r to p: row r of the transpose
    return {"exports": (b.T, c.T), "imports": (b, c)}


def _diversion(baseline: np.ndarray, counterfactual: np.ndarray, regions: Sequence[str]) -> Columns:
    regions = [str(r) for r in regions]
    n = len(regions)
    rows = []
    ii, pp = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    off = (ii != pp).ravel()
    for flow, (b, c) in _directions(baseline, counterfactual, regions).items():
        sb, sc = _shares(b), _shares(c)
        vchg = np.full(b.shape, np.nan)
        np.divide(c, b, out=vchg, where=b > 0)
        rows.append(
            Columns(
                {
                    "region": np.array(regions)[ii.ravel()][off],
                    "partner": np.array(regions)[pp.ravel()][off],
                    "flow": np.full(int(off.sum()), flow),
                    "baseline": b.ravel()[off],
                    "counterfactual": c.ravel()[off],
                    "share_baseline_pct": 100 * sb.ravel()[off],
                    "share_counterfactual_pct": 100 * sc.ravel()[off],
                    "share_change_pp": 100 * (sc - sb).ravel()[off],
                    "value_change_pct": 100 * (vchg.ravel()[off] - 1.0),
                    "no_trade": ~(b.ravel()[off] > 0),
                }
            )
        )
    return Columns.concat(rows)


def _diversification(baseline: np.ndarray, counterfactual: np.ndarray, regions: Sequence[str]) -> Columns:
    regions = [str(r) for r in regions]
    out = []
    for flow, (b, c) in _directions(baseline, counterfactual, regions).items():
        hb = np.nansum(_shares(b) ** 2, axis=1)
        hc = np.nansum(_shares(c) ** 2, axis=1)
        hb = np.where(b.sum(axis=1) > 0, hb, np.nan)
        hc = np.where(c.sum(axis=1) > 0, hc, np.nan)
        out.append(
            Columns(
                {
                    "region": np.array(regions),
                    "flow": np.full(len(regions), flow),
                    "hhi_baseline": hb,
                    "hhi_counterfactual": hc,
                    "hhi_change": hc - hb,
                    "partners_baseline": 1.0 / hb,
                    "partners_counterfactual": 1.0 / hc,
                    "no_trade": ~((b.sum(axis=1) > 0) & (c.sum(axis=1) > 0)),
                }
            )
        )
    return Columns.concat(out)


def diversion(baseline: np.ndarray, counterfactual: np.ndarray, regions: Sequence[str]) -> pd.DataFrame:
    """Change of each region's export and import shares by partner region (see module doc)."""
    return _diversion(baseline, counterfactual, regions).to_pandas()


def diversification(baseline: np.ndarray, counterfactual: np.ndarray, regions: Sequence[str]) -> pd.DataFrame:
    """Partner concentration (HHI) and effective number of partners, before and after."""
    return _diversification(baseline, counterfactual, regions).to_pandas()


def diversion_tables(
    baseline: np.ndarray, counterfactual: np.ndarray, regions: Sequence[str]
) -> dict[str, Columns]:
    """``{"diversion": ..., "diversification": ...}``, ready to merge into a run's tables (as
    :class:`~kaifang.results.Columns`, which :class:`~kaifang.results.RunResult` turns into
    DataFrames when they are read)."""
    return {
        "diversion": _diversion(baseline, counterfactual, regions),
        "diversification": _diversification(baseline, counterfactual, regions),
    }
