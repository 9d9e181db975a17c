"""The multi-sector baseline: a calibrated world in the Caliendo–Parro (2015) layout.

Arrays use the axis order ``(importer, exporter, sector)`` for bilateral quantities and
``(region, sector)`` for the rest; labels are kept beside them and :meth:`to_xarray` gives the
named-dimension view (``importer``, ``exporter``, ``sector``). A baseline is validated once,
when it is built, and never changed afterwards.

Stored (the primitives; everything else is derived from them):

* ``flows`` — x_{nij}: sales of exporter i to importer n in sector j at producer prices
  (net of tariffs), domestic sales x_{nnj} included;
* ``tariff`` — tau_{nij}, ad-valorem tariffs as fractions (zero on the diagonal);
* ``gamma_va`` — gamma_{nj}, value-added share of costs of sector j in region n;
* ``gamma_io`` — gamma_{nkj}, share of intermediate input k in the costs of sector j
  (``gamma_io[n, k, j]``; gamma_{nj} + sum_k gamma_{nkj} = 1);
* ``alpha`` — alpha_{nj}, final-demand shares (sum over j is one);
* ``theta`` — theta_j, the trade elasticities.

Derived (see the properties): expenditure X_{nj} at buyer prices, trade shares pi_{nij},
gross output Y_{nj}, value added VA_n, deficits D_n (imports minus exports at producer prices),
tariff revenue R_n and income I_n = VA_n + R_n + D_n.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from kaifang.errors import BaselineError

if TYPE_CHECKING:
    import xarray as xr

    from kaifang.data.cp2015 import RawMultiSector

__all__ = ["MultiSectorBaseline", "from_raw"]

_SHARE_TOL = 1e-8
#: Negative input-output coefficients smaller than this in size are rounding noise and set to 0.
_IO_CLIP = 1e-2


@dataclass(frozen=True, eq=False)
class MultiSectorBaseline:
    """A calibrated multi-sector world (immutable, validated on creation).

    Parameters
    ----------
    regions, sectors
        Labels in array order (unique).
    flows
        x_{nij} at producer prices, shape ``(N, N, J)`` (importer, exporter, sector).
    tariff
        tau_{nij} as fractions, ``(N, N, J)``.
    gamma_va
        Value-added cost shares, ``(N, J)``.
    gamma_io
        Intermediate cost shares ``gamma_io[n, k, j]``, ``(N, J, J)``.
    alpha
        Final-demand shares, ``(N, J)``.
    theta
        Trade elasticities, ``(J,)``.
    dataset
        Name of the data set it was built from.
    synthetic
        True for the synthetic demo world.
    files
        Data file name -> SHA-256 (provenance).
    note
        How the baseline was obtained (e.g. "1993 data" or "equilibrium with zero deficits").
    year
        Year of the data (``None`` when unknown).
    units
        Money unit of the flows (e.g. ``"millions of current US dollars (basic prices)"``).
    provenance
        How the world was built from its data: corrections of the table and their size, the
        aggregation of regions and sectors, the source of each trade elasticity, the tariffs
        (a JSON-friendly mapping, copied into every run's provenance).

    Raises
    ------
    BaselineError
        On negative or non-finite values, shares that do not sum to one, inconsistent labels
        or shapes, zero expenditure on a sector; the message names the label and the value.
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    flows: np.ndarray
    tariff: np.ndarray
    gamma_va: np.ndarray
    gamma_io: np.ndarray
    alpha: np.ndarray
    theta: np.ndarray
    dataset: str = ""
    synthetic: bool = False
    files: dict[str, str] = field(default_factory=dict)
    note: str = ""
    year: int | None = None
    units: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("flows", "tariff", "gamma_va", "gamma_io", "alpha", "theta"):
            arr = np.array(getattr(self, name), dtype=float)  # a private, read-only copy
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "regions", tuple(str(r) for r in self.regions))
        object.__setattr__(self, "sectors", tuple(str(s) for s in self.sectors))
        self._validate()

    # ----------------------------------------------------------------- validation
    def _validate(self) -> None:
        n, j = len(self.regions), len(self.sectors)
        for what, labels in (("region", self.regions), ("sector", self.sectors)):
            if not labels:
                raise BaselineError(f"baseline of {self.dataset!r} has no {what}s.")
            dup = sorted({x for x in labels if labels.count(x) > 1})
            if dup:
                raise BaselineError(f"baseline of {self.dataset!r}: duplicate {what} labels {dup}.")
        shapes = {
            "flows": (n, n, j),
            "tariff": (n, n, j),
            "gamma_va": (n, j),
            "gamma_io": (n, j, j),
            "alpha": (n, j),
            "theta": (j,),
        }
        for name, shape in shapes.items():
            got = getattr(self, name).shape
            if got != shape:
                raise BaselineError(
                    f"baseline of {self.dataset!r}: {name} has shape {got}, expected {shape} "
                    f"for {n} regions and {j} sectors."
                )
            arr = getattr(self, name)
            if not np.all(np.isfinite(arr)):
                idx = tuple(np.argwhere(~np.isfinite(arr))[0])
                raise BaselineError(
                    f"baseline of {self.dataset!r}: {name}{self._label(name, idx)} is {arr[idx]}."
                )
        for name in ("flows", "gamma_va", "gamma_io", "alpha"):
            arr = getattr(self, name)
            if (arr < 0).any():
                idx = tuple(np.argwhere(arr < 0)[0])
                raise BaselineError(
                    f"baseline of {self.dataset!r}: {name}{self._label(name, idx)} is {arr[idx]:.6g}, "
                    f"but it must be non-negative."
                )
        if (self.tariff <= -1).any():
            idx = tuple(np.argwhere(self.tariff <= -1)[0])
            raise BaselineError(
                f"baseline of {self.dataset!r}: tariff{self._label('tariff', idx)} is "
                f"{100 * self.tariff[idx]:.1f}%, at or below -100%."
            )
        diag = self.tariff[np.arange(n), np.arange(n)]
        if np.any(diag != 0):
            r, s = np.argwhere(diag != 0)[0]
            raise BaselineError(
                f"baseline of {self.dataset!r}: domestic tariff of {self.regions[r]} in {self.sectors[s]} "
                f"is {diag[r, s]}; domestic sales carry no tariff."
            )
        if (self.theta <= 0).any():
            s = int(np.argmax(self.theta <= 0))
            raise BaselineError(
                f"baseline of {self.dataset!r}: trade elasticity theta of {self.sectors[s]} is "
                f"{self.theta[s]}; it must be positive."
            )
        cost = self.gamma_va + self.gamma_io.sum(axis=1)
        bad = np.abs(cost - 1) > _SHARE_TOL
        if bad.any():
            r, s = np.argwhere(bad)[0]
            raise BaselineError(
                f"baseline of {self.dataset!r}: cost shares of {self.sectors[s]} in {self.regions[r]} "
                f"(value added plus intermediate inputs) sum to {cost[r, s]:.10g}, not 1."
            )
        asum = self.alpha.sum(axis=1)
        bad = np.abs(asum - 1) > _SHARE_TOL
        if bad.any():
            r = int(np.argmax(bad))
            raise BaselineError(
                f"baseline of {self.dataset!r}: final-demand shares alpha of {self.regions[r]} sum to "
                f"{asum[r]:.10g}, not 1."
            )
        x = self.expenditure
        if (x <= 0).any():
            r, s = np.argwhere(x <= 0)[0]
            raise BaselineError(
                f"baseline of {self.dataset!r}: expenditure of {self.regions[r]} on {self.sectors[s]} is "
                f"{x[r, s]:.6g}; every region must buy a positive amount of every sector (trade shares "
                f"are undefined otherwise)."
            )
        va = self.value_added
        if (va <= 0).any():
            r = int(np.argmax(va <= 0))
            raise BaselineError(
                f"baseline of {self.dataset!r}: value added of {self.regions[r]} is {va[r]:.6g}."
            )

    def _label(self, name: str, idx: tuple[int, ...]) -> str:
        r, s = self.regions, self.sectors
        if name in ("flows", "tariff"):
            return f"[importer={r[idx[0]]}, exporter={r[idx[1]]}, sector={s[idx[2]]}]"
        if name == "gamma_io":
            return f"[region={r[idx[0]]}, input={s[idx[1]]}, sector={s[idx[2]]}]"
        if name == "theta":
            return f"[sector={s[idx[0]]}]"
        return f"[region={r[idx[0]]}, sector={s[idx[1]]}]"

    # ----------------------------------------------------------------- derived
    @property
    def n_regions(self) -> int:
        """Number of regions N."""
        return len(self.regions)

    @property
    def n_sectors(self) -> int:
        """Number of sectors J."""
        return len(self.sectors)

    @cached_property
    def flows_buyer(self) -> np.ndarray:
        """z_{nij} = x_{nij}(1 + tau_{nij}): flows at buyer prices, ``(N, N, J)``."""
        return self.flows * (1.0 + self.tariff)

    @cached_property
    def expenditure(self) -> np.ndarray:
        """X_{nj} = sum_i z_{nij}: spending of region n on sector j at buyer prices, ``(N, J)``."""
        return self.flows_buyer.sum(axis=1)

    @cached_property
    def shares(self) -> np.ndarray:
        """pi_{nij} = z_{nij} / X_{nj}: expenditure shares, ``(N, N, J)``."""
        return self.flows_buyer / self.expenditure[:, None, :]

    @cached_property
    def gross_output(self) -> np.ndarray:
        """Y_{ij} = sum_n x_{nij}: gross output of region i in sector j, ``(N, J)``."""
        return self.flows.sum(axis=0)

    @cached_property
    def value_added(self) -> np.ndarray:
        """VA_n = sum_j gamma_{nj} Y_{nj}, ``(N,)``."""
        return (self.gamma_va * self.gross_output).sum(axis=1)

    @cached_property
    def imports(self) -> np.ndarray:
        """International imports at producer prices by region, ``(N,)``."""
        n = self.n_regions
        return self.flows.sum(axis=(1, 2)) - self.flows[np.arange(n), np.arange(n)].sum(axis=1)

    @cached_property
    def exports(self) -> np.ndarray:
        """International exports at producer prices by region, ``(N,)``."""
        n = self.n_regions
        return self.flows.sum(axis=(0, 2)) - self.flows[np.arange(n), np.arange(n)].sum(axis=1)

    @cached_property
    def deficit(self) -> np.ndarray:
        """D_n = imports minus exports at producer prices, ``(N,)`` (sums to zero)."""
        return self.imports - self.exports

    @cached_property
    def tariff_revenue(self) -> np.ndarray:
        """R_n = sum_{i,j} tau_{nij} x_{nij}, ``(N,)``."""
        return (self.tariff * self.flows).sum(axis=(1, 2))

    @cached_property
    def income(self) -> np.ndarray:
        """I_n = VA_n + R_n + D_n: final spending of region n, ``(N,)``."""
        return self.value_added + self.tariff_revenue + self.deficit

    @cached_property
    def tradable(self) -> np.ndarray:
        """Sectors with any international flow, ``(J,)`` boolean."""
        n = self.n_regions
        off = self.flows.copy()
        off[np.arange(n), np.arange(n)] = 0.0
        return off.sum(axis=(0, 1)) > 0

    def scaled(self, factor: float) -> MultiSectorBaseline:
        """The same world with every value (flows) multiplied by ``factor`` (> 0)."""
        if not factor > 0:
            raise ValueError(f"scale factor must be positive, got {factor}")
        return self.replace(flows=self.flows * factor, note=f"{self.note} scaled by {factor:g}".strip())

    def replace(self, **changes: Any) -> MultiSectorBaseline:
        """A new, validated baseline with some fields replaced."""
        kw = {f: getattr(self, f) for f in self.__dataclass_fields__}
        kw.update(changes)
        return MultiSectorBaseline(**kw)

    def to_xarray(self) -> xr.Dataset:
        """The baseline as an :class:`xarray.Dataset` with named dimensions."""
        import xarray as xr

        coords = {
            "importer": list(self.regions),
            "exporter": list(self.regions),
            "sector": list(self.sectors),
        }
        reg = ("importer", "sector")
        return xr.Dataset(
            {
                "flows": (("importer", "exporter", "sector"), self.flows),
                "tariff": (("importer", "exporter", "sector"), self.tariff),
                "shares": (("importer", "exporter", "sector"), self.shares),
                "expenditure": (reg, self.expenditure),
                "gamma_va": (reg, self.gamma_va),
                "alpha": (reg, self.alpha),
                "gamma_io": (("importer", "input", "sector"), self.gamma_io),
                "theta": (("sector",), self.theta),
                "deficit": (("importer",), self.deficit),
                "value_added": (("importer",), self.value_added),
            },
            coords={**coords, "input": list(self.sectors)},
            attrs={"dataset": self.dataset, "synthetic": int(self.synthetic), "note": self.note},
        )


