import { useMemo, useState } from "preact/hooks";
import { fmt, label } from "../format";
import type { Row } from "../api";

interface Props {
  rows: Row[];
  columns?: string[];
  id?: string;
  caption?: string;
  /** Tooltips of column headers (e.g. what a welfare column measures). */
  titles?: Record<string, string>;
}

/** A table sorted by clicking a column header (again to reverse). */
export function SortableTable({ rows, columns, id, caption, titles }: Props) {
  const cols = columns ?? (rows.length ? Object.keys(rows[0]) : []);
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
                onClick={() => click(c)}
                aria-sort={sort?.col === c ? (sort.desc ? "descending" : "ascending") : "none"}
                title={titles?.[c] ? `${titles[c]} (click to sort)` : "sort"}
              >
                {label(c)}
                {sort?.col === c ? (sort.desc ? " ▼" : " ▲") : ""}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((r, i) => (
            <tr key={i}>
              {cols.map((c) => (
                <td key={c} class={typeof r[c] === "number" ? "num" : ""}>
                  {fmt(r[c])}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
