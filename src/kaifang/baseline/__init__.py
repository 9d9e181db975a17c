"""Calibrated worlds (baselines) that models solve from.

* :mod:`kaifang.baseline.multisector` — the multi-sector world of Caliendo–Parro type (flows by
  importer, exporter and sector, tariffs, input-output shares, value-added shares, final-demand
  shares, deficits);
* :mod:`kaifang.baseline.inputoutput` — world input-output tables (intermediate and final sales,
  gross output), validated, for value-chain decompositions and for building multi-sector worlds.
"""

from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.baseline.multisector import MultiSectorBaseline, from_raw

__all__ = ["InputOutputTable", "MultiSectorBaseline", "from_raw"]
