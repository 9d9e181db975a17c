"""Plotly charts for the report (HTML fragments; plotly.js is inlined once by the page)."""

from __future__ import annotations

import pandas as pd

__all__ = ["bar_chart", "heatmap", "welfare_chart"]

_CONFIG = {"displaylogo": False, "responsive": True, "topojsonURL": "topojson/"}
#: Parts of a welfare decomposition, stacked under the total (those a run has and that are not all zero).
_DECOMP = (
    "terms_of_trade_pct",
    "volume_of_trade_pct",
    "technical_efficiency_pct",
    "productivity_pct",
    "deficit_pct",
)


def _html(fig, div_id: str) -> str:
    fig.update_layout(
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 40, "b": 60},
        font={"family": "system-ui, sans-serif", "size": 12},
    )
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=_CONFIG)


def _band(df: pd.DataFrame, col: str) -> dict | None:
    """Plotly error bars from ``<col>_lo`` / ``<col>_hi`` (an uncertainty band), or ``None``."""
    lo, hi = f"{col}_lo", f"{col}_hi"
    if lo not in df.columns or hi not in df.columns:
        return None
    return {
        "type": "data",
        "symmetric": False,
        "array": (df[hi] - df[col]).clip(lower=0).tolist(),
        "arrayminus": (df[col] - df[lo]).clip(lower=0).tolist(),
        "color": "#444",
        "thickness": 1.2,
    }


def welfare_chart(regions: pd.DataFrame, div_id: str, title: str, col: str | None = None) -> str:
    """Welfare change by region: its decomposition as stacked bars (where the model has one)
    and the total as markers; else bars of the total. Where the run has an uncertainty band
    (``<col>_lo`` / ``<col>_hi``), the total carries it as error bars."""
    import plotly.graph_objects as go

    col = col or ("welfare_pct" if "welfare_pct" in regions.columns else _first_pct(regions))
    df = regions.sort_values(col)
    band = _band(df, col)
    fig = go.Figure()
    parts = [c for c in _DECOMP if c in df.columns and df[c].abs().max() > 1e-6]  # not rounding noise
    if col == "welfare_pct" and parts:
        for c in parts:
            fig.add_bar(x=df["region"], y=df[c], name=c.removesuffix("_pct").replace("_", " "))
        fig.add_scatter(
            x=df["region"],
            y=df[col],
            mode="markers",
            name="welfare (total)" + (", band" if band else ""),
            marker={"color": "black", "size": 8, "symbol": "diamond"},
            error_y=band,
        )
        fig.update_layout(barmode="relative")
    else:
        fig.add_bar(x=df["region"], y=df[col], name=col, error_y=band)
    fig.update_layout(
        title=title, yaxis_title="percent change", legend={"orientation": "h", "y": -0.25}, height=420
    )
    return _html(fig, div_id)


def bar_chart(df: pd.DataFrame, x: str, ys: list[str], div_id: str, title: str, height: int = 380) -> str:
    """Grouped bars of the columns ``ys`` over ``x`` (with error bars where a column has a band)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for y in ys:
        fig.add_bar(x=df[x], y=df[y], name=y.removesuffix("_pct").replace("_", " "), error_y=_band(df, y))
    fig.update_layout(
        title=title,
        barmode="group",
        yaxis_title="percent change",
        legend={"orientation": "h", "y": -0.25},
        height=height,
    )
    return _html(fig, div_id)


def heatmap(
    df: pd.DataFrame, index: str, columns: str, values: str, div_id: str, title: str, unit: str = "%"
) -> str:
    """A diverging heat map of ``values`` over ``index`` x ``columns`` (0 = white)."""
    import plotly.graph_objects as go

    wide = df.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", sort=False)
    z = wide.to_numpy()
    finite = z[~pd.isna(z)]
    vmax = float(abs(finite).max()) if finite.size else 1.0
    vmax = vmax or 1.0
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in wide.columns],
            y=[str(i) for i in wide.index],
            colorscale="RdBu",
            zmin=-vmax,
            zmax=vmax,
            colorbar={"title": {"text": unit}},
            hovertemplate=f"{index}: %{{y}}<br>{columns}: %{{x}}<br>{values}: %{{z:.3f}}<extra></extra>",
        )
    )
    h = max(320, 18 * len(wide.index) + 140)
    fig.update_layout(title=title, height=h, xaxis={"tickangle": -45})
    return _html(fig, div_id)


def _first_pct(df: pd.DataFrame) -> str:
    for c in df.columns:
        if c.endswith("_pct"):
            return c
    raise ValueError("the regions table has no percent-change column")
