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
