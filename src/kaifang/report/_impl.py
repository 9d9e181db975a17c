from __future__ import annotations

import datetime as _dt
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kaifang.results import RunResult, package_version

__all__ = ["offline_safe", "render_report", "write_report"]

_ROW = {"ROW", "REST", "REST OF WORLD"}


def _fmt(v: Any, digits: int = 3) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int,)) and not isinstance(v, bool):
        return f"{v:,}"
    if isinstance(v, float):
        return "–" if not math.isfinite(v) else f"{v:,.{digits}f}"
    return "" if v is None else str(v)


def _table(df: pd.DataFrame, max_rows: int | None = None) -> dict[str, Any]:
    d = df if max_rows is None else df.head(max_rows)
    return {
        "columns": [str(c) for c in d.columns],
        "rows": [[_fmt(v) for v in rec] for rec in d.itertuples(index=False)],
        "numeric": [pd.api.types.is_numeric_dtype(d[c]) for c in d.columns],
        "more": 0 if max_rows is None else max(0, len(df) - max_rows),
    }


def _scenario_info(res: RunResult) -> dict[str, Any]:
    text = str(res.provenance.get("scenario_text") or "")
    try:
        data = tomllib.loads(text) if text else {}
    except tomllib.TOMLDecodeError:
        data = {}
    shocks = []
    for k, s in enumerate(data.get("shocks", [])):
        rest = {key: v for key, v in s.items() if key not in ("type", "label")}
        what = ", ".join(f"{key} = {v}" for key, v in rest.items())
        shocks.append({"k": k, "type": s.get("type", ""), "label": s.get("label", ""), "what": what})
    return {"description": data.get("description", ""), "shocks": shocks, "text": text}


def _groups_info(res: RunResult) -> list[dict[str, Any]]:
    out = []
    for name, g in (res.provenance.get("groups") or {}).items():
        if not isinstance(g, Mapping):
            continue
        out.append(
            {
                "name": name,
                "present": ", ".join(g.get("present", [])),
                "absent": ", ".join(g.get("absent", [])),
                "absent_in": g.get("absent_in") or ("outside the model" if g.get("absent") else ""),
            }
        )
    return out


def _measure(reg: pd.DataFrame, measure: str | None) -> str | None:
    if measure is not None and measure in reg.columns:
        return measure
    if "welfare_pct" in reg.columns:
        return "welfare_pct"
    return next((c for c in reg.columns if c.endswith("_pct")), None)


def _headline(label: str, rid: str | None, res: RunResult, measure: str | None = None) -> dict[str, Any]:
    reg = res.regions
    col = _measure(reg, measure)
    best = worst = ("", float("nan"))
    if col is not None and reg[col].notna().any():
        i, j = reg[col].idxmax(), reg[col].idxmin()
        best = (str(reg.loc[i, "region"]), float(reg.loc[i, col]))
        worst = (str(reg.loc[j, "region"]), float(reg.loc[j, col]))
    d = res.diagnostics
    return {
        "label": label,
        "run_id": rid or "",
        "scenario": res.scenario,
        "model": res.model,
        "dataset": res.provenance.get("dataset", ""),
        "synthetic": res.synthetic,
        "measure": col or "",
        "best": f"{best[0]} ({_fmt(best[1])})",
        "worst": f"{worst[0]} ({_fmt(worst[1])})",
        "converged": d.get("converged", ""),
        "solve_seconds": _fmt(d.get("solve_seconds", float("nan"))),
    }


