"""kaifang's own PPML engine with high-dimensional fixed effects.

Public API: :func:`ppml_hdfe` (numpy arrays in), :func:`ppml_hdfe_frame` (pandas columns in),
the result :class:`HDFEFit` and the input errors.
"""

from __future__ import annotations

from ._core import ClusterError, HDFEFit, HDFEInputError, SeparationError, ppml_hdfe
from ._frame import HDFEFrameFit, ppml_hdfe_frame

__all__ = [
    "ClusterError",
    "HDFEFit",
    "HDFEFrameFit",
    "HDFEInputError",
    "SeparationError",
    "ppml_hdfe",
    "ppml_hdfe_frame",
]
