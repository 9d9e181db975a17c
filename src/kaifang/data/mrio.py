"""Multi-region input-output tables as read from files: plain labelled arrays.

A :class:`RawMRIO` is what a reader found in a world input-output table (WIOD, OECD ICIO, a
user's own file), with nothing calibrated: intermediate sales ``Z``, final sales ``Y`` by
destination country and final-demand category, and gross output ``x`` as published. Rows and
columns are ordered **country first, then industry** (position ``s * N + i`` for region ``s`` and
industry ``i``). The calibrated, validated table that models and value-chain decompositions use
is :class:`kaifang.baseline.io.InputOutputTable`, built from this one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["RawMRIO"]


@dataclass(frozen=True, eq=False)
class RawMRIO:
    """A world input-output table as published (no corrections).

    Attributes
    ----------
    dataset
        Name of the data set (``"wiod2013"``, ``"icio"``, ``"mrio"`` for a user's file).
    year
        Year of the table (``None`` when the source has none).
    regions, sectors
        Region and industry labels, in array order.
    fd_categories
        Final-demand categories, in the order of the columns of each destination in ``Y``.
    Z
        Intermediate sales, ``(G N, G N)``: row ``(s, i)`` sells to column ``(r, j)``.
    Y
        Final sales, ``(G N, G K)``: columns ordered destination first, then category.
    x
        Gross output as published, ``(G N,)``; ``None`` when the source gives none (then it is
        the row sum of ``Z`` and ``Y``).
    value_added
        Value added as published, ``(G N,)``, or ``None`` (then ``x`` minus the column sums of
        ``Z``).
    units
        The money unit of every value, e.g. ``"millions of current US dollars"``.
    rounding
        The unit the published values are rounded to (1.0 for WIOD's integer millions, 0.0 when
        the values are not rounded); used to tell rounding from imbalance.
    files
        File name -> SHA-256 of what was read (provenance).
    notes
        What the reader did, in words (e.g. which rows it dropped).
    """

    dataset: str
    year: int | None
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    fd_categories: tuple[str, ...]
    Z: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    x: np.ndarray | None = field(default=None, repr=False)
    value_added: np.ndarray | None = field(default=None, repr=False)
    units: str = ""
    rounding: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
