import { useMemo, useState } from "preact/hooks";
import { bandColumns, fmt, fmtBand, label, tableColumns } from "../format";
import type { Row } from "../api";

interface Props {
  rows: Row[];
  columns?: string[];
  id?: string;
  caption?: string;
  /** Tooltips of column headers (e.g. what a welfare column measures). */
  titles?: Record<string, string>;
  /** Columns the run cannot define (`diagnostics.not_applicable`): shown as "n/a". */
  notApplicable?: string[];
  /** Decimals of numbers (default 3). */
  digits?: number;
}

const NA_TITLE = "not applicable in this run (diagnostics.not_applicable)";

/** The text of one cell: "x [lo, hi]" for a column with a band, "no trade" for an empty cell of
 * a row flagged `no_trade` (no baseline trade to compare with), "n/a" for a column the run
 * cannot define. */
export function cellText(r: Row, c: string, banded: boolean, na: boolean, digits = 3): string {
  const v = r[c];
  if (na) return "n/a";
  if ((v === null || v === undefined) && r.no_trade === true) return "no trade";
  return banded ? fmtBand(v, r[`${c}_lo`], r[`${c}_hi`], digits) : fmt(v, digits);
}

/** A table sorted by clicking a column header (again to reverse). Columns `x_lo`/`x_hi` are shown
 * with `x` as "x [lo, hi]"; the `no_trade` flag in the cells it explains. */
export function SortableTable({ rows, columns, id, caption, titles, notApplicable = [], digits = 3 }: Props) {
  const cols = columns ?? tableColumns(rows);
  const withBands = new Set(bandColumns(rows));
  const banded = new Set(cols.filter((c) => withBands.has(c)));
  const na = new Set(notApplicable);
  const [sort, setSort] = useState<{ col: string; desc: boolean } | null>(null);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const { col, desc } = sort;
    return [...rows].sort((a, b) => {
      const x = a[col];
      const y = b[col];
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return desc ? -c : c;
    });
  }, [rows, sort]);
  const click = (col: string) => setSort((s) => (s && s.col === col ? { col, desc: !s.desc } : { col, desc: true }));
  return (
    <div class="table-wrap">
      <table class="data" id={id}>
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            {cols.map((c) => (
              <th
                key={c}
                data-col={c}
                class={na.has(c) ? "na" : banded.has(c) ? "band" : ""}
                onClick={() => click(c)}
                aria-sort={sort?.col === c ? (sort.desc ? "descending" : "ascending") : "none"}
                title={na.has(c) ? NA_TITLE : titles?.[c] ? `${titles[c]} (click to sort)` : "sort"}
              >
                {label(c)}
                {banded.has(c) ? " [lo, hi]" : ""}
                {na.has(c) ? " — n/a" : ""}
                {sort?.col === c ? (sort.desc ? " ▼" : " ▲") : ""}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r, i) => (
            <tr key={i} class={r.no_trade === true ? "no-trade" : undefined}>
              {cols.map((c) => {
                const text = cellText(r, c, banded.has(c), na.has(c), digits);
                return (
                  <td key={c} class={(typeof r[c] === "number" ? "num" : "") + (banded.has(c) ? " band" : "") + (text === "no trade" ? " no-trade" : text === "n/a" ? " na" : "")} title={text === "no trade" ? "no baseline trade: a change relative to it is not defined" : text === "n/a" ? NA_TITLE : undefined}>
                    {text}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
