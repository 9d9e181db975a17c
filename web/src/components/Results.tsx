import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type Row, type RunDoc, type Table } from "../api";
import { bandColumns, finite, fmt, label, notApplicable, numericColumns, tableColumns, uncertaintyNote, warningText, welfareColumn, withoutBandEnds } from "../format";
import type { Series } from "./BarChart";
import { RegionBars } from "./RegionBars";
import { SortableTable } from "./SortableTable";
import { WorldMap } from "./WorldMap";

// The parts of the exact welfare change (docs/welfare.md, the integrated Caliendo and Parro 2015
// decomposition): they add up to welfare_pct but for welfare_residual_pct. The residual and the
// paper's first-order measures (*_first_order_pct) are not parts of it.
const COMPONENTS = ["terms_of_trade_pct", "volume_of_trade_pct", "technical_efficiency_pct", "productivity_pct", "deficit_pct"];

/** The columns of the stacked welfare decomposition: the parts of the exact change (and any
 * other model's welfare_*_pct part), never the residual nor a first-order measure. */
export function decomposition(cols: string[], total: string | undefined): string[] {
  return cols.filter(
    (c) =>
      c !== total &&
      c !== "welfare_residual_pct" &&
      !c.endsWith("_first_order_pct") &&
      (COMPONENTS.includes(c) || (c.startsWith("welfare_") && c.endsWith("_pct"))),
  );
}

const TRADE = /^(exports|imports|trade)(_|$)/;

const num = (v: unknown): number | null => (finite(v) ? v : null);

/** A chart series of column `c`, with its band when the run has one. */
function series(rows: Row[], c: string, bands: Set<string>): Series {
  const s: Series = { label: label(c), values: rows.map((r) => num(r[c])) };
  if (bands.has(c)) {
    s.lo = rows.map((r) => num(r[`${c}_lo`]));
    s.hi = rows.map((r) => num(r[`${c}_hi`]));
  }
  return s;
}

/** The results of one run: `doc` (from the job as soon as it is solved, or from the store); `runId`
 * once the store has saved it (downloads and extra tables need it). */
