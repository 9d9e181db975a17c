// The scenario form and its TOML text. The text is what the server validates and runs
// (the same file `kaifang run` reads); the form is a convenient editor for it.

/** A shock table: its type and the fields as typed (strings, booleans for checkboxes). Fields
 * the shock type's schema does not list (a model's own shock types, e.g. the gravity model's
 * `type = "policy"`) are kept in `extra` with their TOML types. */
export interface ShockForm {
  type: string;
  values: Record<string, string | boolean>;
  extra?: Record<string, unknown>;
}

/** How the form edits one field of a shock type (from /api/meta, derived from the library's schema). */
export interface ShockField {
  name: string;
  kind: "selector" | "number" | "integer_or_name" | "enum" | "bool" | "string";
  options: string[];
  default: unknown;
  required: boolean;
  description: string;
}

export type ShockSpecs = Record<string, ShockField[]>;

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

const STARTER: Record<string, Record<string, string>> = {
  tariff: { op: "add", value: "10" },
  iceberg: { value: "-5" },
  ntb: { value: "10" },
  productivity: { value: "5" },
  deficit: { value: "0.5" },
  agreement: { op: "join", members: "", estimate: "0.5" },
  retaliation: { against: "0" },
};

/** A new shock of ``type`` with the schema's defaults and a starting value. */
export function newShock(type: string, specs: ShockSpecs): ShockForm {
  const values: Record<string, string | boolean> = {};
  for (const f of specs[type] ?? []) {
    if (f.kind === "bool") values[f.name] = Boolean(f.default);
    else values[f.name] = f.default == null ? "" : String(f.default);
  }
  return { type, values: { ...values, ...(STARTER[type] ?? {}) } };
}

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

const isTable = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === "object" && !Array.isArray(v);
/** An array of tables (`[[policy.retaliation]]`), written as such rather than inline. */
export const isTableArray = (v: unknown): v is Record<string, unknown>[] => Array.isArray(v) && v.length > 0 && v.every(isTable);

function table(name: string, obj: Record<string, unknown>, out: string[]): void {
  const plain = Object.entries(obj).filter(([, v]) => !isTable(v) && !isTableArray(v));
  const nested = Object.entries(obj).filter(([, v]) => isTable(v));
  const arrays = Object.entries(obj).filter(([, v]) => isTableArray(v));
  if (plain.length || (!nested.length && !arrays.length)) out.push("", `[${name}]`);
  for (const [k, v] of plain) out.push(`${key(k)} = ${scalar(v)}`);
  for (const [k, v] of nested) table(`${name}.${key(k)}`, v as Record<string, unknown>, out);
  for (const [k, v] of arrays) {
    for (const item of v as Record<string, unknown>[]) {
      out.push("", `[[${name}.${key(k)}]]`);
      for (const [ik, iv] of Object.entries(item)) out.push(`${key(ik)} = ${scalar(iv)}`);
    }
  }
}

/** Field paths of the sections the form shows as they are (for placing error messages). */
export function sectionPaths(name: string, v: unknown, out: Set<string>): void {
  out.add(name);
  if (isTableArray(v)) v.forEach((item, i) => sectionPaths(`${name}[${i}]`, item, out));
  else if (isTable(v)) for (const [k, x] of Object.entries(v)) sectionPaths(`${name}.${k}`, x, out);
}

/** The TOML text of a form (what the server receives). */
export function toToml(f: ScenarioForm, specs: ShockSpecs): string {
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
    const fields = specs[s.type] ?? [];
    const known = new Set(fields.map((x) => x.name));
    for (const fd of fields) {
      const v = s.values[fd.name];
      if (v === undefined) continue;
      if (fd.kind === "bool") {
        if (v === true) out.push(`${fd.name} = true`);
        continue;
      }
      const t = String(v).trim();
      if (t === "") continue; // left empty: the library's default applies
      if (fd.kind === "selector") out.push(`${fd.name} = ${selector(t)}`);
      else if (fd.kind === "number" || fd.kind === "integer_or_name") out.push(`${fd.name} = ${numberOrString(t)}`);
      else out.push(`${fd.name} = ${q(t)}`);
    }
    // fields the schema does not list keep their TOML types
    for (const [k, v] of Object.entries(s.extra ?? {})) if (!known.has(k) && v !== undefined && v !== "") out.push(`${key(k)} = ${scalar(v)}`);
    for (const [k, v] of Object.entries(s.values)) if (!known.has(k) && !(k in (s.extra ?? {})) && v !== "" && v !== false) out.push(`${key(k)} = ${scalar(v)}`);
  }
  return out.join("\n") + "\n";
}

// A number stays a TOML number; anything else is sent as a string so that the server's
// validation names the field (shocks[k].value) instead of failing on TOML syntax.
function numberOrString(v: string): string {
  const t = v.trim();
  return t !== "" && Number.isFinite(Number(t)) ? String(Number(t)) : q(t);
}

/** The TOML type of a value the form shows in a text field. */
export type ValueKind = "number" | "numbers" | "list" | "text";

export function kindOf(v: unknown): ValueKind {
  if (Array.isArray(v)) return v.length > 0 && v.every((x) => typeof x === "number") ? "numbers" : "list";
  if (typeof v === "number") return "number";
  return "text";
}

/** The value typed as `text` in a field of `kind`: numbers stay numbers, lists lists
 * (comma-separated); what does not fit is sent as text, so that the server names the field. */
export function parseLike(text: string, kind: ValueKind): unknown {
  const t = text.trim();
  const num = (x: string) => (x !== "" && Number.isFinite(Number(x)) ? Number(x) : x);
  if (kind === "numbers" || kind === "list") {
    const items = t.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
    return kind === "numbers" ? items.map(num) : items;
  }
  if (kind === "number") return num(t);
  return text;
}

/** How a value shows in a text field (lists comma-separated). */
export function display(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => String(x)).join(", ");
  return v === null || v === undefined ? "" : String(v);
}

/** The form of a parsed scenario (the `scenario` of a successful /api/validate). `specs` says
 * which fields each shock type has; other fields keep their types in `extra`. */
export function fromParsed(p: Record<string, unknown>, specs: ShockSpecs = {}): ScenarioForm {
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
  const shocks = ((p.shocks ?? []) as Record<string, unknown>[]).map((raw) => {
    const type = String(raw.type ?? "tariff");
    const known = new Set((specs[type] ?? []).map((f) => f.name));
    const values: Record<string, string | boolean> = {};
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (k === "type") continue;
      if (!known.has(k)) extra[k] = v;
      else values[k] = typeof v === "boolean" ? v : Array.isArray(v) ? v.map(String).join(", ") : v == null ? "" : String(v);
    }
    return { type, values, extra };
  });
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
