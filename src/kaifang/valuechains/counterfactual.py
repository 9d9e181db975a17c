"""Value chains of a model's world: the input-output table a multi-sector world implies, and the
value-chain tables of a baseline and a counterfactual side by side.

A Caliendo–Parro (2015) world (:class:`kaifang.baseline.multisector.MultiSectorBaseline`: flows
at producer prices x_{nij}, tariffs tau_{nij}, input shares gamma_{n,jk}, value-added shares and
final-demand shares alpha_{nj}) determines a world input-output table once every use of good j
in country n is assumed to be sourced from i in the same proportion pi_{nij} (the model's
assumption, and the import-proportionality assumption of the OECD TiVA tables):

    Z_{(i,j),(n,k)} = pi_{nij} gamma_{n,jk} Y_{nk} / (1 + tau_{nij})
    Y_{(i,j),n}     = pi_{nij} alpha_{nj} I_n / (1 + tau_{nij})       (one final column per country)

with gross output Y_{nk} and income I_n = VA_n + R_n + D_n. Flows are at basic prices (net of
tariffs); the tariffs paid on inputs end up in value added (v = x - Z'1, as net taxes on
products), tariffs on final goods in no cell. The rows add up to the world's gross output when
the world is an equilibrium (goods-market clearing); the gap is recorded and, by default, gross
output is set to the row sums so that every identity of the decompositions holds exactly.

The table itself is built by :func:`kaifang.baseline.to_table`; this module records how far its
rows are from the world's gross output and puts baseline and counterfactual side by side.

The proportionality assumption does not keep the split of a table's bilateral exports into
intermediate and final goods, nor who uses the imports: compare a counterfactual with the
**rebuilt baseline**, not with an original published table (``docs/valuechains.md``, "Value
chains after a policy shock").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.results._impl import DOCUMENT_TABLES
from kaifang.valuechains._api import COUNTRY_INDICATORS, SECTOR_INDICATORS, indicators, leontief
from kaifang.valuechains._system import ValueChains, prepare

if TYPE_CHECKING:
    from kaifang.baseline.multisector import MultiSectorBaseline
    from kaifang.models.caliendo_parro.solver import Equilibrium

__all__ = ["STAGES", "TABLES", "compare", "table_from_equilibrium", "table_from_world"]

#: Names of the tables :func:`compare` returns (also the names of a run's value-chain tables,
#: which a run's document carries: :data:`kaifang.results._impl.DOCUMENT_TABLES`).
TABLES: tuple[str, ...] = DOCUMENT_TABLES
#: Values of the ``stage`` column.
STAGES: tuple[str, ...] = ("baseline", "counterfactual", "change")


def table_from_world(
    world: MultiSectorBaseline, *, balance: bool = True, units: str = "", note: str = ""
) -> InputOutputTable:
    """The world input-output table implied by a multi-sector world (module docstring).

    Parameters
    ----------
    world
        The calibrated (or solved, :meth:`Equilibrium.to_baseline`) world.
    balance
        Set gross output to the row sums ``Z1 + Y1`` (default), so that the decompositions'
        identities hold exactly; else keep the world's gross output (the rows then add up to it
        to the accuracy of the equilibrium). The largest gap is recorded in ``notes`` either way.
    units
        Money unit of the world's flows (recorded in the table).
    note
        Where the world comes from (recorded in ``notes``).

    Returns
    -------
    InputOutputTable
        Regions and sectors of the world, one final-demand category ``"final"``.
    """
    from kaifang.baseline.fromtable import to_table

    rebuilt = to_table(world)  # gross output = the rebuilt row sums
    rows = np.asarray(rebuilt.x)
    y = world.gross_output.reshape(-1)
    gap = y - rows
    scale = max(float(np.abs(y).max()), 1e-300)
    notes = [
        note or f"rebuilt from the calibrated world of {world.dataset!r} ({world.note})",
        "proportional sourcing: every use of a good in a country buys from each origin in the "
        "country's trade shares",
        f"largest row gap between the world's gross output and the rebuilt rows: "
        f"{np.abs(gap).max():.3g} ({np.abs(gap).max() / scale:.2e} of the largest output)",
    ]
    if balance:
        notes.append("gross output set to the rebuilt row sums")
    return rebuilt.replace(
        x=rows if balance else y,
        units=units or rebuilt.units,
        notes=tuple(notes),
    )


def table_from_equilibrium(
    equilibrium: Equilibrium, *, balance: bool = True, units: str = ""
) -> InputOutputTable:
    """The input-output table of a solved Caliendo–Parro equilibrium
    (:class:`kaifang.models.caliendo_parro.solver.Equilibrium`): its flows, tariffs and the
    baseline's shares, through :func:`table_from_world`."""
    world = equilibrium.to_baseline(note="solved equilibrium")
    return table_from_world(world, balance=balance, units=units, note="rebuilt from a solved equilibrium")


