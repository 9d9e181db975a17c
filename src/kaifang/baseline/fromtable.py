"""A Caliendo-Parro multi-sector world from a world input-output table, and back.

**Corrections** (:func:`prepare`), applied in this order and recorded (:class:`Corrections`):

1. *Final demand by destination* is the sum of the table's final-demand categories, changes in
   inventories included (the convention of the value-added literature, e.g. Koopman, Wang and
   Wei 2014, and of the R package decompr; the model has one final use per region). Inventories
   are so folded into final demand; a fall in inventories nets against the other uses.
2. *Negative net final purchases* that remain (an origin's sales to a destination's final use,
   summed over categories, below zero: WIOD 2011 has 43, -11,248 million USD in all, 7.9e-5 of
   world output) are set to zero; the model has no negative demand.
3. *Gross output* is set to the row sums (intermediate plus final sales), so that every row
   balances exactly (published tables are rounded: WIOD's output differs from its row sums by
   4.2e-4 of world output).
4. *Negative value added* (an industry whose intermediate inputs cost more than its output) is
   removed by scaling that industry's intermediate purchases down to its output (value added
   zero); output is recomputed and this is repeated until no value added is negative (WIOD 2011:
   one industry, Luxembourg's water transport, whose rounded row sums fall 4 million below its
   inputs once output is rebalanced).
5. A region that neither buys nor produces a sector at all (WIOD 2011: private households with
   employed persons in 13 countries, and three transport services) gets a token domestic final
   sale of 1e-12 of world output (about 150 USD for WIOD 2011), so that its trade shares are
   defined; the token is far below the tables' rounding.

The size of every change goes into :attr:`Corrections` and from there into each run's provenance.

**Calibration** (:func:`calibrate`), notation of Caliendo and Parro (2015) (importer n, exporter i,
sectors j, k), for a corrected table with no tariffs:

* flows x_{nij} = sum_k Z_{(i,j),(n,k)} + F_{(i,j),n}: sales of sector j of i to n, intermediate
  plus final, services included (and traded where the table has trade);
* cost shares gamma_{nkj} = sum_i Z_{(i,k),(n,j)} / Y_{nj} (inputs of k, from any origin, per unit
  of output of j in n) and gamma_{nj} = v_{nj} / Y_{nj} (value added), summing to one; an industry
  with no output gets gamma_{nj} = 1 (it never produces);
* final-demand shares alpha_{nj} = sum_i F_{(i,j),n} / sum_{i,j} F_{(i,j),n};
* deficits D_n = imports - exports, which then equal I_n - VA_n (final use less value added), so
  the table *is* an equilibrium of the model with its observed deficits.

With a tariff table tau_{nij}, flows stay the table's (basic prices, net of tariffs); the
input-output mix and the final-demand shares are computed from purchases at buyer prices
x (1 + tau), the value-added share gamma_{nj} from the table as before (as Caliendo and Parro do
with their data). The baseline equilibrium the runner solves first makes such a world consistent.

**Writing back** (:func:`to_table`): under the model's proportionality assumption (every user of
good j in n buys it from i in the same proportion pi_{nij}; gvc notation of Caliendo-Parro worlds)
Z_{(i,j),(n,k)} = pi_{nij} gamma_{njk} Y_{nk} / (1 + tau_{nij}), F_{(i,j),n} = pi_{nij} alpha_{nj}
I_n / (1 + tau_{nij}). A world calibrated from a table gives back its bilateral sector flows x_{nij},
gross output, value added and each industry's inputs summed over origins; the split of a flow
between using industries follows the proportionality assumption (as in the OECD's TiVA tables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.errors import BaselineError

__all__ = ["TOKEN", "Corrections", "calibrate", "from_table", "prepare", "to_table"]

#: Token domestic final sale given to (region, sector) cells with no absorption and no output,
#: as a share of world gross output.
TOKEN = 1e-12
_MAX_ROUNDS = 100


@dataclass(frozen=True)
class Corrections:
    """What :func:`prepare` changed in a table (all values in the table's units)."""

    final_categories_summed: tuple[str, ...] = ()
    negative_final_cells: int = 0
    negative_final_total: float = 0.0
    output_change_abs: float = 0.0
    output_change_share: float = 0.0
    negative_value_added_cells: int = 0
    negative_value_added_total: float = 0.0
    token_cells: tuple[str, ...] = ()
    token_value: float = 0.0
    world_output: float = 0.0
    units: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly record (for provenance)."""
        d = asdict(self)
        d["final_categories_summed"] = list(self.final_categories_summed)
        d["token_cells"] = list(self.token_cells)
        d["extra"] = dict(self.extra)
        d["treatment"] = (
            "final demand = sum of categories (inventories included); negative net final purchases set to "
            "zero; gross output = row sums; negative value added removed by scaling the industry's inputs; "
            f"token domestic final sale ({TOKEN:g} of world output) where a region neither buys nor "
            "produces a sector"
        )
        return d


def prepare(table: InputOutputTable) -> tuple[InputOutputTable, Corrections]:
    """The corrected table (one final-demand column per region) and what was changed.

    See the module docstring for the five corrections, in order.
    """
    g, n, k = table.n_regions, table.n_sectors, len(table.fd_categories)
    gn = g * n
    Z = np.array(table.Z, dtype=float)
    F = table.Y.reshape(gn, g, k).sum(axis=2)
    neg = F < 0
    neg_total = float(F[neg].sum())
    F[neg] = 0.0
    x_before = np.array(table.x, dtype=float)
    world0 = float(max(x_before.sum(), 1e-300))
    # negative value added: scale the column's inputs down to its output, recompute output, repeat
    neg_va_cells: set[int] = set()
    neg_va_total = 0.0
    for _ in range(_MAX_ROUNDS):
        x = Z.sum(axis=1) + F.sum(axis=1)
        inputs = Z.sum(axis=0)
        v = x - inputs
        tol = 1e-12 * max(float(x.max(initial=0.0)), 1.0)
        bad = np.flatnonzero(v < -tol)
        if not bad.size:
            break
        neg_va_cells.update(bad.tolist())
        neg_va_total += float(v[bad].sum())
        Z[:, bad] *= x[bad] / inputs[bad]
    else:  # pragma: no cover - the scaling only lowers sales; it settles in a few rounds
        raise BaselineError(
            f"input-output table of {table.dataset!r}: removing negative value added did not settle in "
            f"{_MAX_ROUNDS} rounds; check the table."
        )
    x = Z.sum(axis=1) + F.sum(axis=1)
    # token sale where a region neither buys nor produces a sector
    absorption = (Z.reshape(g, n, g, n).sum(axis=3) + F.reshape(g, n, g)).sum(axis=0)  # (sector, region)
    token_value = TOKEN * float(x.sum())
    empty = np.argwhere(absorption.T <= 0)  # (region, sector)
    token_cells = []
    for r, s in empty:
        q = r * n + s
        F[q, r] += token_value
        token_cells.append(f"{table.regions[r]}/{table.sectors[s]}")
    x = Z.sum(axis=1) + F.sum(axis=1)
    out = table.replace(
        Z=Z,
        Y=F,
        x=x,
        fd_categories=("final",),
        notes=(*table.notes, "corrected for the multi-sector model (kaifang.baseline.fromtable.prepare)"),
    )
    rec = Corrections(
        final_categories_summed=tuple(table.fd_categories),
        negative_final_cells=int(neg.sum()),
        negative_final_total=neg_total,
        output_change_abs=float(np.abs(x - x_before).sum()),
        output_change_share=float(np.abs(x - x_before).sum() / world0),
        negative_value_added_cells=len(neg_va_cells),
        negative_value_added_total=neg_va_total,
        token_cells=tuple(token_cells),
        token_value=token_value if token_cells else 0.0,
        world_output=float(x.sum()),
        units=table.units,
    )
    return out, rec


def calibrate(
    table: InputOutputTable,
    theta: np.ndarray,
    *,
    tariff: np.ndarray | None = None,
    note: str = "",
    provenance: Mapping[str, Any] | None = None,
) -> MultiSectorBaseline:
    """The multi-sector world of a corrected table (:func:`prepare`; module docstring).

    Parameters
    ----------
    table
        A corrected table: one final-demand column per region, rows balanced, no negative final
        use or value added.
    theta
        Trade elasticities by sector, ``(N,)``.
    tariff
        Ad-valorem tariffs as fractions, ``(importer, exporter, sector)``; zero when ``None``.

    Raises
    ------
    BaselineError
        A table that was not corrected, or a region with no final demand.
    """
    g, n = table.n_regions, table.n_sectors
    ds = table.dataset or "table"
    if len(table.fd_categories) != 1:
        raise BaselineError(
            f"input-output table of {ds!r} has {len(table.fd_categories)} final-demand categories; correct it "
            f"first (kaifang.baseline.fromtable.prepare sums them)."
        )
    Z4 = table.Z.reshape(g, n, g, n)  # (i, j, n, k)
    F3 = table.Y.reshape(g, n, g)  # (i, j, n)
    if (F3 < 0).any():
        raise BaselineError(
            f"input-output table of {ds!r} has negative final use; correct it first (prepare)."
        )
    sales = Z4.sum(axis=3) + F3  # (i, j, n)
    flows = np.ascontiguousarray(sales.transpose(2, 0, 1))  # (n, i, j)
    y = table.x.reshape(g, n)
    tau = np.zeros((g, g, n)) if tariff is None else np.asarray(tariff, dtype=float)
    if tau.shape != (g, g, n):
        raise BaselineError(f"tariffs of {ds!r} have shape {tau.shape}, expected {(g, g, n)}.")
    buyer = 1.0 + tau  # (n, i, j)
    # input mix at buyer prices: m[n, k, j] = sum_i Z[(i,k),(n,j)] (1 + tau[n, i, k])
    m = np.einsum("iknj,nik->nkj", Z4, buyer) if tariff is not None else Z4.sum(axis=0).transpose(1, 0, 2)
    inputs_basic = Z4.sum(axis=0).transpose(1, 0, 2).sum(axis=1)  # (n, j)
    has_output = y > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(has_output, 1.0 - inputs_basic / np.where(has_output, y, 1.0), 1.0)
    beta = np.clip(beta, 0.0, 1.0)
    msum = m.sum(axis=1)  # (n, j)
    with np.errstate(divide="ignore", invalid="ignore"):
        mix = np.where(msum[:, None, :] > 0, m / np.where(msum > 0, msum, 1.0)[:, None, :], 0.0)
    gamma_io = mix * (1.0 - beta)[:, None, :]
    gamma_va = 1.0 - gamma_io.sum(axis=1)
    final_buyer = np.einsum("ijn,nij->nj", F3, buyer)  # (n, j)
    fsum = final_buyer.sum(axis=1)
    if (fsum <= 0).any():
        r = int(np.argmax(fsum <= 0))
        raise BaselineError(
            f"input-output table of {ds!r}: region {table.regions[r]} has no final demand; final-demand shares "
            f"cannot be calibrated (merge it into another region)."
        )
    alpha = final_buyer / fsum[:, None]
    tau = tau.copy()
    tau[np.arange(g), np.arange(g)] = 0.0
    return MultiSectorBaseline(
        regions=table.regions,
        sectors=table.sectors,
        flows=flows,
        tariff=tau,
        gamma_va=gamma_va,
        gamma_io=gamma_io,
        alpha=alpha,
        theta=np.asarray(theta, dtype=float),
        dataset=table.dataset,
        files=dict(table.files),
        note=note or f"calibrated from the input-output table of {ds} (deficits as observed)",
        year=table.year,
        units=table.units,
        provenance=dict(provenance or {}),
    )


def from_table(
    table: InputOutputTable,
    theta: np.ndarray,
    *,
    tariff: np.ndarray | None = None,
    provenance: Mapping[str, Any] | None = None,
) -> tuple[MultiSectorBaseline, Corrections]:
    """Correct ``table`` (:func:`prepare`) and calibrate the multi-sector world (:func:`calibrate`).

    The corrections are recorded in the world's ``provenance["corrections"]``.
    """
    fixed, rec = prepare(table)
    prov = {**dict(provenance or {}), "corrections": rec.as_dict()}
    return calibrate(fixed, theta, tariff=tariff, provenance=prov), rec


def to_table(world: MultiSectorBaseline, *, dataset: str | None = None) -> InputOutputTable:
    """The input-output table of a multi-sector world (module docstring, "Writing back").

    One final-demand column per region (``"final"``); gross output is the row sums, which equal
    the world's gross output when the world is an equilibrium (to the solver's tolerance).
    """
    g, n = world.n_regions, world.n_sectors
    pi = world.shares  # (n, i, j), buyer-price shares
    net = pi / (1.0 + world.tariff)  # producer-price purchases per unit of spending
    y = world.gross_output  # (n, k)
    # Z[(i,j),(n,k)] = pi_{nij}/(1+tau_{nij}) gamma_{njk} Y_{nk}
    Z4 = np.einsum("nij,njk,nk->ijnk", net, world.gamma_io, y)
    F3 = np.einsum("nij,nj,n->ijn", net, world.alpha, world.income)
    Z = Z4.reshape(g * n, g * n)
    F = F3.reshape(g * n, g)
    return InputOutputTable.from_arrays(
        Z,
        F,
        regions=world.regions,
        sectors=world.sectors,
        fd_categories=("final",),
        dataset=dataset or world.dataset,
        year=world.year,
        units=world.units,
        files=dict(world.files),
        notes=("rebuilt from a multi-sector world under import proportionality (kaifang.baseline.to_table)",),
    )
