"""Calibrated worlds (baselines) that models solve from.

:mod:`kaifang.baseline.multisector` holds the multi-sector world of Caliendo–Parro type
(flows by importer, exporter and sector, tariffs, input-output shares, value-added shares,
final-demand shares, deficits).
"""

from kaifang.baseline.multisector import MultiSectorBaseline, from_raw

__all__ = ["MultiSectorBaseline", "from_raw"]
