// The scenario form and its TOML text. The text is what the server validates and runs
// (the same file `kaifang run` reads); the form is a convenient editor for it.

export type ShockType = "tariff" | "iceberg";

export interface ShockForm {
  type: ShockType;
  op: "set" | "add" | "scale";
  value: string; // kept as typed, so validation can point at a bad number
  from_table: string;
  importer: string; // "all", a label, a group, or a comma-separated list
  exporter: string;
  sector: string;
  label: string;
  include_domestic: boolean;
}

export interface GroupForm {
  name: string;
  members: string; // comma-separated
}

export interface ScenarioForm {
  name: string;
  description: string;
  model: string;
  dataset: string;
  groups: GroupForm[];
  shocks: ShockForm[];
  // Sections the form does not edit (parameters, solver, baseline, ...), kept as parsed.
  other: Record<string, unknown>;
}

export const newShock = (type: ShockType = "tariff"): ShockForm => ({
  type,
  op: "add",
  value: type === "tariff" ? "10" : "-5",
  from_table: "",
  importer: "all",
  exporter: "all",
  sector: "all",
  label: "",
  include_domestic: false,
});

const q = (s: string) => JSON.stringify(s); // TOML basic strings share JSON's escapes

function selector(s: string): string {
  const items = s
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x.length > 0);
  if (items.length === 0) return q("all");
  if (items.length === 1) return q(items[0]);
  return "[" + items.map(q).join(", ") + "]";
}

function scalar(v: unknown): string {
  if (typeof v === "string") return q(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : "nan";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return "[" + v.map(scalar).join(", ") + "]";
  if (v && typeof v === "object") {
    return (
      "{ " +
      Object.entries(v as Record<string, unknown>)
        .map(([k, x]) => `${key(k)} = ${scalar(x)}`)
        .join(", ") +
      " }"
    );
  }
  return q(String(v));
}

const key = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : q(k));

function table(name: string, obj: Record<string, unknown>, out: string[]): void {
  const plain = Object.entries(obj).filter(([, v]) => !(v && typeof v === "object" && !Array.isArray(v)));
  const nested = Object.entries(obj).filter(([, v]) => v && typeof v === "object" && !Array.isArray(v));
  out.push("", `[${name}]`);
  for (const [k, v] of plain) out.push(`${key(k)} = ${scalar(v)}`);
  for (const [k, v] of nested) table(`${name}.${key(k)}`, v as Record<string, unknown>, out);
}

/** The TOML text of a form (what the server receives). */
export function toToml(f: ScenarioForm): string {
  const out: string[] = [];
  out.push(`name = ${q(f.name)}`);
  if (f.description) out.push(`description = ${q(f.description)}`);
  out.push(`model = ${q(f.model)}`, `dataset = ${q(f.dataset)}`);
  for (const [sec, val] of Object.entries(f.other)) {
    if (Array.isArray(val)) {
      for (const item of val) {
        out.push("", `[[${key(sec)}]]`);
        for (const [k, v] of Object.entries(item as Record<string, unknown>)) out.push(`${key(k)} = ${scalar(v)}`);
      }
    } else if (val && typeof val === "object") {
      if (Object.keys(val).length) table(key(sec), val as Record<string, unknown>, out);
    }
  }
  const groups = f.groups.filter((g) => g.name.trim());
  if (groups.length) {
    out.push("", "[groups]");
    for (const g of groups) {
      const members = g.members
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
      out.push(`${key(g.name.trim())} = [${members.map(q).join(", ")}]`);
    }
  }
  for (const s of f.shocks) {
    out.push("", "[[shocks]]", `type = ${q(s.type)}`);
    if (s.label) out.push(`label = ${q(s.label)}`);
    if (s.type === "tariff") {
      out.push(`op = ${q(s.op)}`);
      if (s.from_table) out.push(`from_table = ${q(s.from_table)}`);
      else out.push(`value = ${numberOrString(s.value)}`);
    } else {
      out.push(`value = ${numberOrString(s.value)}`);
      if (s.include_domestic) out.push("include_domestic = true");
    }
    out.push(`importer = ${selector(s.importer)}`, `exporter = ${selector(s.exporter)}`, `sector = ${selector(s.sector)}`);
  }
  return out.join("\n") + "\n";
}

// A number stays a TOML number; anything else is sent as a string so that the server's
// validation names the field (shocks[k].value) instead of failing on TOML syntax.
function numberOrString(v: string): string {
  const t = v.trim();
  return t !== "" && Number.isFinite(Number(t)) ? String(Number(t)) : q(t);
}

const sel = (v: unknown): string => (Array.isArray(v) ? v.map(String).join(", ") : v == null ? "all" : String(v));

/** The form of a parsed scenario (the `scenario` of a successful /api/validate). */
export function fromParsed(p: Record<string, unknown>): ScenarioForm {
  const known = new Set(["name", "description", "model", "dataset", "groups", "shocks"]);
  const other: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    if (known.has(k)) continue;
    if ((Array.isArray(v) && v.length) || (v && typeof v === "object" && Object.keys(v).length)) other[k] = v;
  }
  const groups = Object.entries((p.groups ?? {}) as Record<string, string[]>).map(([name, m]) => ({
    name,
    members: m.join(", "),
  }));
  const shocks = ((p.shocks ?? []) as Record<string, unknown>[]).map((s) => ({
    type: (s.type === "iceberg" ? "iceberg" : "tariff") as ShockType,
    op: (["set", "add", "scale"].includes(String(s.op)) ? s.op : "add") as ShockForm["op"],
    value: s.value == null ? "" : String(s.value),
    from_table: s.from_table == null ? "" : String(s.from_table),
    importer: sel(s.importer),
    exporter: sel(s.exporter),
    sector: sel(s.sector),
    label: s.label == null ? "" : String(s.label),
    include_domestic: Boolean(s.include_domestic),
  }));
  return {
    name: String(p.name ?? ""),
    description: String(p.description ?? ""),
    model: String(p.model ?? ""),
    dataset: String(p.dataset ?? ""),
    groups,
    shocks,
    other,
  };
}
