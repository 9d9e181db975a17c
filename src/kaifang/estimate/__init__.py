"""Gravity estimation: PPML (and OLS) with high-dimensional fixed effects, panel tools, specs.

``kaifang.estimate.ppml(data, depvar, regressors, fixed_effects, cluster=None, weights=None,
offset=None, engine="kaifang") -> PPMLEstimate`` is the entry point (``est.summary()`` prints a
coefficient table, :func:`etable` several estimates side by side); see
:mod:`kaifang.estimate._ppml` for the standard-error conventions and the engine dispatch.
"""

from kaifang.estimate._etable import etable
from kaifang.estimate._ppml import PPMLEstimate, PPMLSpec, ols, ppml
from kaifang.estimate.panel import (
    add_border_year_dummies,
    add_lags,
    add_pair_id,
    filter_years,
    keep_domestic,
    square_panel,
    validate_panel,
)
from kaifang.estimate.spec import EstimationFileSpec, EstimationSpec, load_spec, run_spec

__all__ = [
    "EstimationFileSpec",
    "EstimationSpec",
    "PPMLEstimate",
    "PPMLSpec",
    "add_border_year_dummies",
    "add_lags",
    "add_pair_id",
    "etable",
    "filter_years",
    "keep_domestic",
    "load_spec",
    "ols",
    "ppml",
    "run_spec",
    "square_panel",
    "validate_panel",
]
