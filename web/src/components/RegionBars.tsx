import type { ComponentChildren } from "preact";
import { useMemo, useState } from "preact/hooks";
import { finite } from "../format";
import { BarChart, type Series } from "./BarChart";
import { countryName } from "./WorldMap";

/** How many of the highest and of the lowest values a long chart shows until "show all". */
export const TOP = 15;

interface Props {
  id: string;
  title: string;
  labels: string[];
  series: Series[];
  stacked?: boolean;
  yLabel?: string;
  note?: ComponentChildren;
  /** What the bars are ordered by (default: the sum of the series). */
  sortBy?: (number | null)[];
  /** What one bar is called in captions ("regions", "partners"). */
  noun?: string;
  top?: number;
}


/** The bars to show: sorted by value (or name), the top and bottom `top` of a long list unless
 * `all`, or those whose label (or country name) contains `query`. "gap" marks the cut. */
export function pickBars(labels: string[], key: (number | null)[], opts: { query: string; all: boolean; order: "value" | "name"; top: number }): (number | "gap")[] {
  const idx = labels.map((_, i) => i);
  if (opts.order === "name") idx.sort((a, b) => labels[a].localeCompare(labels[b]));
  else
    idx.sort((a, b) => {
      const x = key[a];
      const y = key[b];
      if (!finite(x) && !finite(y)) return labels[a].localeCompare(labels[b]);
      if (!finite(x)) return 1;
      if (!finite(y)) return -1;
      return y - x;
    });
  const q = opts.query.trim().toLowerCase();
  if (q) return idx.filter((i) => labels[i].toLowerCase().includes(q) || (countryName(labels[i]) ?? "").toLowerCase().includes(q));
  if (opts.all || labels.length <= 2 * opts.top + 4 || opts.order === "name") return idx;
  const valued = idx.filter((i) => finite(key[i]));
  const rest = idx.filter((i) => !finite(key[i]));
  if (valued.length <= 2 * opts.top) return [...valued, ...rest];
  return [...valued.slice(0, opts.top), "gap", ...valued.slice(-opts.top)];
}

/** A bar chart of one value per region (or partner) that stays readable for 194 of them: sorted by
 * value, the top and bottom few with a toggle for all, and a search box. */
export function RegionBars({ id, title, labels, series, stacked = false, yLabel, note, sortBy, noun = "regions", top = TOP }: Props) {
  const [query, setQuery] = useState("");
  const [all, setAll] = useState(false);
  const [order, setOrder] = useState<"value" | "name">("value");
  const key = useMemo(
    () => sortBy ?? labels.map((_, i) => series.reduce((s, x) => (finite(x.values[i]) ? s + (x.values[i] as number) : s), 0)),
    [labels, series, sortBy],
  );
  const picked = useMemo(() => pickBars(labels, key, { query, all, order, top }), [labels, key, query, all, order, top]);
  const shownLabels = useMemo(() => picked.map((i) => (i === "gap" ? "⋯" : labels[i])), [picked, labels]);
  const shownSeries = useMemo(() => {
    const pick = (v: (number | null)[]) => picked.map((i) => (i === "gap" ? null : v[i]));
    return series.map((s) => ({ ...s, values: pick(s.values), ...(s.lo && s.hi ? { lo: pick(s.lo), hi: pick(s.hi) } : {}) }));
  }, [picked, series]);
  const long = labels.length > 2 * top + 4;
  const count = picked.filter((i) => i !== "gap").length;
  const what = query.trim()
    ? `${count} of ${labels.length} ${noun} matching “${query.trim()}”`
    : picked.includes("gap")
      ? `the ${top} highest and ${top} lowest of ${labels.length} ${noun}`
      : `all ${labels.length} ${noun}`;
  const controls = (
    <div class="bar-controls" id={`${id}-controls`}>
      <input type="search" class="bar-search" placeholder={`find ${noun}: code or name`} value={query} onInput={(e) => setQuery(e.currentTarget.value)} aria-label={`find ${noun}`} />
      <label>
        order{" "}
        <select class="bar-order" value={order} onChange={(e) => setOrder(e.currentTarget.value as "value" | "name")}>
          <option value="value">by value</option>
          <option value="name">by name</option>
        </select>
      </label>
      {long && (
        <button type="button" class="small bar-all" onClick={() => setAll((a) => !a)} aria-pressed={all}>
          {all ? `top and bottom ${top} only` : `show all ${labels.length}`}
        </button>
      )}
      <span class="muted bar-shown" data-shown={count}>
        showing {what}
      </span>
    </div>
  );
  return (
    <BarChart
      id={id}
      title={title}
      labels={shownLabels}
      series={shownSeries}
      stacked={stacked}
      yLabel={yLabel}
      note={note}
      controls={controls}
      horizontal={shownLabels.length > 40}
    />
  );
}