export function Results({ doc, runId, onRendered }: { doc: RunDoc; runId: string | null; onRendered?: () => void }) {
  const d = doc.document;
  const rows = d.regions;
  const diag = d.diagnostics;
  const na = notApplicable(diag);
  const bands = new Set(bandColumns(rows));
  // chart and map candidates: numeric outcomes the run defines, not the ends of bands
  const cols = withoutBandEnds(numericColumns(rows)).filter((c) => !na.includes(c));
  const [mapCol, setMapCol] = useState<string>(welfareColumn(cols) ?? cols[0] ?? "");
  useEffect(() => {
    if (onRendered) onRendered();
  }, [doc]);
  const regions = rows.map((r) => String(r.region));
  const welfare = welfareColumn(cols);
  const parts = decomposition(cols, welfare);
  const trade = cols.filter((c) => TRADE.test(c) && c.endsWith("_pct"));
  const mapValues = Object.fromEntries(rows.map((r) => [String(r.region), num(r[mapCol])]));
  const measure = typeof diag.welfare_measure === "string" ? diag.welfare_measure : null;
  const bandNote = uncertaintyNote(diag, bands.size > 0);
  const warnings = d.warnings ?? [];
  const noTrade = Object.entries(d.no_trade ?? {}).filter(([, v]) => v.length > 0);
  const welfareNote = welfare && measure ? (
    <span class="welfare-measure">
      <strong>{label(welfare)}</strong>: {measure}
    </span>
  ) : null;
  const withBand = (note: ComponentChildren) =>
    bandNote ? (
      <>
        {note}
        {note ? " " : null}
        <span class="band-note">{bandNote}</span>
      </>
    ) : (
      note
    );
  const sortWelfare = welfare ? rows.map((r) => num(r[welfare])) : undefined;
  const decompositionChart = (id: string) => (
    <RegionBars
      id={id}
      title={`Exact welfare change (${label(welfare!)}) and its parts: ${parts.map(label).join(" + ")} (stacked; they add up to the exact change but for the residual)`}
      labels={regions}
      stacked
      yLabel="%"
      note={welfareNote}
      sortBy={sortWelfare}
      series={parts.map((c) => series(rows, c, new Set()))}
    />
  );
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

      {warnings.length > 0 && (
        <ul class="warnings" id="run-warnings">
          {warnings.map((w, i) => (
            <li key={i}>warning: {warningText(w)}</li>
          ))}
        </ul>
      )}

      <SortableTable
        rows={rows}
        id="results-table"
        caption={`Change by region (${rows.length} regions) — click a header to sort`}
        titles={welfare && measure ? { [welfare]: `${label(welfare)}: ${measure}` } : undefined}
        notApplicable={na}
      />
      {welfareNote && <p class="muted table-note">{welfareNote}</p>}
      {bandNote && (
        <p class="muted table-note" id="uncertainty-note">
          {bandNote}
        </p>
      )}
      {na.length > 0 && (
        <p class="muted table-note" id="not-applicable">
          Not applicable in this run (n/a): {na.map(label).join(", ")}
          {na.includes("tariff_revenue_pct") ? " — the baseline has no tariff revenue to compare with" : ""}
          {na.includes("terms_of_trade_pct") ? " — the welfare decomposition was skipped ([solver] welfare_steps = [])" : ""}.
        </p>
      )}
      {noTrade.length > 0 && (
        <p class="muted table-note" id="no-trade-note">
          “no trade”: cells relative to a baseline trade flow that is zero, where a change is not defined ({noTrade.map(([t, v]) => `${v.length} row${v.length === 1 ? "" : "s"} of ${t}`).join(", ")}).
        </p>
      )}

      <div class="charts">
        {welfare && bands.has(welfare) && (
          <RegionBars
            id="chart-welfare"
            title={`Welfare: ${label(welfare)} with its band`}
            labels={regions}
            yLabel="%"
            note={withBand(welfareNote)}
            sortBy={sortWelfare}
            series={[series(rows, welfare, bands)]}
          />
        )}
        {welfare && bands.has(welfare) && parts.length > 0 && decompositionChart("chart-decomposition")}
        {welfare && !bands.has(welfare) && parts.length > 0 && decompositionChart("chart-welfare")}
        {welfare && !bands.has(welfare) && parts.length === 0 && (
          <RegionBars
            id="chart-welfare"
            title={`Welfare: ${label(welfare)}`}
            labels={regions}
            yLabel="%"
            note={welfareNote}
            series={[series(rows, welfare, bands)]}
          />
        )}
        {trade.length > 0 && (
          <RegionBars
            id="chart-trade"
            title={`Trade changes by region${trade.some((c) => bands.has(c)) ? ", with bands" : ""}`}
            labels={regions}
            yLabel="%"
            note={trade.some((c) => bands.has(c)) ? withBand(null) : undefined}
            sortBy={rows.map((r) => num(r[trade[0]]))}
            series={trade.map((c) => series(rows, c, bands))}
          />
        )}
        {runId && <Diversion runId={runId} doc={doc} />}
      </div>

      {runId && <SectorDetail runId={runId} doc={doc} />}

      {d.value_chains?.value_chains && d.value_chains.value_chains.length > 0 && <ValueChains doc={doc} />}

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

/** The region a per-region view opens on: the USA where the run has it, else the first. */
const defaultRegion = (regions: string[]): string => (regions.includes("USA") ? "USA" : regions[0] ?? "");

/** Table `name` of a run, filtered by `where` (fetched from the store; `null` until it is in or
 * when it cannot be read, with the reason in `error`). */
function useRunTable(runId: string, name: string | undefined, where: string[]): { table: Table | null; error: string | null } {
  const [table, setTable] = useState<Table | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!name || where.some((w) => w.endsWith("="))) return;
    let live = true;
    setError(null);
    api
      .table(runId, name, where)
      .then((t) => live && setTable(t))
      .catch((e: Error) => {
        if (!live) return;
        setTable(null);
        setError(`could not load the ${name} table: ${e.message}`);
      });
    return () => {
      live = false;
    };
  }, [runId, name, where.join("&")]);
  return { table, error };
}

/** The `sectors` table of one region (fetched from the store): sector outcomes, "no trade" where
 * the sector has no baseline trade to compare with, "n/a" for columns the run cannot define. */
