import { useEffect, useState } from "preact/hooks";
import { api, type Compare as CompareData, type Row } from "../api";
import { label, welfareColumn } from "../format";
import { BarChart } from "./BarChart";
import { SortableTable } from "./SortableTable";

/** Two or more runs side by side: one outcome, every region, one column per run. */
export function Compare({ ids }: { ids: string[] }) {
  const [data, setData] = useState<CompareData | null>(null);
  const [col, setCol] = useState("");
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setData(null);
    api
      .compare(ids)
      .then((d) => {
        setData(d);
        setCol(welfareColumn(d.columns) ?? d.columns[0] ?? "");
      })
      .catch((e: Error) => setError(e.message));
  }, [ids.join(",")]);
  if (error) return <p class="error">{error}</p>;
  if (!data) return <p class="muted">loading…</p>;
  if (!data.columns.length) return <p class="muted">These runs share no numeric outcome column.</p>;
  const names = data.runs.map((r, i) => `${i + 1}. ${r.scenario} (${r.model})`);
  const vals = data.values[col] ?? {};
  const rows: Row[] = data.regions.map((reg) => {
    const r: Row = { region: reg };
    (vals[reg] ?? []).forEach((v, i) => (r[names[i] ?? `run ${i + 1}`] = v));
    return r;
  });
  return (
    <section class="compare" id="compare">
      <label>
        Outcome:{" "}
        <select id="compare-column" value={col} onChange={(e) => setCol(e.currentTarget.value)}>
          {data.columns.map((c) => (
            <option key={c} value={c}>
              {label(c)}
            </option>
          ))}
        </select>
      </label>
      <a class="button small" id="compare-report" href={api.compareReportUrl(ids)} download>
        HTML report of these runs
      </a>
      <BarChart
        id="chart-compare"
        title={`${label(col)} in each run`}
        labels={data.regions}
        series={names.map((n, i) => ({ label: n, values: data.regions.map((reg) => (vals[reg] ?? [])[i] ?? null) }))}
      />
      <SortableTable rows={rows} id="compare-table" caption={`${label(col)} by region and run`} />
    </section>
  );
}