def from_raw(raw: RawMultiSector) -> MultiSectorBaseline:
    """Build the baseline from raw tables (``docs/models/caliendo-parro.md``, "Calibration").

    Gross output is raised to exports where the data has less (Y = max(GO, EX)), domestic
    sales are Y - EX; the intermediate shares are the IO coefficients (renormalised to sum to
    one over inputs, the files have 1e-7 rounding; negative coefficients above -0.01, rounding
    noise, are set to zero and recorded in ``note``) times one minus the value-added share;
    final-demand shares are alpha_{nj} = max(0, X_{nj} - sum_k gamma_{njk} Y_{nk}) / I_n,
    renormalised to sum to one.

    Raises
    ------
    BaselineError
        Negative inputs, value-added shares outside [0, 1], IO columns far from summing to one.
    """
    ds, regions, sectors = raw.dataset, raw.regions, raw.sectors
    n, j = len(regions), len(sectors)
    raw_io = raw.io
    adjustments = []
    tiny = (raw_io < 0) & (raw_io > -_IO_CLIP)
    if tiny.any():
        # cp2015 has one: Canada, input Other manufacturing in Basic metals, -0.0008459.
        for r, k, s in np.argwhere(tiny):
            adjustments.append(
                f"IO[{regions[r]}, {sectors[k]} -> {sectors[s]}] = {raw_io[r, k, s]:.4g} set to 0"
            )
        raw_io = np.where(tiny, 0.0, raw_io)
    for name, arr in (("imports", raw.imports), ("gross_output", raw.gross_output), ("io", raw_io)):
        if not np.all(np.isfinite(arr)) or (arr < 0).any():
            idx = tuple(np.argwhere(~(arr >= 0))[0])
            raise BaselineError(f"data set {ds!r}: raw {name} at index {idx} is {arr[idx]}; it must be >= 0.")
    beta = raw.va_share
    if ((beta < 0) | (beta > 1) | ~np.isfinite(beta)).any():
        r, s = np.argwhere(~((beta >= 0) & (beta <= 1)))[0]
        raise BaselineError(
            f"data set {ds!r}: value-added share of {sectors[s]} in {regions[r]} is {beta[r, s]}, outside [0, 1]."
        )
    colsum = raw.io.sum(axis=1)  # (N, J): over inputs k, as in the file
    bad = (np.abs(colsum - 1) > 1e-4) & (beta < 1)
    if bad.any():
        r, s = np.argwhere(bad)[0]
        raise BaselineError(
            f"data set {ds!r}: input-output coefficients of {sectors[s]} in {regions[r]} sum to "
            f"{colsum[r, s]:.6g} over inputs, not 1."
        )
    colsum = raw_io.sum(axis=1)
    io = np.divide(raw_io, colsum[:, None, :], out=np.zeros_like(raw_io), where=colsum[:, None, :] > 0)
    gamma_io = io * (1.0 - beta)[:, None, :]
    gamma_va = 1.0 - gamma_io.sum(axis=1)  # equals beta where the IO column is non-empty

    exports = raw.imports.sum(axis=0)  # (exporter, sector)
    go = np.maximum(raw.gross_output, exports)
    flows = raw.imports.copy()
    flows[np.arange(n), np.arange(n)] = go - exports
    tariff = raw.tariff.copy()
    tariff[np.arange(n), np.arange(n)] = 0.0

    x = (flows * (1 + tariff)).sum(axis=1)
    va = (gamma_va * go).sum(axis=1)
    revenue = (tariff * flows).sum(axis=(1, 2))
    deficit = flows.sum(axis=(1, 2)) - flows.sum(axis=(0, 2))
    income = va + revenue + deficit
    intermediate = np.einsum("nkj,nj->nk", gamma_io, go)
    final = np.maximum(0.0, x - intermediate)
    if (final.sum(axis=1) <= 0).any() or (income <= 0).any():
        r = int(np.argmax((final.sum(axis=1) <= 0) | (income <= 0)))
        raise BaselineError(
            f"data set {ds!r}: region {regions[r]} has no final demand (income {income[r]:.6g}); "
            f"final-demand shares cannot be calibrated."
        )
    alpha = final / final.sum(axis=1, keepdims=True)
    if j != raw.theta.shape[0]:
        raise BaselineError(f"data set {ds!r}: {raw.theta.shape[0]} trade elasticities for {j} sectors.")
    return MultiSectorBaseline(
        regions=regions,
        sectors=sectors,
        flows=flows,
        tariff=tariff,
        gamma_va=gamma_va,
        gamma_io=gamma_io,
        alpha=alpha,
        theta=raw.theta,
        dataset=ds,
        synthetic=raw.synthetic,
        files=dict(raw.files),
        note="data as read (deficits as observed)" + "".join(f"; {a}" for a in adjustments),
    )
