import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type RunDoc, type Table } from "../api";
import { fmt, label, numericColumns, welfareColumn } from "../format";
import { RegionBars } from "./RegionBars";
import { SortableTable } from "./SortableTable";
import { WorldMap } from "./WorldMap";

// Components of a welfare decomposition (Caliendo and Parro 2015, eq. 29: terms of trade, volume
// of trade and, with input-output links, technical efficiency), plus any welfare_*_pct column.
const COMPONENTS = ["terms_of_trade_pct", "volume_of_trade_pct", "technical_efficiency_pct"];

function decomposition(cols: string[], total: string | undefined): string[] {
  return cols.filter((c) => c !== total && (COMPONENTS.includes(c) || (c.startsWith("welfare_") && c.endsWith("_pct"))));
}

const TRADE = /^(exports|imports|trade)(_|$)/;

/** The results of one run: `doc` (from the job as soon as it is solved, or from the store); `runId`
 * once the store has saved it (downloads and extra tables need it). */
export function Results({ doc, runId, onRendered }: { doc: RunDoc; runId: string | null; onRendered?: () => void }) {
  const cols0 = numericColumns(doc.document.regions);
  const [mapCol, setMapCol] = useState<string>(welfareColumn(cols0) ?? cols0[0] ?? "");
  useEffect(() => {
    if (onRendered) onRendered();
  }, [doc]);
  const d = doc.document;
  const rows = d.regions;
  const cols = numericColumns(rows);
  const regions = rows.map((r) => String(r.region));
  const welfare = welfareColumn(cols);
  const parts = decomposition(cols, welfare);
  const trade = cols.filter((c) => TRADE.test(c) && c.endsWith("_pct"));
  const mapValues = Object.fromEntries(rows.map((r) => [String(r.region), typeof r[mapCol] === "number" ? (r[mapCol] as number) : null]));
  const diag = d.diagnostics;
  const measure = typeof diag.welfare_measure === "string" ? diag.welfare_measure : null;
  const welfareNote = welfare && measure ? (
    <span class="welfare-measure">
      <strong>{label(welfare)}</strong>: {measure}
    </span>
  ) : null;
  return (
    <section class="results" data-run={runId ?? ""}>
      <header class="run-head">
        <h2>
          {d.scenario} <span class="muted">— {d.model}</span>
        </h2>
        {d.synthetic && <p class="badge warn">SYNTHETIC DEMO DATA: illustrative only, not real economies.</p>}
        <p class="muted">
          run <code>{runId ?? "(saving…)"}</code> · data set {String(d.provenance.dataset ?? "")} · converged {String(diag.converged)} · iterations {fmt(diag.iterations)} · residual{" "}
          {typeof diag.residual === "number" ? diag.residual.toExponential(2) : "—"} · solve {fmt(diag.solve_seconds)} s
        </p>
        {runId ? (
          <nav class="downloads">
            Download:{" "}
            {(["csv", "parquet", "xlsx", "html"] as const).map((f) => (
              <a key={f} class="button small" id={`dl-${f}`} href={api.downloadUrl(runId, f)} download>
                {f === "html" ? "HTML report" : f.toUpperCase()}
              </a>
            ))}
          </nav>
        ) : (
          <p class="muted">saving in the results store…</p>
        )}
      </header>

      <SortableTable
        rows={rows}
        id="results-table"
        caption={`Change by region (${rows.length} regions) — click a header to sort`}
        titles={welfare && measure ? { [welfare]: `${label(welfare)}: ${measure}` } : undefined}
      />
      {welfareNote && <p class="muted table-note">{welfareNote}</p>}

      <div class="charts">
        {welfare && parts.length > 0 && (
          <RegionBars
            id="chart-welfare"
            title={`Welfare decomposition (${parts.map(label).join(" + ")}); total ${label(welfare)}`}
            labels={regions}
            stacked
            yLabel="%"
            note={welfareNote}
            sortBy={rows.map((r) => r[welfare] as number | null)}
            series={parts.map((c) => ({ label: label(c), values: rows.map((r) => r[c] as number | null) }))}
          />
        )}
        {welfare && parts.length === 0 && (
          <RegionBars
            id="chart-welfare"
            title={`Welfare: ${label(welfare)}`}
            labels={regions}
            yLabel="%"
            note={welfareNote}
            series={[{ label: label(welfare), values: rows.map((r) => r[welfare] as number | null) }]}
          />
        )}
        {trade.length > 0 && (
          <RegionBars
            id="chart-trade"
            title="Trade changes by region"
            labels={regions}
            yLabel="%"
            sortBy={rows.map((r) => r[trade[0]] as number | null)}
            series={trade.map((c) => ({ label: label(c), values: rows.map((r) => r[c] as number | null) }))}
          />
        )}
        {runId && <Diversion runId={runId} doc={doc} />}
      </div>

      <div class="map-controls">
        <label>
          Map:{" "}
          <select id="map-column" value={mapCol} onChange={(e) => setMapCol(e.currentTarget.value)}>
            {cols.map((c) => (
              <option key={c} value={c}>
                {label(c)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {mapCol && <WorldMap values={mapValues} column={mapCol} />}

      {doc.tables.length > 0 && <p class="muted">Further tables in the downloads: {doc.tables.map((t) => `${t.name} (${t.rows} rows)`).join(", ")}.</p>}
    </section>
  );
}

/** Trade diversion: for one region, how its trade shifts between partners. Uses the run's
 * `diversion` table (partner shares of a region's imports/exports, change in percentage points,
 * and the change in the value of each partner's trade, %) when the model gives one, else the
 * bilateral `flows` table (change in imports by source). Percentage points and percent are drawn
 * on separate charts; long partner lists show the largest gains and losses (a toggle shows all). */
function Diversion({ runId, doc }: { runId: string; doc: RunDoc }) {
  const dedicated = doc.tables.find((t) => t.name === "diversion" && ["region", "partner", "flow", "share_change_pp"].every((c) => t.columns.includes(c)));
  const info = dedicated ?? doc.tables.find((t) => t.columns.includes("importer") && t.columns.includes("exporter"));
  const regions = doc.document.regions.map((r) => String(r.region));
  const [region, setRegion] = useState<string>(regions.includes("USA") ? "USA" : regions[0] ?? "");
  const [flow, setFlow] = useState<"imports" | "exports">("imports");
  const [table, setTable] = useState<Table | null>(null);
  useEffect(() => {
    if (!info || !region) return;
    let live = true;
    const where = dedicated ? [`region=${region}`, `flow=${flow}`] : [`importer=${region}`];
    api.table(runId, info.name, where).then((t) => live && setTable(t)).catch(() => live && setTable(null));
    return () => {
      live = false;
    };
  }, [runId, info?.name, region, flow]);
  const views = useMemo(() => (table ? (dedicated ? shareSeries(table, region, flow) : [diversionSeries(table, region)]) : null), [table, region, flow]);
  if (!info) return null;
  return (
    <div class="diversion">
      <label>
        Trade diversion — {dedicated ? (
          <select id="diversion-flow" value={flow} onChange={(e) => setFlow(e.currentTarget.value as "imports" | "exports")}>
            <option value="imports">imports</option>
            <option value="exports">exports</option>
          </select>
        ) : (
          "imports"
        )}{" "}
        of{" "}
        <select id="diversion-region" value={region} onChange={(e) => setRegion(e.currentTarget.value)}>
          {regions.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      {views &&
        views.map(
          (v, i) =>
            v.labels.length > 0 && (
              <RegionBars
                key={v.id}
                id={i === 0 ? "chart-diversion" : v.id}
                title={v.title}
                labels={v.labels}
                yLabel={v.unit}
                series={v.series}
                sortBy={v.sortBy}
                noun="partners"
                top={10}
              />
            ),
        )}
    </div>
  );
}

/** The change in each partner's share of a region's imports (or exports), in percentage points,
 * and, on its own chart, the change in the value of that trade (%), partners in the same order. */
function shareSeries(t: Table, region: string, flow: string) {
  const rows = t.rows;
  const labels = rows.map((r) => String(r.partner));
  const pp = rows.map((r) => (typeof r.share_change_pp === "number" ? r.share_change_pp : null));
  const out = [
    {
      id: "chart-diversion-share",
      title: `Trade diversion: change in each partner's share of ${region}'s ${flow} (percentage points)`,
      unit: "percentage points",
      labels,
      sortBy: pp,
      series: [{ label: "share change (pp)", values: pp }],
    },
  ];
  if (t.columns.includes("value_change_pct"))
    out.push({
      id: "chart-diversion-value",
      title: `Change in the value of ${region}'s ${flow} by partner (%)`,
      unit: "%",
      labels,
      sortBy: pp,
      series: [{ label: "value change (%)", values: rows.map((r) => (typeof r.value_change_pct === "number" ? r.value_change_pct : null)) }],
    });
  return out;
}

/** Imports of `importer` by source, summed over sectors: the change in value (or %, if only that is given). */
function diversionSeries(t: Table, importer: string) {
  const cols = t.columns;
  const before = cols.find((c) => /^((value|trade|imports?|flows?)_)?(baseline|before)$/.test(c));
  const after = cols.find((c) => /^((value|trade|imports?|flows?)_)?(counterfactual|after)$/.test(c));
  const by = new Map<string, { b: number; a: number; p: number[] }>();
  const pct = cols.find((c) => c === "change_pct") ?? cols.find((c) => c.endsWith("_pct") && !c.startsWith("tariff"));
  for (const r of t.rows) {
    const ex = String(r.exporter);
    if (ex === importer) continue;
    const e = by.get(ex) ?? { b: 0, a: 0, p: [] };
    if (before && after) {
      e.b += Number(r[before] ?? 0);
      e.a += Number(r[after] ?? 0);
    } else if (pct && typeof r[pct] === "number") e.p.push(r[pct] as number);
    by.set(ex, e);
  }
  const labels = [...by.keys()];
  if (before && after) {
    const total = [...by.values()].reduce((s, e) => s + e.b, 0) || 1;
    const values = labels.map((l) => (100 * (by.get(l)!.a - by.get(l)!.b)) / total);
    return {
      id: "chart-diversion-flows",
      title: `Change in ${importer}'s imports by source, summed over sectors (share of its baseline imports, %)`,
      unit: "% of baseline imports",
      labels,
      sortBy: values,
      series: [{ label: "change", values }],
    };
  }
  const values = labels.map((l) => {
    const p = by.get(l)!.p;
    return p.length ? p.reduce((s, x) => s + x, 0) / p.length : null;
  });
  return {
    id: "chart-diversion-flows",
    title: `Change in ${importer}'s imports by source (${pct ? label(pct) : "%"}, mean over sectors)`,
    unit: "%",
    labels,
    sortBy: values,
    series: [{ label: "change", values }],
  };
}
