"""World input-output tables: the validated, labelled table that value chains and models read.

Notation (G regions, N industries, K final-demand categories; positions ``s * N + i``, region
first, then industry):

* ``Z`` — intermediate sales, ``(GN, GN)``: entry ``((s, i), (r, j))`` is what industry ``i`` of
  region ``s`` sells to industry ``j`` of region ``r``;
* ``Y`` — final sales, ``(GN, GK)``, columns ordered destination region first, then category;
* ``x`` — gross output, ``(GN,)``, as supplied with the table (not recomputed from the rows:
  published tables are rounded, so rows add up to ``x`` only to rounding);
* value added ``v = x - Z'1`` (gross output less the column sums of intermediate inputs).

A table is validated once, when it is built (:meth:`InputOutputTable.__post_init__`), and never
changed afterwards; corrections such as :meth:`InputOutputTable.balanced` return a new table and
record what they did in :attr:`InputOutputTable.notes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from kaifang.errors import BaselineError

if TYPE_CHECKING:
    import xarray as xr

    from kaifang.data.mrio import RawMRIO

__all__ = ["BALANCE_RTOL", "InputOutputTable"]

#: Largest row gap |x - Z1 - Y1| accepted, as a share of the row's output, beyond what the
#: table's rounding explains. A table off by more is not a consistent input-output table.
BALANCE_RTOL = 0.01


@dataclass(frozen=True, eq=False)
class InputOutputTable:
    """A world (multi-region) input-output table, immutable and validated on creation.

    Parameters
    ----------
    regions, sectors
        Region and industry labels in array order (unique).
    fd_categories
        Final-demand categories in the column order of each destination (unique).
    Z
        Intermediate sales, ``(G N, G N)``, non-negative.
    Y
        Final sales, ``(G N, G K)``; may be negative where a category is a change in
        inventories.
    x
        Gross output, ``(G N,)``, non-negative.
    dataset, year
        Where the table comes from.
    units
        Money unit of every value (e.g. ``"millions of current US dollars"``).
    rounding
        Unit the values are rounded to (1 for integer millions, 0 when unrounded); the balance
        check allows for it.
    files
        Data file name -> SHA-256 (provenance).
    notes
        What was done to the published table, one entry per step (provenance).
    balance_rtol
        Largest accepted row gap as a share of the row's output (beyond rounding).

    Raises
    ------
    BaselineError
        On shapes that do not fit the labels, non-finite values, negative intermediate flows or
        output, an industry with zero output that buys inputs, or a row whose sales differ from
        its output by more than rounding and ``balance_rtol``; the message names the row and the
        value at fault.
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    fd_categories: tuple[str, ...]
    Z: np.ndarray = field(repr=False)
    Y: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    dataset: str = ""
    year: int | None = None
    units: str = ""
    rounding: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    balance_rtol: float = BALANCE_RTOL

    def __post_init__(self) -> None:
        for name in ("Z", "Y", "x"):
            arr = np.array(getattr(self, name), dtype=float)  # a private, read-only copy
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        for name in ("regions", "sectors", "fd_categories"):
            object.__setattr__(self, name, tuple(str(v) for v in getattr(self, name)))
        object.__setattr__(self, "notes", tuple(self.notes))
        self._validate()

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_raw(cls, raw: RawMRIO, **kwargs: Any) -> InputOutputTable:
        """The table a reader returned (:class:`kaifang.data.mrio.RawMRIO`), validated.

        Gross output is the published one; where the source gives none it is the row sum of
        ``Z`` and ``Y`` (recorded in :attr:`notes`). Published value added, where given, must
        agree with ``x - Z'1`` up to rounding.
        """
        notes = list(raw.notes)
        Z, Y = np.asarray(raw.Z, dtype=float), np.asarray(raw.Y, dtype=float)
        if raw.x is None:
            x = Z.sum(axis=1) + Y.sum(axis=1)
            notes.append("gross output = row sums of intermediate and final sales (none supplied)")
        else:
            x = np.asarray(raw.x, dtype=float)
        table = cls(
            regions=raw.regions,
            sectors=raw.sectors,
            fd_categories=raw.fd_categories,
            Z=Z,
            Y=Y,
            x=x,
            dataset=raw.dataset,
            year=raw.year,
            units=raw.units,
            rounding=raw.rounding,
            files=dict(raw.files),
            notes=tuple(notes),
            **kwargs,
        )
        if raw.value_added is not None:
            va = np.asarray(raw.value_added, dtype=float)
            if va.shape != table.x.shape:
                raise BaselineError(
                    f"table of {raw.dataset!r}: value added has shape {va.shape}, expected {table.x.shape}."
                )
            gap = np.abs(va - table.value_added)
            tol = table._tolerance(table.Z.shape[0] + 1)
            bad = gap > tol
            if bad.any():
                p = int(np.argmax(gap / tol))
                raise BaselineError(
                    f"table of {raw.dataset!r}: value added of {table.label(p)} is {va[p]:.6g} but gross "
                    f"output less intermediate inputs is {table.value_added[p]:.6g}; the table's columns do "
                    f"not add up. Check that value added and output are in the same units and prices."
                )
        return table

    @classmethod
    def from_arrays(
        cls,
        Z: np.ndarray,
        Y: np.ndarray,
        x: np.ndarray | None = None,
        *,
        regions: tuple[str, ...] | list[str],
        sectors: tuple[str, ...] | list[str],
        fd_categories: tuple[str, ...] | list[str] = ("final",),
        **kwargs: Any,
    ) -> InputOutputTable:
        """A table from plain arrays and labels (for tables built in Python).

        ``Y`` may be ``(G N, G)`` (one final-demand column per destination) or ``(G N, G K)``
        with ``K = len(fd_categories)``; ``x`` defaults to the row sums of ``Z`` and ``Y``.
        """
        Z, Y = np.asarray(Z, dtype=float), np.asarray(Y, dtype=float)
        notes = list(kwargs.pop("notes", ()))
        if x is None:
            x = Z.sum(axis=1) + Y.sum(axis=1)
            notes.append("gross output = row sums of intermediate and final sales (none supplied)")
        return cls(
            regions=tuple(regions),
            sectors=tuple(sectors),
            fd_categories=tuple(fd_categories),
            Z=Z,
            Y=Y,
            x=np.asarray(x, dtype=float),
            notes=tuple(notes),
            **kwargs,
        )

    def replace(self, **changes: Any) -> InputOutputTable:
        """A new, validated table with some fields replaced."""
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        kw.update(changes)
        return InputOutputTable(**kw)

    def balanced(self) -> InputOutputTable:
        """The same table with gross output set to the row sums ``Z1 + Y1``.

        Every accounting identity then holds exactly; the size of the change is recorded.
        """
        gap = self.row_gap
        note = (
            f"gross output set to row sums (sum of |changes| {np.abs(gap).sum():.6g} {self.units}, "
            f"{np.abs(gap).sum() / max(self.x.sum(), 1e-300):.2e} of world output)"
        ).replace("  ", " ")
        x = self.Z.sum(axis=1) + self.Y.sum(axis=1)
        return self.replace(x=np.maximum(x, 0.0), notes=(*self.notes, note))

    # ----------------------------------------------------------------- validation
    def _tolerance(self, cells: int) -> np.ndarray:
        """Accepted absolute gap per row: rounding of ``cells`` values plus ``balance_rtol`` x."""
        scale = float(np.abs(self.x).max(initial=0.0))
        return self.balance_rtol * np.abs(self.x) + 0.5 * self.rounding * cells + 1e-9 * max(scale, 1.0)

    def _validate(self) -> None:
        ds = self.dataset or "table"
        g, n, k = len(self.regions), len(self.sectors), len(self.fd_categories)
        for what, labels in (
            ("region", self.regions),
            ("sector", self.sectors),
            ("final-demand category", self.fd_categories),
        ):
            if not labels:
                raise BaselineError(f"input-output table of {ds!r} has no {what}s.")
            dup = sorted({x for x in labels if labels.count(x) > 1})
            if dup:
                raise BaselineError(f"input-output table of {ds!r}: duplicate {what} labels {dup}.")
        gn = g * n
        for name, shape in (("Z", (gn, gn)), ("Y", (gn, g * k)), ("x", (gn,))):
            got = getattr(self, name).shape
            if got != shape:
                raise BaselineError(
                    f"input-output table of {ds!r}: {name} has shape {got}, but {g} regions x {n} sectors"
                    f" x {k} final-demand categories need {shape} (rows and columns ordered region "
                    f"first, then sector)."
                )
            arr = getattr(self, name)
            if not np.all(np.isfinite(arr)):
                idx = np.argwhere(~np.isfinite(arr))[0]
                raise BaselineError(
                    f"input-output table of {ds!r}: {name} at {self._describe(name, idx)} is "
                    f"{arr[tuple(idx)]}; every value must be finite."
                )
        if (self.Z < 0).any():
            p, q = np.unravel_index(int(np.argmin(self.Z)), self.Z.shape)
            count = int((self.Z < 0).sum())
            raise BaselineError(
                f"input-output table of {ds!r}: intermediate flow from {self.label(p)} to {self.label(q)} "
                f"is {self.Z[p, q]:.6g} ({count} negative intermediate flows in all); intermediate "
                f"flows must be non-negative. Correct the table (e.g. set them to zero and rebalance)."
            )
        if (self.x < 0).any():
            p = int(np.argmin(self.x))
            raise BaselineError(
                f"input-output table of {ds!r}: gross output of {self.label(p)} is {self.x[p]:.6g}; "
                f"output must be non-negative."
            )
        zero = self.x == 0
        if zero.any():
            bought = self.Z[:, zero].sum(axis=0)
            tol = 0.5 * self.rounding * gn + 1e-12
            if (bought > tol).any():
                q = np.flatnonzero(zero)[int(np.argmax(bought))]
                raise BaselineError(
                    f"input-output table of {ds!r}: {self.label(q)} has zero gross output but buys "
                    f"{bought.max():.6g} of intermediate inputs; give its output or remove its purchases."
                )
        gap = self.row_gap
        tol = self._tolerance(gn + g * k)
        bad = np.abs(gap) > tol
        if bad.any():
            p = int(np.argmax(np.abs(gap) / tol))
            raise BaselineError(
                f"input-output table of {ds!r} does not balance: {self.label(p)} sells "
                f"{self.x[p] - gap[p]:.6g} (intermediate plus final) but its gross output is "
                f"{self.x[p]:.6g}, a gap of {gap[p]:.6g} ({int(bad.sum())} rows off by more than "
                f"{100 * self.balance_rtol:g}% of output beyond rounding). Check the units of output, "
                f"or rebuild output from the rows (InputOutputTable.balanced())."
            )

    def _describe(self, name: str, idx: np.ndarray) -> str:
        if name == "x":
            return self.label(int(idx[0]))
        if name == "Z":
            return f"({self.label(int(idx[0]))} -> {self.label(int(idx[1]))})"
        k = len(self.fd_categories)
        r, c = divmod(int(idx[1]), k)
        return f"({self.label(int(idx[0]))} -> {self.regions[r]}, {self.fd_categories[c]})"

    # ----------------------------------------------------------------- derived
    @property
    def n_regions(self) -> int:
        """Number of regions G."""
        return len(self.regions)

    @property
    def n_sectors(self) -> int:
        """Number of industries N."""
        return len(self.sectors)

    def label(self, position: int) -> str:
        """``"REGION/sector"`` of a row or column position."""
        r, i = divmod(int(position), self.n_sectors)
        return f"{self.regions[r]}/{self.sectors[i]}"

    @cached_property
    def value_added(self) -> np.ndarray:
        """v = x - Z'1: gross output less intermediate inputs, ``(G N,)``."""
        return self.x - self.Z.sum(axis=0)

    @cached_property
    def final_by_region(self) -> np.ndarray:
        """Final sales summed over categories, ``(G N, G)``: column r is region r's final use."""
        g, k = self.n_regions, len(self.fd_categories)
        return self.Y.reshape(-1, g, k).sum(axis=2)

    @cached_property
    def row_gap(self) -> np.ndarray:
        """d = x - Z1 - Y1: what rounding (or an imbalance) leaves in each row, ``(G N,)``."""
        return self.x - self.Z.sum(axis=1) - self.Y.sum(axis=1)

    def to_xarray(self) -> xr.Dataset:
        """The table with named dimensions.

        ``Z`` has dimensions (``region``, ``sector``, ``to_region``, ``to_sector``), ``Y``
        (``region``, ``sector``, ``to_region``, ``category``), ``x`` and ``value_added``
        (``region``, ``sector``).
        """
        import xarray as xr

        g, n, k = self.n_regions, self.n_sectors, len(self.fd_categories)
        return xr.Dataset(
            {
                "Z": (("region", "sector", "to_region", "to_sector"), self.Z.reshape(g, n, g, n)),
                "Y": (("region", "sector", "to_region", "category"), self.Y.reshape(g, n, g, k)),
                "x": (("region", "sector"), self.x.reshape(g, n)),
                "value_added": (("region", "sector"), self.value_added.reshape(g, n)),
            },
            coords={
                "region": list(self.regions),
                "sector": list(self.sectors),
                "to_region": list(self.regions),
                "to_sector": list(self.sectors),
                "category": list(self.fd_categories),
            },
            attrs={"dataset": self.dataset, "year": self.year or 0, "units": self.units},
        )
