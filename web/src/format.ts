// Number formatting and column helpers shared by tables and charts.

export const fmt = (v: unknown, digits = 3): string => {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "—";
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return v.toLocaleString("en-US");
    return v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  return String(v);
};

/** Numeric columns of rows (skipping the label column). */
export function numericColumns(rows: Record<string, unknown>[], skip: string[] = ["region"]): string[] {
  if (!rows.length) return [];
  return Object.keys(rows[0]).filter(
    (c) => !skip.includes(c) && rows.some((r) => typeof r[c] === "number") && rows.every((r) => r[c] === null || typeof r[c] === "number"),
  );
}

/** A readable name for a snake_case column ("real_wage_pct" -> "real wage (%)"). */
export const label = (c: string): string => c.replace(/_pct$/, " (%)").replace(/_/g, " ");

/** The welfare column to show first (a total, not a component), if any. */
export function welfareColumn(cols: string[]): string | undefined {
  const w = cols.filter((c) => c.includes("welfare"));
  return w.find((c) => c === "welfare_pct") ?? w.sort((a, b) => a.length - b.length)[0];
}

/** Columns `x` of rows that come with an uncertainty band `x_lo`, `x_hi` (docs/uncertainty.md). */
export function bandColumns(rows: Record<string, unknown>[]): string[] {
  if (!rows.length) return [];
  const keys = new Set(Object.keys(rows[0]));
  return [...keys].filter((c) => keys.has(`${c}_lo`) && keys.has(`${c}_hi`));
}

/** The columns of a table as the user thinks of them: `x_lo`/`x_hi` belong to `x` (shown as
 * "x [lo, hi]"), and the `no_trade` flag shows in the cells it explains, not as a column. */
export function tableColumns(rows: Record<string, unknown>[]): string[] {
  if (!rows.length) return [];
  return withoutBandEnds(Object.keys(rows[0]).filter((c) => c !== "no_trade"));
}

/** `cols` without the ends `x_lo` / `x_hi` of the bands of columns `x` that are in `cols`. */
export function withoutBandEnds(cols: string[]): string[] {
  const present = new Set(cols);
  return cols.filter((c) => !((c.endsWith("_lo") || c.endsWith("_hi")) && present.has(c.slice(0, -3))));
}

/** A finite number (not null, NaN or infinite). */
export const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** A number with its band, "x [lo, hi]". */
export const fmtBand = (v: unknown, lo: unknown, hi: unknown, digits = 3): string =>
  typeof v === "number" && Number.isFinite(v) ? `${fmt(v, digits)} [${fmt(lo, digits)}, ${fmt(hi, digits)}]` : fmt(v, digits);

/** The columns a run cannot define (`diagnostics.not_applicable`, table -> columns). */
export function notApplicable(diagnostics: Record<string, unknown>, table = "regions"): string[] {
  const na = diagnostics.not_applicable;
  if (!na || typeof na !== "object") return [];
  const cols = (na as Record<string, unknown>)[table];
  return Array.isArray(cols) ? cols.map(String) : [];
}

/** One sentence on a run's uncertainty bands: level, draws, failed draws and distribution (the
 * HTML report's note), or null when the run has no bands. */
export function uncertaintyNote(diagnostics: Record<string, unknown>, hasBands: boolean): string | null {
  const unc = (diagnostics.uncertainty ?? {}) as Record<string, unknown>;
  if (!Object.keys(unc).length && !hasBands) return null;
  const draws = unc.draws ?? diagnostics.draws;
  const level = Number(unc.level ?? diagnostics.level ?? 0.95);
  const failed = Number(unc.failed_draws ?? 0);
  let text = `Bands ([lo, hi] in the tables, whiskers in the charts) hold the central ${+(100 * level).toPrecision(6)} % of ${String(draws)} draws`;
  if (unc.distribution) text += ` (${String(unc.distribution)})`;
  if (failed) text += `; ${failed} draw${failed === 1 ? "" : "s"} did not converge and ${failed === 1 ? "is" : "are"} left out of the bands`;
  return text + ".";
}

/** A warning as the page shows it: without the command line's hint on `--strict` (the web app
 * has no strict mode). */
export const warningText = (w: string): string => w.replace(/\s*\(--strict turns (this warning|warnings) into an error\)/, "");
