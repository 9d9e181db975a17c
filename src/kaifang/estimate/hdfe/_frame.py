"""Thin pandas front end of :func:`ppml_hdfe`: column names in, labelled results out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kaifang.errors import suggest

from ._core import ClusterError, HDFEFit, HDFEInputError, ppml_hdfe

FixedEffectSpec = str | Sequence[str]


@dataclass(frozen=True)
class HDFEFrameFit:
    """Labelled view of an :class:`HDFEFit`.

    Attributes
    ----------
    fit
        The underlying array-level result.
    coef, se
        Coefficients and standard errors indexed by regressor name (dropped collinear
        regressors are absent; see ``fit.collinear``).
    vcov
        Covariance matrix labelled by regressor name.
    fixed_effects
        One Series per fixed-effect dimension, indexed by the group label (a tuple for an
        interaction such as ``("exporter", "year")``), groups in the estimation sample only.
    """

    fit: HDFEFit
    coef: pd.Series
    se: pd.Series
    vcov: pd.DataFrame
    fixed_effects: dict[str, pd.Series]

    def table(self) -> pd.DataFrame:
        """Coefficients, standard errors and z statistics, one row per regressor."""
        return pd.DataFrame({"coef": self.coef, "se": self.se, "z": self.coef / self.se})


def _column(data: pd.DataFrame, name: str, role: str) -> pd.Series:
    if name not in data.columns:
        raise HDFEInputError(
            f"{role} column {name!r} is not in the data (columns: {', '.join(map(str, data.columns))})."
            + suggest(name, map(str, data.columns))
        )
    return data[name]


def _codes(data: pd.DataFrame, spec: FixedEffectSpec) -> tuple[str, np.ndarray, pd.Index]:
    cols = [spec] if isinstance(spec, str) else list(spec)
    frame = pd.DataFrame({c: _column(data, c, "fixed-effect") for c in cols})
    missing = frame.isna().any(axis=1)
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise HDFEInputError(
            f"fixed-effect column(s) {cols} have {int(missing.sum())} missing value(s) "
            f"(first at row {i}); drop those rows first."
        )
    name = "_".join(cols)
    if len(cols) == 1:
        codes, labels = pd.factorize(frame[cols[0]], sort=True)
        return name, codes.astype(np.int64), pd.Index(labels, name=name)
    mi = pd.MultiIndex.from_frame(frame)
    codes, labels = pd.factorize(mi, sort=True)
    return name, codes.astype(np.int64), pd.Index(labels, name=name)


def ppml_hdfe_frame(
    data: pd.DataFrame,
    depvar: str,
    regressors: Sequence[str],
    fixed_effects: Sequence[FixedEffectSpec],
    *,
    cluster: str | Sequence[str] | None = None,
    weights: str | None = None,
    offset: str | None = None,
    **options: object,
) -> HDFEFrameFit:
    """PPML with high-dimensional fixed effects on a DataFrame.

    Parameters
    ----------
    data
        One row per observation.
    depvar
        Dependent-variable column (``>= 0``).
    regressors
        Regressor columns.
    fixed_effects
        Fixed-effect dimensions: a column name, or a sequence of names for their interaction,
        e.g. ``[("exporter", "year"), ("importer", "year"), "pair_id"]``.
    cluster
        One column, or two for two-way clustering.
    weights, offset
        Optional weight and offset columns.
    **options
        Passed to :func:`ppml_hdfe` (``tol``, ``separation``, ``vcov``, ...).

    Returns
    -------
    HDFEFrameFit
    """
    if not isinstance(data, pd.DataFrame):
        raise HDFEInputError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    y = _column(data, depvar, "dependent-variable").to_numpy(dtype=np.float64, na_value=np.nan)
    regressors = [regressors] if isinstance(regressors, str) else list(regressors)
    X = (
        np.column_stack(
            [_column(data, r, "regressor").to_numpy(dtype=np.float64, na_value=np.nan) for r in regressors]
        )
        if regressors
        else None
    )
    fes = [_codes(data, s) for s in fixed_effects]
    cl = None
    if cluster is not None:
        cnames = [cluster] if isinstance(cluster, str) else list(cluster)
        cl = []
        for c in cnames:
            try:
                col = _column(data, c, "cluster")
            except HDFEInputError as e:
                raise ClusterError(str(e)) from None
            if col.isna().any():
                raise ClusterError(
                    f"cluster column {c!r} has {int(col.isna().sum())} missing value(s); every row needs a cluster."
                )
            cl.append(pd.factorize(col)[0])
    w = None if weights is None else _column(data, weights, "weight").to_numpy(dtype=np.float64)
    off = None if offset is None else _column(data, offset, "offset").to_numpy(dtype=np.float64)
    fit = ppml_hdfe(
        y,
        X,
        [c for _, c, _ in fes],
        weights=w,
        offset=off,
        cluster=cl,
        names=regressors,
        fe_names=[n for n, _, _ in fes],
        **options,  # type: ignore[arg-type]
    )
    keep = ~np.isnan(fit.coef)
    names = [n for n, k in zip(fit.names, keep, strict=True) if k]
    coef = pd.Series(fit.coef[keep], index=names, name="coef")
    se = pd.Series(fit.se[keep], index=names, name="se")
    vcov = pd.DataFrame(fit.vcov[np.ix_(keep, keep)], index=names, columns=names)
    fe_out = {}
    for (name, _, labels), arr in zip(fes, fit.fixed_effects, strict=True):
        present = ~np.isnan(arr)
        fe_out[name] = pd.Series(arr[present], index=labels[present], name=name)
    return HDFEFrameFit(fit=fit, coef=coef, se=se, vcov=vcov, fixed_effects=fe_out)
