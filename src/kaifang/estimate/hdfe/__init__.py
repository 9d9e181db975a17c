"""kaifang's own PPML engine with high-dimensional fixed effects.

Public API: :func:`ppml_hdfe` (numpy arrays in), :func:`ppml_hdfe_frame` (pandas columns in),
:func:`ols_hdfe` (least squares with the same fixed effects and standard errors), the result
:class:`HDFEFit`, the input errors and :func:`choose_threads` (the automatic thread count).
"""

from __future__ import annotations

from ._core import ClusterError, HDFEFit, HDFEInputError, SeparationError, ppml_hdfe
from ._frame import HDFEFrameFit, ppml_hdfe_frame
from ._ols import ols_hdfe
from ._threads import choose_threads

__all__ = [
    "ClusterError",
    "HDFEFit",
    "HDFEFrameFit",
    "HDFEInputError",
    "SeparationError",
    "choose_threads",
    "ols_hdfe",
    "ppml_hdfe",
    "ppml_hdfe_frame",
]