function SectorDetail({ runId, doc }: { runId: string; doc: RunDoc }) {
  const info = doc.tables.find((t) => t.name === "sectors" && t.columns.includes("region") && t.columns.includes("sector"));
  const regions = doc.document.regions.map((r) => String(r.region));
  const [region, setRegion] = useState<string>(defaultRegion(regions));
  const { table, error } = useRunTable(runId, info?.name, [`region=${region}`]);
  if (!info) return null;
  const na = notApplicable(doc.document.diagnostics, "sectors");
  const flagged = table ? table.rows.filter((r) => r.no_trade === true).length : 0;
  return (
    <section class="sector-detail" id="sector-detail">
      <label>
        Sector detail of{" "}
        <select id="sectors-region" value={region} onChange={(e) => setRegion(e.currentTarget.value)}>
          {regions.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </label>
      {error && <p class="muted">{error}</p>}
      {table && (
        <>
          <SortableTable rows={table.rows} columns={tableColumns(table.rows).filter((c) => c !== "region")} id="sectors-table" caption={`Change by sector in ${region} (${table.rows.length} sectors)`} notApplicable={na} />
          {flagged > 0 && (
            <p class="muted table-note">
              “no trade”: {flagged} sector{flagged === 1 ? "" : "s"} of {region} had no baseline trade, so {flagged === 1 ? "its" : "their"} changes in trade are not defined.
            </p>
          )}
        </>
      )}
    </section>
  );
}

// Indicators of the value-chain table shown before, after and as the change (the HTML report's
// choice): shares of gross exports, docs/valuechains.md.
const GVC_COLS = ["vax_ratio", "fva_share", "dvx_share", "gvc_participation", "gvc_position"];

/** Rows of the `value_chains` table (one per region and stage) as one row per region: each
 * indicator before, after and its change, ordered by the largest change in GVC participation. */
export function valueChainRows(table: Row[]): Row[] {
  const by = new Map<string, Row>();
  for (const r of table) {
    const region = String(r.region);
    const out = by.get(region) ?? { region };
    const stage = { baseline: "before", counterfactual: "after", change: "change" }[String(r.stage)];
    if (!stage) continue;
    for (const c of GVC_COLS) out[`${c}_${stage}`] = num(r[c]);
    if (r.no_trade === true) out.no_trade = true;
    by.set(region, out);
  }
  const rows = [...by.values()];
  const key = (r: Row) => {
    const v = num(r.gvc_participation_change);
    return v === null ? -1 : Math.abs(v); // regions without a change last
  };
  return rows.sort((a, b) => key(b) - key(a));
}

/** The value-chain section (`[output] value_chains = true`): GVC participation before and after
 * (backward + forward, % of gross exports) and the indicators by region. */
function ValueChains({ doc }: { doc: RunDoc }) {
  const table = doc.document.value_chains?.value_chains ?? [];
  const rows = useMemo(() => valueChainRows(table), [table]);
  const info = (doc.document.diagnostics.value_chains ?? {}) as Record<string, unknown>;
  const focus = Array.isArray(info.focus) ? info.focus.map(String) : [];
  const byStage = (stage: string, c: string) => {
    const m = new Map(table.filter((r) => r.stage === stage).map((r) => [String(r.region), num(r[c])]));
    return (region: string) => (m.get(region) == null ? null : 100 * (m.get(region) as number));
  };
  const regions = rows.map((r) => String(r.region));
  const after = byStage("counterfactual", "gvc_participation");
  const chartSeries: Series[] = [];
  for (const [stage, when, alpha] of [
    ["baseline", "before", "8c"],
    ["counterfactual", "after", ""],
  ] as const) {
    for (const [part, colour] of [
      ["gvc_backward", "#4c78a8"],
      ["gvc_forward", "#f58518"],
    ] as const) {
      const get = byStage(stage, part);
      chartSeries.push({ label: `${part.replace("gvc_", "")} (${when})`, values: regions.map(get), stack: stage, color: colour + alpha });
    }
  }
  const shown = ["region", ...GVC_COLS.flatMap((c) => [`${c}_before`, `${c}_after`, `${c}_change`])];
  return (
    <section class="value-chains" id="value-chains">
      <h3>Value chains before and after the shock</h3>
      <div class="charts">
        <RegionBars
          id="chart-gvc"
          title="GVC participation before (light) and after: backward + forward (% of gross exports)"
          labels={regions}
          stacked
          yLabel="% of gross exports"
          sortBy={regions.map(after)}
          series={chartSeries}
        />
      </div>
      <SortableTable rows={rows} columns={shown} digits={4} id="gvc-table" caption={`Value-chain indicators by region (${rows.length} regions; shares of gross exports; change = after − before)`} />
      <p class="muted table-note" id="gvc-note">
        Value chains of the baseline equilibrium and of the counterfactual, each rebuilt as a world input-output table under proportional sourcing (every use of a good in a country buys from each origin in
        the country's trade shares, as in the model). Backward participation: foreign value added in a region's exports (fva share); forward: its value added in intermediates that partners re-export to
        third countries (dvx share), Koopman et al. (2010).
        {focus.length > 0 ? ` Regions the shocks name: ${focus.join(", ")}.` : ""} By sector and by source of value added: the tables value_chains_sectors and value_added_origin of the downloads.
      </p>
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
  const [region, setRegion] = useState<string>(defaultRegion(regions));
  const [flow, setFlow] = useState<"imports" | "exports">("imports");
  const { table, error } = useRunTable(runId, info?.name, dedicated ? [`region=${region}`, `flow=${flow}`] : [`importer=${region}`]);
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
      {error && <p class="muted">{error}</p>}
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
