"""Calibrated worlds (baselines) that models solve from: the one home of worlds and their builders.

* :mod:`kaifang.baseline.multisector` -- the multi-sector world of Caliendo-Parro type (flows by
  importer, exporter and sector, tariffs, input-output shares, value-added shares, final-demand
  shares, deficits), built from the cp2015 files (:func:`from_raw`);
* :mod:`kaifang.baseline.inputoutput` -- world input-output tables (intermediate and final sales,
  gross output), validated, for value-chain decompositions and for building multi-sector worlds;
* :mod:`kaifang.baseline.fromtable` -- a multi-sector world from any input-output table (the
  documented corrections, the calibration) and the table of a world (:func:`to_table`);
* :mod:`kaifang.baseline.aggregate` -- merging regions and sectors of a table;
* :mod:`kaifang.baseline.elasticities` -- default trade elasticities by industry, with sources;
* :mod:`kaifang.baseline.worlds` -- worlds by kind from any data set that provides the kind;
* :mod:`kaifang.baseline.onesector` -- the one-sector world of structural gravity;
* :mod:`kaifang.baseline.ims2025` -- the one-sector world of the 2025 tariff model (local-input
  share, transfers, domestic sales built from GDP).
"""

from kaifang.baseline.aggregate import aggregate, concordance
from kaifang.baseline.fromtable import Corrections, calibrate, from_table, prepare, to_table
from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.baseline.multisector import MultiSectorBaseline, from_raw
from kaifang.baseline.worlds import TableSpec, input_output_table, multisector_world, onesector_world

__all__ = [
    "Corrections",
    "InputOutputTable",
    "MultiSectorBaseline",
    "TableSpec",
    "aggregate",
    "calibrate",
    "concordance",
    "from_raw",
    "from_table",
    "input_output_table",
    "multisector_world",
    "onesector_world",
    "prepare",
    "to_table",
]
