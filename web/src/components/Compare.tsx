import { useEffect, useState } from "preact/hooks";
import { api, type Compare as CompareData, type Row } from "../api";
import { label, welfareColumn, withoutBandEnds } from "../format";
import { RegionBars } from "./RegionBars";
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
  // an outcome's band columns x_lo / x_hi go with x: not offered on their own, shown as "x [lo, hi]"
  const outcomes = withoutBandEnds(data.columns);
  const vals = data.values[col] ?? {};
  const lo = data.values[`${col}_lo`] ?? {};
  const hi = data.values[`${col}_hi`] ?? {};
  const rows: Row[] = data.regions.map((reg) => {
    const r: Row = { region: reg };
    (vals[reg] ?? []).forEach((v, i) => {
      const name = names[i] ?? `run ${i + 1}`;
      r[name] = v;
      const l = (lo[reg] ?? [])[i];
      const h = (hi[reg] ?? [])[i];
      if (typeof l === "number" && typeof h === "number") {
        r[`${name}_lo`] = l;
        r[`${name}_hi`] = h;
      }
    });
    return r;
  });
  // what each run's welfare column measures (diagnostics.welfare_measure), beside welfare columns
  const measures = data.welfare_measures ?? [];
  const distinct = [...new Set(measures.filter((m): m is string => Boolean(m)))];
  const note =
    col.includes("welfare") && distinct.length > 0 ? (
      <div class="welfare-measure" id="compare-welfare-measure">
        {distinct.length === 1 && measures.every((m) => m === distinct[0]) ? (
          <span>
            <strong>{label(col)}</strong> in every run: {distinct[0]}
          </span>
        ) : (
          <ul>
            {names.map((n, i) => (
              <li key={n}>
                <strong>{n}</strong>: {measures[i] ?? "not recorded"}
              </li>
            ))}
          </ul>
        )}
      </div>
    ) : null;
  return (
    <section class="compare" id="compare">
      <label>
        Outcome:{" "}
        <select id="compare-column" value={col} onChange={(e) => setCol(e.currentTarget.value)}>
          {outcomes.map((c) => (
            <option key={c} value={c}>
              {label(c)}
            </option>
          ))}
        </select>
      </label>
      <a class="button small" id="compare-report" href={api.compareReportUrl(ids)} download>
        HTML report of these runs
      </a>
      <RegionBars
        id="chart-compare"
        title={`${label(col)} in each run`}
        labels={data.regions}
        note={note}
        sortBy={data.regions.map((reg) => (vals[reg] ?? [])[0] ?? null)}
        series={names.map((n, i) => ({ label: n, values: data.regions.map((reg) => (vals[reg] ?? [])[i] ?? null) }))}
      />
      <SortableTable rows={rows} id="compare-table" caption={`${label(col)} by region and run`} />
    </section>
  );
}
