import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { finite } from "../format";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type Plugin } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  label: string;
  values: (number | null)[];
  /** Lower and upper ends of each bar's band, drawn as a whisker (error bar). */
  lo?: (number | null)[];
  hi?: (number | null)[];
  /** Bars of series with the same `stack` are stacked on one another (with `stacked`). */
  stack?: string;
  color?: string;
}


/** Draws each series' band [lo, hi] as a whisker over its bars; the canvas's `data-whiskers`
 * attribute says how many were drawn. */
const whiskers: Plugin<"bar"> = {
  id: "whiskers",
  afterDatasetsDraw(chart) {
    const horizontal = chart.options.indexAxis === "y";
    const scale = horizontal ? chart.scales.x : chart.scales.y;
    const ctx = chart.ctx;
    let drawn = 0;
    chart.data.datasets.forEach((ds, i) => {
      const band = (ds as unknown as { band?: { lo: (number | null)[]; hi: (number | null)[] } }).band;
      const meta = chart.getDatasetMeta(i);
      if (!band || meta.hidden || !scale) return;
      ctx.save();
      ctx.strokeStyle = "#1a202c";
      ctx.lineWidth = 1.3;
      meta.data.forEach((el, j) => {
        const lo = band.lo[j];
        const hi = band.hi[j];
        if (!finite(lo) || !finite(hi)) return;
        const a = scale.getPixelForValue(lo);
        const b = scale.getPixelForValue(hi);
        const props = el as unknown as { x: number; y: number; width?: number; height?: number };
        const at = horizontal ? props.y : props.x;
        const cap = Math.max(2, Math.min(7, ((horizontal ? props.height : props.width) ?? 12) / 4));
        ctx.beginPath();
        if (horizontal) {
          ctx.moveTo(a, at);
          ctx.lineTo(b, at);
          for (const e of [a, b]) {
            ctx.moveTo(e, at - cap);
            ctx.lineTo(e, at + cap);
          }
        } else {
          ctx.moveTo(at, a);
          ctx.lineTo(at, b);
          for (const e of [a, b]) {
            ctx.moveTo(at - cap, e);
            ctx.lineTo(at + cap, e);
          }
        }
        ctx.stroke();
        drawn++;
      });
      ctx.restore();
    });
    chart.canvas.dataset.whiskers = String(drawn);
  },
};

interface Props {
  labels: string[];
  series: Series[];
  stacked?: boolean;
  title: string;
  yLabel?: string;
  id?: string;
  horizontal?: boolean;
  /** Shown under the title (e.g. what the plotted measure is). */
  note?: ComponentChildren;
  /** Controls shown between the title and the chart. */
  controls?: ComponentChildren;
}

const PALETTE = ["#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#319795", "#b7791f", "#4a5568"];

/** A bar chart (grouped or stacked) drawn with Chart.js on a canvas; series with a band get whiskers. */
export function BarChart({ labels, series, stacked = false, title, yLabel, id, horizontal = false, note, controls }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    // the value axis reaches the ends of the whiskers, not only the bars
    const ends = series.flatMap((s) => [...(s.lo ?? []), ...(s.hi ?? [])]).filter(finite);
    const range = ends.length ? { suggestedMin: Math.min(0, ...ends), suggestedMax: Math.max(0, ...ends) } : {};
    const chart = new Chart(canvas.current, {
      type: "bar",
      plugins: [whiskers],
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: s.color ?? PALETTE[i % PALETTE.length],
          ...(s.stack ? { stack: s.stack } : {}),
          ...(s.lo && s.hi ? { band: { lo: s.lo, hi: s.hi } } : {}),
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: { legend: { display: series.length > 1 }, tooltip: { enabled: true } },
        scales: horizontal
          ? {
              x: { stacked, title: { display: Boolean(yLabel), text: yLabel ?? "" }, ...range },
              y: { stacked, ticks: { autoSkip: false } },
            }
          : {
              x: { stacked, ticks: { autoSkip: false, maxRotation: 90 } },
              y: { stacked, ticks: { autoSkip: false }, title: { display: Boolean(yLabel), text: yLabel ?? "" }, ...range },
            },
      },
    });
    return () => chart.destroy();
  }, [labels, series, stacked, horizontal, yLabel]);
  return (
    <figure class="chart" id={id}>
      <figcaption>{title}</figcaption>
      {note && <p class="chart-note">{note}</p>}
      {controls}
      <div class="chart-box" style={{ height: horizontal ? `${Math.max(240, labels.length * 16 + 60)}px` : "300px" }}>
        <canvas ref={canvas} role="img" aria-label={title} />
      </div>
    </figure>
  );
}
