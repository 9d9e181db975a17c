"""Several estimates side by side, in the style of R fixest's ``etable``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kaifang.estimate._ppml import PPMLEstimate, se_description, significance_stars

__all__ = ["etable"]


def etable(
    *estimates: PPMLEstimate,
    names: Sequence[str] | None = None,
    digits: int = 4,
    stars: bool = True,
) -> pd.DataFrame:
    """Put estimates side by side: one column per model, as fixest's ``etable`` does.

    Rows, top to bottom: ``Dependent Var.``; for every coefficient (in order of first
    appearance) its estimate with significance stars and, on the next row (labelled
    ``"<term> s.e."``), its standard error in parentheses; ``Fixed-Effects: <name>`` rows
    (``Yes`` or empty); ``S.E. type``; ``Observations``; ``Pseudo R2`` (PPML) or ``R2`` (least
    squares). A coefficient a model does not have is an empty cell.

    Parameters
    ----------
    *estimates
        The :class:`PPMLEstimate` objects, at least one.
    names
        Column headings; ``(1)``, ``(2)``, ... by default.
    digits
        Decimals of estimates, standard errors and R2.
    stars
        Append fixest's significance codes (``***`` p < 0.001, ``**`` < 0.01, ``*`` < 0.05,
        ``.`` < 0.1) to the estimates.

    Returns
    -------
    pandas.DataFrame
        Strings, indexed by row label; ``print(table.to_string())`` prints it.

    Raises
    ------
    ValueError
        Without estimates, or when ``names`` does not have one name per estimate.
    """
    if not estimates:
        raise ValueError("etable needs at least one estimate.")
    for k, est in enumerate(estimates):
        if not isinstance(est, PPMLEstimate):
            raise TypeError(f"etable: argument {k + 1} is a {type(est).__name__}, not a PPMLEstimate.")
    cols = list(names) if names is not None else [f"({k + 1})" for k in range(len(estimates))]
    if len(cols) != len(estimates):
        raise ValueError(
            f"etable: {len(cols)} names for {len(estimates)} estimates; give one name per estimate."
        )
    terms: list[str] = []
    fes: list[str] = []
    for est in estimates:
        terms += [t for t in est.coef.index if t not in terms]
        fes += [f for f in est.fixed_effects if f not in fes]
    rows: dict[str, list[str]] = {"Dependent Var.": [e.spec.depvar for e in estimates]}
    tables = [e.table().set_index("term") for e in estimates]
    for term in terms:
        est_row, se_row = [], []
        for e, tab in zip(estimates, tables, strict=True):
            if term in e.coef.index:
                p = float(tab.loc[term, "p_value"])
                mark = significance_stars(p) if stars else ""
                est_row.append(f"{e.coef[term]:.{digits}f}{mark}")
                se_row.append(f"({e.se[term]:.{digits}f})")
            else:
                est_row.append("")
                se_row.append("")
        rows[term] = est_row
        rows[f"{term} s.e."] = se_row
    for fe in fes:
        rows[f"Fixed-Effects: {fe}"] = ["Yes" if fe in e.fixed_effects else "" for e in estimates]
    rows["S.E. type"] = [se_description(e) for e in estimates]
    rows["Observations"] = [f"{e.nobs:,}" for e in estimates]
    for key, label in (("pseudo_r2", "Pseudo R2"), ("r2", "R2")):
        vals = [e.diagnostics.get(key) for e in estimates]
        if any(v is not None for v in vals):
            rows[label] = [f"{v:.{digits}f}" if v is not None and np.isfinite(v) else "" for v in vals]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=cols)
    table.index.name = None
    return table
