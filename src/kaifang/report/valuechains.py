"""The report's value-chain section: GVC participation before and after a shock and the origin of
the value added in the exports of the regions the scenario names (runs with
``[output] value_chains = true``; tables of :mod:`kaifang.valuechains.counterfactual`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from kaifang.results import RunResult

__all__ = ["FOCUS_MAX", "value_chain_section"]

#: At most this many exporters in the origin chart.
FOCUS_MAX = 6
#: Sources shown one by one in the origin chart (the rest are summed as "other").
SOURCES_MAX = 6
_TABLE_COLS = ("vax_ratio", "fva_share", "dvx_share", "gvc_participation", "gvc_position")


def _focus(res: RunResult, reg: pd.DataFrame) -> list[str]:
    info = res.diagnostics.get("value_chains") or {}
    named = [str(r) for r in info.get("focus", [])] if isinstance(info, dict) else []
    change = reg[reg["stage"] == "change"].set_index("region")["fva_share"].abs()
    if not named or len(named) > FOCUS_MAX:
        pool = change.reindex(named) if named else change
        named = [str(r) for r in pool.sort_values(ascending=False).index[:FOCUS_MAX]]
    return named


def participation_chart(reg: pd.DataFrame, div_id: str, html: Callable[[Any, str], str]) -> str:
    """Backward and forward GVC participation by region, baseline and counterfactual."""
    import plotly.graph_objects as go

    wide = reg[reg["stage"] != "change"].pivot_table(
        index="region", columns="stage", values=["gvc_backward", "gvc_forward"], observed=True, sort=False
    )
    order = (
        reg[reg["stage"] == "counterfactual"]
        .set_index("region")["gvc_participation"]
        .sort_values(ascending=False)
    )
    wide = wide.reindex(order.index.astype(str))
    fig = go.Figure()
    for stage, offset in (("baseline", "before"), ("counterfactual", "after")):
        for part, colour in (("gvc_backward", "#4c78a8"), ("gvc_forward", "#f58518")):
            fig.add_bar(
                x=list(wide.index),
                y=100 * wide[(part, stage)],
                name=f"{part.removeprefix('gvc_')} ({offset})",
                offsetgroup=stage,
                marker={"color": colour, "opacity": 0.55 if stage == "baseline" else 1.0},
                hovertemplate="%{x}: %{y:.2f}% of gross exports<extra></extra>",
            )
    fig.update_layout(
        title="GVC participation before (light) and after: backward + forward",
        barmode="relative",
        yaxis_title="% of gross exports",
        legend={"orientation": "h", "y": -0.25},
        height=440,
    )
    return html(fig, div_id)


def origin_chart(
    origin: pd.DataFrame, exporters: list[str], div_id: str, html: Callable[[Any, str], str]
) -> str:
    """Stacked shares of each foreign source of value added in the gross exports of ``exporters``,
    before and after; for each exporter they add up to its fva_share."""
    import plotly.graph_objects as go

    sub = origin[origin["exporter"].astype(str).isin(exporters)].copy()
    sub["exporter"] = sub["exporter"].astype(str)
    sub["source"] = sub["source"].astype(str)
    foreign = sub[sub["exporter"] != sub["source"]]
    top = foreign.groupby("source")["counterfactual"].sum().sort_values(ascending=False).index[:SOURCES_MAX]
    sub = sub[sub["source"] != sub["exporter"]]
    sub["group"] = sub["source"].where(sub["source"].isin(top), "other")
    x = [f"{e} {stage}" for e in exporters for stage in ("before", "after")]
    fig = go.Figure()
    for group in [*top, "other"]:
        part = (
            sub[sub["group"] == group].groupby("exporter")[["baseline_share", "counterfactual_share"]].sum()
        )
        y = []
        for e in exporters:
            row = (
                part.loc[e]
                if e in part.index
                else pd.Series({"baseline_share": 0.0, "counterfactual_share": 0.0})
            )
            y += [100 * float(row["baseline_share"]), 100 * float(row["counterfactual_share"])]
        fig.add_bar(x=x, y=y, name=group, hovertemplate="%{x}: %{y:.2f}%<extra>" + group + "</extra>")
    fig.update_layout(
        title="Foreign value added in their exports, by source country",
        barmode="stack",
        yaxis_title="% of gross exports",
        legend={"orientation": "h", "y": -0.25},
        height=440,
    )
    return html(fig, div_id)


def value_chain_section(
    idx: int, res: RunResult, table: Callable[..., dict[str, Any]], html: Callable[[Any, str], str]
) -> dict[str, Any] | None:
    """Charts, table and notes of the value-chain section of one run (``None`` without its tables)."""
    reg = res.tables.get("value_chains")
    origin = res.tables.get("value_added_origin")
    if reg is None or not len(reg):
        return None
    reg = reg.copy()
    reg["region"] = reg["region"].astype(str)
    reg["stage"] = reg["stage"].astype(str)
    focus = _focus(res, reg)
    wide = reg.pivot_table(
        index="region", columns="stage", values=list(_TABLE_COLS), observed=True, sort=False
    )
    cols = {}
    for c in _TABLE_COLS:
        for stage, label in (("baseline", "before"), ("counterfactual", "after"), ("change", "change")):
            cols[f"{c} {label}"] = wide[(c, stage)]
    tab = pd.DataFrame(cols)
    tab = tab.reindex(tab["gvc_participation change"].abs().sort_values(ascending=False).index)
    out = {
        "participation": participation_chart(reg, f"gvc-participation-{idx}", html),
        "origin": origin_chart(origin, focus, f"gvc-origin-{idx}", html)
        if origin is not None and focus
        else None,
        "focus": ", ".join(focus),
        "table": table(tab.reset_index(), max_rows=15),
        "notes": [
            "Value chains of the baseline equilibrium and the counterfactual, each rebuilt as a world "
            "input-output table under proportional sourcing (every use of a good in a country buys from "
            "each origin in the country's trade shares, as in the model). Shares are fractions of gross "
            "exports; change = after - before. Backward participation: foreign value added in a region's "
            "exports; forward: its value added in intermediates that partners re-export to third countries "
            "(Koopman et al. 2010). Definitions: docs/valuechains.md.",
        ],
    }
    return out
