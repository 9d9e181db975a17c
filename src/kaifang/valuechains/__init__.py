"""Value chains: where the value added in gross trade comes from.

Value-added decompositions of the gross exports in a world input-output table
(:class:`kaifang.baseline.InputOutputTable`), for the data and for the counterfactual world of a
multi-sector trade model (:mod:`kaifang.valuechains.counterfactual`):

* :func:`leontief` -- the Leontief (Hummels, Ishii and Yi 2001) value-added origin of exports,
  by country or by source and using industry (:func:`origin_matrix` as a labelled array);
* :func:`kww` -- the Koopman, Wang and Wei (2014) nine-term decomposition of each country's
  gross exports;
* :func:`wwz` -- the Wang, Wei and Zhu (2013) sixteen-term decomposition of bilateral (sector)
  exports (:func:`wwz_array` as a labelled array);
* :func:`indicators` -- VAX ratio, domestic and foreign value-added shares, indirect value-added
  exports, backward and forward GVC participation, the participation and position indices.

Each function takes a table, or the Leontief system :func:`prepare` computes once from it (one
``GN x GN`` inverse), and returns a tidy :class:`pandas.DataFrame`. Formulas, conventions and
the identities the results satisfy: ``docs/valuechains.md``.

Example
-------
>>> from kaifang.baseline import InputOutputTable
>>> from kaifang.data.wiod2013 import read_wiod2013
>>> from kaifang import valuechains as vc
>>> table = InputOutputTable.from_raw(read_wiod2013(2011))  # doctest: +SKIP
>>> system = vc.prepare(table)  # doctest: +SKIP
>>> vc.kww(system).set_index("country").loc["CHN"]  # doctest: +SKIP
"""

from __future__ import annotations

from kaifang.valuechains._api import (
    COUNTRY_INDICATORS,
    METHODS,
    SECTOR_INDICATORS,
    indicators,
    kww,
    leontief,
    origin_matrix,
    wwz,
    wwz_array,
)
from kaifang.valuechains._system import ValueChainError, ValueChains, prepare
from kaifang.valuechains._terms import KWW_TERMS, WWZ_TERMS

__all__ = [
    "COUNTRY_INDICATORS",
    "KWW_TERMS",
    "METHODS",
    "SECTOR_INDICATORS",
    "WWZ_TERMS",
    "ValueChainError",
    "ValueChains",
    "indicators",
    "kww",
    "leontief",
    "origin_matrix",
    "prepare",
    "wwz",
    "wwz_array",
]
