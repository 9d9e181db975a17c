import type { ShockField } from "./scenario";

// Typed calls to the kaifang JSON API (documented at /docs and /openapi.json).

export interface FieldError {
  field: string | null;
  message: string;
  line?: number | null;
  column?: number | null;
}

export interface Dataset {
  name: string;
  title: string;
  synthetic: boolean;
  available: boolean;
  size_mb: number;
  regions: string[];
  sectors: string[];
  tables: string[];
  sector_groups: string[];
}

export interface Meta {
  datasets: Dataset[];
  models: { name: string }[];
  groups: Record<string, string[]>;
  shock_types: { type: string; description: string; fields: ShockField[] }[];
}

export interface Validation {
  valid: boolean;
  errors: FieldError[];
  /** Warnings of `kaifang validate` (a shock that changes nothing ...): the scenario is valid anyway. */
  warnings: string[];
  /** False when only the common fields could be checked (a model without a prepare step). */
  complete?: boolean;
  summary?: Record<string, unknown>;
  scenario: Record<string, unknown> | null;
}

/** Where a scenario was written (names it in the server's messages). */
export type Origin = "form" | "editor";

export type JobState = "queued" | "running" | "saving" | "done" | "failed" | "cancelled";

export interface Job {
  id: string;
  state: JobState;
  scenario: string;
  model: string;
  dataset: string;
  created: number;
  seconds: number | null;
  progress: string[];
  run_id: string | null;
  error_kind: string | null;
  error: string | null;
  errors: FieldError[];
  version: number;
}

export interface RunRow {
  run_id: string;
  created_at: string | null;
  scenario: string;
  model: string;
  dataset: string;
  scenario_sha256: string | null;
  synthetic: boolean;
  solve_seconds: number | null;
}

export type Row = Record<string, string | number | boolean | null>;

export interface RunDoc {
  run_id: string | null;
  document: {
    scenario: string;
    model: string;
    synthetic: boolean;
    regions: Row[];
    diagnostics: Record<string, unknown>;
    provenance: Record<string, unknown>;
    note?: string;
    /** Every warning of the run, each once. */
    warnings?: string[];
    /** Labels of the rows flagged no_trade, by table. */
    no_trade?: Record<string, Row[]>;
    /** Value-chain tables (`[output] value_chains = true`): value_chains, value_chains_sectors, value_added_origin. */
    value_chains?: Record<string, Row[]>;
  };
  tables: { name: string; rows: number; columns: string[] }[];
}

export interface Table {
  name: string;
  columns: string[];
  rows: Row[];
  total_rows: number;
}

export interface Compare {
  runs: RunRow[];
  columns: string[];
  regions: string[];
  values: Record<string, Record<string, (number | null)[]>>;
  welfare_measures: (string | null)[];
}

export class ApiError extends Error {
  constructor(
    message: string,
    public status: number,
    public errors: FieldError[] = [],
  ) {
    super(message);
  }
}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  let data: unknown = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const d = (data ?? {}) as { message?: string; errors?: FieldError[] };
    throw new ApiError(d.message ?? `${res.status} ${res.statusText}`, res.status, d.errors ?? []);
  }
  return data as T;
}

export const api = {
  meta: () => call<Meta>("GET", "/api/meta"),
  examples: () => call<Record<string, string>>("GET", "/api/examples"),
  validate: (text: string, origin: Origin) => call<Validation>("POST", "/api/validate", { text, origin }),
  submit: (text: string, origin: Origin) => call<Job>("POST", "/api/runs", { text, origin }),
  jobs: () => call<Job[]>("GET", "/api/jobs"),
  jobScenario: async (id: string) => {
    const res = await fetch(`/api/jobs/${encodeURIComponent(id)}/scenario`);
    if (!res.ok) throw new ApiError(`${res.status}`, res.status);
    return res.text();
  },
  job: (id: string, after = -1, wait = 0) =>
    call<Job>("GET", `/api/jobs/${encodeURIComponent(id)}?after=${after}&wait=${wait}`),
  jobResult: (id: string) => call<RunDoc>("GET", `/api/jobs/${encodeURIComponent(id)}/result`),
  cancel: (id: string) => call<Job>("POST", `/api/jobs/${encodeURIComponent(id)}/cancel`),
  runs: () => call<RunRow[]>("GET", "/api/runs"),
  run: (id: string) => call<RunDoc>("GET", `/api/runs/${encodeURIComponent(id)}`),
  table: (id: string, name: string, where: string[] = []) =>
    call<Table>(
      "GET",
      `/api/runs/${encodeURIComponent(id)}/tables/${encodeURIComponent(name)}` +
        (where.length ? "?" + where.map((w) => `where=${encodeURIComponent(w)}`).join("&") : ""),
    ),
  scenarioText: async (id: string) => {
    const res = await fetch(`/api/runs/${encodeURIComponent(id)}/scenario`);
    if (!res.ok) throw new ApiError(`${res.status}`, res.status);
    return res.text();
  },
  deleteRun: (id: string) => call<void>("DELETE", `/api/runs/${encodeURIComponent(id)}`),
  compare: (ids: string[]) =>
    call<Compare>("GET", "/api/compare?" + ids.map((r) => `run=${encodeURIComponent(r)}`).join("&")),
  compareReportUrl: (ids: string[]) => "/api/compare/report?" + ids.map((r) => `run=${encodeURIComponent(r)}`).join("&"),
  downloadUrl: (id: string, fmt: "csv" | "parquet" | "xlsx" | "html") =>
    `/api/runs/${encodeURIComponent(id)}/download?fmt=${fmt}`,
};