def _run_section(
    idx: int, label: str, rid: str | None, res: RunResult, measure: str | None = None
) -> dict[str, Any]:
    from kaifang.report import charts
    from kaifang.report.worldmap import world_map_svg

    reg = res.regions
    sec: dict[str, Any] = {
        "anchor": f"run-{idx}",
        "label": label,
        "run_id": rid or "",
        "res": res,
        "info": _scenario_info(res),
        "groups": _groups_info(res),
        "regions_table": _table(reg),
        "charts": {"welfare": None, "trade": None, "diversion": None, "sectors": None},
        "notes": [],
        "map": None,
        "map_counts": None,
        "diversion_table": None,
        "diversification_table": None,
        "sectors_table": None,
        "value_chains": None,
    }
    col = _measure(reg, measure)
    if col is not None:
        sec["charts"]["welfare"] = charts.welfare_chart(reg, f"welfare-{idx}", f"{col} by region", col)
        values = {
            str(r): float(v)
            for r, v in zip(reg["region"], reg[col], strict=True)
            if str(r).upper() not in _ROW
        }
        row_vals = [float(v) for r, v in zip(reg["region"], reg[col], strict=True) if str(r).upper() in _ROW]
        svg, counts = world_map_svg(
            values,
            label=col.replace("_", " "),
            row_value=row_vals[0] if row_vals else None,
            element_id=f"world-map-{idx}",
        )
        sec["map"] = svg
        sec["map_counts"] = counts
        if counts["coloured"] == 0:
            sec["notes"].append(
                "None of this data set's regions is a real country (synthetic codes), so the map has no "
                "coloured country."
            )
    trade_cols = [c for c in ("exports_pct", "imports_pct") if c in reg.columns]
    if trade_cols:
        sec["charts"]["trade"] = charts.bar_chart(
            reg, "region", trade_cols, f"trade-{idx}", "Trade by region"
        )
    div = res.tables.get("diversion")
    if div is not None and len(div):
        imp = div[div["flow"] == "imports"]
        sec["charts"]["diversion"] = charts.heatmap(
            imp,
            "region",
            "partner",
            "share_change_pp",
            f"diversion-{idx}",
            "Import diversion: change in each region's import share by partner (percentage points)",
            unit="pp",
        )
        top = div.reindex(div["share_change_pp"].abs().sort_values(ascending=False).index)
        cols = [
            "region",
            "partner",
            "flow",
            "share_baseline_pct",
            "share_counterfactual_pct",
            "share_change_pp",
        ]
        if "value_change_pct" in top.columns:
            cols.append("value_change_pct")
        sec["diversion_table"] = _table(top[cols], max_rows=15)
    dvf = res.tables.get("diversification")
    if dvf is not None and len(dvf):
        sec["diversification_table"] = _table(dvf)
    bil = res.tables.get("bilateral")
    if div is None and bil is not None and {"region", "partner", "imports_pct"} <= set(bil.columns):
        sec["charts"]["diversion"] = charts.heatmap(
            bil, "region", "partner", "imports_pct", f"diversion-{idx}", "Imports by partner (percent change)"
        )
    sectors = res.tables.get("sectors")
    if sectors is not None and {"region", "sector"} <= set(sectors.columns):
        for c in ("gross_output_pct", "exports_pct", "output_pct"):
            if c in sectors.columns and sectors[c].notna().any():
                sec["charts"]["sectors"] = charts.heatmap(
                    sectors,
                    "region",
                    "sector",
                    c,
                    f"sectors-{idx}",
                    f"Sector detail: {c} by region and sector",
                )
                break
        num = [c for c in sectors.columns if c.endswith("_pct")][:4]
        sec["sectors_table"] = _table(
            sectors.reindex(sectors[num[0]].abs().sort_values(ascending=False).index)[
                ["region", "sector", *num]
            ]
            if num
            else sectors,
            max_rows=20,
        )
    from kaifang.report.valuechains import value_chain_section

    sec["value_chains"] = value_chain_section(idx, res, _table, charts._html)
    return sec


