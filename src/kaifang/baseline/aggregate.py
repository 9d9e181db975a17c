"""Aggregation of world input-output tables: merging regions and sectors.

An aggregation is a concordance: each new region (sector) is a list of existing ones; every
existing label belongs to at most one new label, and those not listed go into one rest
aggregate (``ROW`` for regions, ``other`` for sectors). The aggregated table sums flows --
intermediate sales ``Z``, final sales ``Y`` (destinations merged, categories kept) and gross
output ``x`` -- so value added and every share recomputed from it are those of the merged units
(e.g. an input-output coefficient of a merged sector is the output-weighted mean of its members').
Flows between members of one merged region become domestic.

In matrix form, with the ``(G'N', GN)`` 0-1 concordance ``C = R (x) S`` (Kronecker product of the
region and sector concordances), ``Z' = C Z C'``, ``Y' = C Y (R (x) I_K)'`` and ``x' = C x``
(e.g. Miller and Blair, *Input-Output Analysis*, 2nd ed., 2009, ch. 4 on aggregation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.errors import BaselineError, suggest

__all__ = ["Concordance", "aggregate", "concordance"]


@dataclass(frozen=True)
class Concordance:
    """New labels and, for each, the old labels it merges (in the old order)."""

    labels: tuple[str, ...]
    members: tuple[tuple[str, ...], ...]
    index: np.ndarray  # old position -> new position

    def matrix(self, n_old: int) -> np.ndarray:
        """The ``(new, old)`` 0-1 matrix."""
        m = np.zeros((len(self.labels), n_old))
        m[self.index, np.arange(n_old)] = 1.0
        return m

    def as_dict(self) -> dict[str, list[str]]:
        """New label -> old labels (for provenance)."""
        return {lab: list(mem) for lab, mem in zip(self.labels, self.members, strict=True)}


def concordance(
    old: Sequence[str],
    groups: Mapping[str, Sequence[str]] | None,
    *,
    rest: str,
    what: str = "region",
    source: str = "<aggregation>",
    field: str = "baseline.regions",
) -> Concordance:
    """Build a concordance from ``new label -> old labels``; unlisted labels go into ``rest``.

    Raises
    ------
    BaselineError
        An unknown old label (with the closest), a label in two groups, an empty group, or a new
        label used twice.
    """
    old = list(old)
    pos = {lab: k for k, lab in enumerate(old)}
    if not groups:
        return Concordance(tuple(old), tuple((lab,) for lab in old), np.arange(len(old)))
    owner: dict[str, str] = {}
    labels: list[str] = []
    members: list[list[str]] = []
    for new, mem in groups.items():
        new = str(new)
        mem = [mem] if isinstance(mem, str) else list(mem)
        if not mem:
            raise BaselineError(
                f"{source}: field '{field}.{new}' is an empty list; name at least one {what}."
            )
        for m in mem:
            m = str(m)
            if m not in pos:
                raise BaselineError(
                    f"{source}: field '{field}.{new}': unknown {what} {m!r}.{suggest(m, old)} "
                    f"The table's {what}s: {', '.join(old)}."
                )
            if m in owner and owner[m] != new:
                raise BaselineError(
                    f"{source}: field '{field}': {what} {m!r} is put into both {owner[m]!r} and {new!r}; "
                    f"each {what} belongs to one aggregate."
                )
            owner[m] = new
        labels.append(new)
        members.append(list(dict.fromkeys(str(m) for m in mem)))
    unlisted = [lab for lab in old if lab not in owner]
    if unlisted:
        if rest in labels:
            members[labels.index(rest)] += unlisted
        else:
            labels.append(rest)
            members.append(unlisted)
        for lab in unlisted:
            owner[lab] = rest
    index = np.array([labels.index(owner[lab]) for lab in old], dtype=int)
    ordered = tuple(tuple(lab for lab in old if owner[lab] == new) for new in labels)
    return Concordance(tuple(labels), ordered, index)


def aggregate(
    table: InputOutputTable,
    *,
    regions: Concordance | Mapping[str, Sequence[str]] | None = None,
    sectors: Concordance | Mapping[str, Sequence[str]] | None = None,
    rest_region: str = "ROW",
    rest_sector: str = "other",
    source: str = "<aggregation>",
) -> InputOutputTable:
    """The table with regions and/or sectors merged (module docstring).

    Parameters
    ----------
    table
        The table to aggregate.
    regions, sectors
        ``new label -> old labels`` (or a :class:`Concordance`); ``None`` keeps them as they are.
        Labels not listed go into ``rest_region`` / ``rest_sector``.
    source
        Where the mapping comes from (the scenario file), for messages.

    Returns
    -------
    InputOutputTable
        Validated; :attr:`~InputOutputTable.notes` records the merges.
    """
    rc = (
        regions
        if isinstance(regions, Concordance)
        else concordance(table.regions, regions, rest=rest_region, what="region", source=source)
    )
    sc = (
        sectors
        if isinstance(sectors, Concordance)
        else concordance(
            table.sectors, sectors, rest=rest_sector, what="sector", source=source, field="baseline.sectors"
        )
    )
    g, n, k = table.n_regions, table.n_sectors, len(table.fd_categories)
    g2, n2 = len(rc.labels), len(sc.labels)
    R, S = rc.matrix(g), sc.matrix(n)
    Z4 = table.Z.reshape(g, n, g, n)
    # Z' = C Z C' with C = R (x) S, one axis at a time
    Z4 = np.einsum("ag,gnhm->anhm", R, Z4)
    Z4 = np.einsum("bn,anhm->abhm", S, Z4)
    Z4 = np.einsum("ch,abhm->abcm", R, Z4)
    Z4 = np.einsum("dm,abcm->abcd", S, Z4)
    Y4 = table.Y.reshape(g, n, g, k)
    Y4 = np.einsum("ag,gnhk->anhk", R, Y4)
    Y4 = np.einsum("bn,anhk->abhk", S, Y4)
    Y4 = np.einsum("ch,abhk->abck", R, Y4)
    x2 = (R @ table.x.reshape(g, n) @ S.T).reshape(-1)
    notes = list(table.notes)
    merged_r = {lab: m for lab, m in zip(rc.labels, rc.members, strict=True) if m != (lab,)}
    merged_s = {lab: m for lab, m in zip(sc.labels, sc.members, strict=True) if m != (lab,)}
    if merged_r:
        notes.append(
            "regions aggregated: " + "; ".join(f"{lab} = {' + '.join(m)}" for lab, m in merged_r.items())
        )
    if merged_s:
        notes.append(
            "sectors aggregated: " + "; ".join(f"{lab} = {' + '.join(m)}" for lab, m in merged_s.items())
        )
    # each aggregated value sums up to (members of its row) x (members of its column) rounded values
    m_r = max(len(m) for m in rc.members) * max(len(m) for m in sc.members)
    return table.replace(
        regions=rc.labels,
        sectors=sc.labels,
        Z=Z4.reshape(g2 * n2, g2 * n2),
        Y=Y4.reshape(g2 * n2, g2 * k),
        x=x2,
        rounding=table.rounding * m_r * m_r,
        notes=tuple(notes),
    )