def _stages(before: pd.DataFrame, after: pd.DataFrame, keys: list[str], values: list[str]) -> pd.DataFrame:
    change = after[values].to_numpy() - before[values].to_numpy()
    # shares of a region (or industry) that exports nothing in either world are undefined
    silent = (before["gross_exports"].to_numpy() == 0) | (after["gross_exports"].to_numpy() == 0)
    parts = []
    for stage, vals in zip(
        STAGES, (before[values].to_numpy(), after[values].to_numpy(), change), strict=True
    ):
        df = before[keys].copy()
        df.insert(len(keys), "stage", stage)
        df[values] = vals
        df["no_trade"] = silent
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    out["stage"] = pd.Categorical(out["stage"], categories=list(STAGES))
    return out.sort_values([*keys, "stage"], kind="stable").reset_index(drop=True)


def compare(
    before: InputOutputTable | ValueChains, after: InputOutputTable | ValueChains
) -> dict[str, pd.DataFrame]:
    """Value-chain tables of a baseline and a counterfactual table, and the change.

    Both tables must have the same regions and sectors (in the same order).

    Returns
    -------
    dict of DataFrame
        ``"value_chains"``: ``region``, ``stage`` (``baseline``, ``counterfactual``,
        ``change`` = counterfactual - baseline) and the country indicators of
        :func:`kaifang.valuechains.indicators`; ``"value_chains_sectors"``: the same by
        ``region`` and ``sector``; ``"value_added_origin"``: for each exporting region
        (``exporter``) and source of value added (``source``), the value added in the exporter's
        gross exports in the baseline, the counterfactual, the change, and as shares of the
        exporter's gross exports (``baseline_share``, ``counterfactual_share``, ``change_share``).
        Every table has a ``no_trade`` column: true where the region (or industry) exports
        nothing in the baseline or the counterfactual, so that its shares are empty (NaN).
    """
    b, a = prepare(before), prepare(after)
    if b.regions != a.regions or b.sectors != a.sectors:
        raise ValueError("compare: the two tables must have the same regions and sectors, in the same order")
    ib, ia = indicators(b), indicators(a)
    reg = _stages(
        ib.rename(columns={"country": "region"}),
        ia.rename(columns={"country": "region"}),
        ["region"],
        list(COUNTRY_INDICATORS),
    )
    sb, sa = indicators(b, by="sector"), indicators(a, by="sector")
    sec = _stages(
        sb.rename(columns={"country": "region"}),
        sa.rename(columns={"country": "region"}),
        ["region", "sector"],
        list(SECTOR_INDICATORS),
    )
    lb, la = leontief(b), leontief(a)
    origin = pd.DataFrame(
        {
            "exporter": lb["using"],
            "source": lb["source"],
            "baseline": lb["value"].to_numpy(),
            "counterfactual": la["value"].to_numpy(),
        }
    )
    origin["change"] = origin["counterfactual"] - origin["baseline"]
    origin["baseline_share"] = lb["share"].to_numpy()
    origin["counterfactual_share"] = la["share"].to_numpy()
    origin["change_share"] = origin["counterfactual_share"] - origin["baseline_share"]
    origin["no_trade"] = (
        origin["baseline_share"].isna().to_numpy() | origin["counterfactual_share"].isna().to_numpy()
    )
    origin = origin.sort_values(["exporter", "source"], kind="stable").reset_index(drop=True)
    return {"value_chains": reg, "value_chains_sectors": sec, "value_added_origin": origin}
