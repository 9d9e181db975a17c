import { useMemo } from "preact/hooks";
import { geoNaturalEarth1, geoPath } from "d3-geo";
import { feature } from "topojson-client";
import type { Feature, FeatureCollection, Geometry } from "geojson";
import type { GeometryCollection, Topology } from "topojson-specification";
import world from "world-atlas/countries-110m.json";
import codes from "i18n-iso-countries/codes.json";
import { fmt, label } from "../format";

// ISO 3166-1 numeric (the atlas' feature ids) -> alpha-3 (kaifang's region codes).
const NUM_TO_ISO3 = new Map<string, string>((codes as string[][]).map((c) => [c[2], c[1]]));

const topo = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
const COUNTRIES = feature(topo, topo.objects.countries) as FeatureCollection<Geometry, { name: string }>;
const W = 960;
const H = 480;
const projection = geoNaturalEarth1().fitSize([W, H], COUNTRIES);
const path = geoPath(projection);
const SHAPES = COUNTRIES.features.map((f: Feature<Geometry, { name: string }>) => ({
  iso3: NUM_TO_ISO3.get(String(f.id ?? "")) ?? "",
  name: f.properties?.name ?? "",
  d: path(f) ?? "",
}));

const NAMES = new Map(SHAPES.filter((s) => s.iso3).map((s) => [s.iso3, s.name]));

/** The country's name for an ISO 3166 alpha-3 code (from the bundled atlas), if known. */
export function countryName(iso3: string): string | undefined {
  return NAMES.get(iso3);
}

// Diverging colours: red for losses, blue for gains, white at zero.
function colour(v: number, max: number): string {
  const t = Math.max(-1, Math.min(1, v / (max || 1)));
  const mix = (a: number, b: number) => Math.round(a + (b - a) * Math.abs(t));
  return t >= 0 ? `rgb(${mix(247, 33)},${mix(247, 102)},${mix(247, 172)})` : `rgb(${mix(247, 178)},${mix(247, 24)},${mix(247, 43)})`;
}

interface Props {
  values: Record<string, number | null>; // region code -> value
  column: string;
}

/** A choropleth world map of one outcome column (geometry bundled into the build; no network). */
export function WorldMap({ values, column }: Props) {
  const max = useMemo(
    () => Math.max(0, ...Object.values(values).map((v) => (typeof v === "number" && Number.isFinite(v) ? Math.abs(v) : 0))),
    [values],
  );
  const shown = SHAPES.filter((s) => s.iso3 in values).length;
  const row = values["ROW"];
  return (
    <figure class="map" id="world-map">
      <figcaption>
        {label(column)} by country{" "}
        <span class="muted">
          ({shown} countries on the map; grey: not a separate region{typeof row === "number" ? `; rest of world ${fmt(row)}` : ""})
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`world map of ${label(column)}`}>
        {SHAPES.map((s, i) => {
          const v = values[s.iso3];
          const has = typeof v === "number" && Number.isFinite(v);
          return (
            <path key={i} d={s.d} fill={has ? colour(v as number, max) : "#d9d9d9"} stroke="#888" stroke-width="0.4" data-iso3={s.iso3} class={has ? "has-value" : ""}>
              <title>{`${s.name}${s.iso3 ? ` (${s.iso3})` : ""}: ${has ? fmt(v) : "not in this data set"}`}</title>
            </path>
          );
        })}
      </svg>
      <div class="legend">
        <span style={{ background: colour(-max, max) }} /> {fmt(-max, 2)}
        <span style={{ background: colour(0, max) }} /> 0
        <span style={{ background: colour(max, max) }} /> {fmt(max, 2)}
      </div>
    </figure>
  );
}