def offline_safe(page: str) -> str:
    """Make sure the page references no ``http://`` or ``https://`` resource.

    Inside ``<script>`` elements every ``://`` after ``http``/``https`` is written ``:\\/\\/``
    (the same string to JavaScript and JSON); elsewhere as ``:&#47;&#47;`` (the same text to
    HTML). Such strings in the plotting library are links in messages, XML namespace names and
    map-tile addresses of chart types the report does not use; none is fetched.
    """
    parts = re.split(r"(<script\b[^>]*>.*?</script>)", page, flags=re.DOTALL | re.IGNORECASE)
    out = []
    for p in parts:
        if p[:7].lower() == "<script":
            p = re.sub(r"(?i)(https?):/{2}", r"\1:\\/\\/", p)
        else:
            p = re.sub(r"(?i)(https?):/{2}", r"\1:&#47;&#47;", p)
        out.append(p)
    page = "".join(out)
    assert not re.search(r"(?i)https?://", page)
    return page


def _plotly_js() -> str:
    import plotly.offline

    js = plotly.offline.get_plotlyjs()
    # no topojson from a CDN: the report draws its map itself and uses no geo traces
    js = js.replace('dflt:"https://cdn.plot.ly/un/"', 'dflt:"topojson/"')
    return js.replace("</script", "<\\/script")


def render_report(
    runs: Mapping[str, tuple[str | None, RunResult]] | Sequence[RunResult],
    *,
    title: str | None = None,
    measure: str | None = None,
) -> str:
    """The report as one self-contained HTML page (charts, map and styles inlined).

    Parameters
    ----------
    runs
        Label -> (run id or ``None``, result), or plain results.
    title
        Page title; default from the scenario names.
    measure
        The outcome column for the headline, the welfare chart and the map (default
        ``welfare_pct``, else the first ``_pct`` column); it must exist in some run.
    """
    import jinja2

    if not isinstance(runs, Mapping):
        labelled: dict[str, tuple[str | None, RunResult]] = {}
        for r in runs:
            label, k = r.scenario, 2
            while label in labelled:
                label, k = f"{r.scenario}#{k}", k + 1
            labelled[label] = (None, r)
        runs = labelled
    if not runs:
        raise ValueError("no runs to report")
    from kaifang.report.compare import compare_runs

    if measure is not None and not any(measure in r.regions.columns for _, r in runs.values()):
        from kaifang.errors import UserInputError, suggest

        cols = list(dict.fromkeys(c for _, r in runs.values() for c in r.regions.columns if c != "region"))
        raise UserInputError(
            f"no run has the outcome {measure!r} (--measure).{suggest(measure, cols)} Outcomes: {', '.join(cols)}."
        )
    sections = [
        _run_section(i, label, rid, res, measure) for i, (label, (rid, res)) in enumerate(runs.items())
    ]
    headline = [_headline(label, rid, res, measure) for label, (rid, res) in runs.items()]
    comparison = None
    if len(runs) > 1:
        comp = compare_runs({k: v[1] for k, v in runs.items()})
        outs = [c for c in comp.columns if c not in ("region", "run", "scenario", "model")][:2]
        wide = comp.pivot(index="region", columns="run", values=outs)
        wide = wide.reindex(list(dict.fromkeys(comp["region"])))
        wide.columns = [f"{o} [{r}]" for o, r in wide.columns]
        comparison = _table(wide.reset_index())
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("kaifang.report", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    page = env.get_template("report.html").render(
        title=title or "kaifang report: " + ", ".join(dict.fromkeys(r.scenario for _, r in runs.values())),
        generated=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=package_version(),
        headline=headline,
        comparison=comparison,
        sections=sections,
        any_synthetic=any(r.synthetic for _, r in runs.values()),
        plotly_js=_plotly_js(),
    )
    return offline_safe(page)


def write_report(
    runs: Mapping[str, tuple[str | None, RunResult]] | Sequence[RunResult],
    path: str | Path,
    *,
    title: str | None = None,
    measure: str | None = None,
) -> Path:
    """Write :func:`render_report` to ``path`` (UTF-8); return the path."""
    out = Path(path)
    page = render_report(runs, title=title, measure=measure)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
