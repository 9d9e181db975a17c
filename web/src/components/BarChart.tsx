import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export interface Series {
  label: string;
  values: (number | null)[];
}

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

/** A bar chart (grouped or stacked) drawn with Chart.js on a canvas. */
export function BarChart({ labels, series, stacked = false, title, yLabel, id, horizontal = false, note, controls }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      type: "bar",
      data: {
        labels,
        datasets: series.map((s, i) => ({
          label: s.label,
          data: s.values,
          backgroundColor: PALETTE[i % PALETTE.length],
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
              x: { stacked, title: { display: Boolean(yLabel), text: yLabel ?? "" } },
              y: { stacked, ticks: { autoSkip: false } },
            }
          : {
              x: { stacked, ticks: { autoSkip: false, maxRotation: 90 } },
              y: { stacked, ticks: { autoSkip: false }, title: { display: Boolean(yLabel), text: yLabel ?? "" } },
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
