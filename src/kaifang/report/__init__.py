"""Reports: one self-contained HTML page (opens offline, prints to PDF) from one or more runs.

The page holds a headline table, welfare by country (with the model's decomposition where it
has one) and a world map coloured by it, trade changes and diversion by partner region, and
sector detail. Charts are plotly figures with plotly.js inlined; the map is inline SVG drawn
from country shapes shipped by a package (:mod:`kaifang.report.worldmap`). The file references
no ``http://`` or ``https://`` resource (:func:`offline_safe`).

``kaifang report RUN... --out report.html`` on the command line; from Python::

    from kaifang.report import write_report
    write_report([result], "report.html")
"""

from kaifang.report._impl import offline_safe, render_report, write_report
from kaifang.report.compare import compare_runs

__all__ = ["compare_runs", "offline_safe", "render_report", "write_report"]
