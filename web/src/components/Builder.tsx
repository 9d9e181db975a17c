import type { ComponentChildren } from "preact";
import type { Dataset, FieldError, Meta } from "../api";
import { newShock, type ScenarioForm, type ShockForm } from "../scenario";

interface Props {
  meta: Meta;
  form: ScenarioForm;
  onChange: (f: ScenarioForm) => void;
  errors: FieldError[];
}

/** Messages for one field path (exact, or nested below it when `prefix`). */
export function errorsFor(errors: FieldError[], field: string, prefix = false): FieldError[] {
  return errors.filter((e) => e.field !== null && (e.field === field || (prefix && e.field.startsWith(field + "."))));
}

/** Which error field paths the form shows beside an input (the rest go to the summary). */
export function formFields(f: ScenarioForm): Set<string> {
  const s = new Set(["name", "description", "model", "dataset", "groups"]);
  f.groups.forEach((g) => s.add(`groups.${g.name}`));
  f.shocks.forEach((_, k) => {
    for (const x of ["", ".type", ".op", ".value", ".from_table", ".importer", ".exporter", ".sector", ".label", ".include_domestic"])
      s.add(`shocks[${k}]${x}`);
  });
  return s;
}

function FieldMsg({ errors, field }: { errors: FieldError[]; field: string }) {
  const mine = errorsFor(errors, field);
  if (!mine.length) return null;
  return (
    <div class="field-error" role="alert" data-error-for={field}>
      {mine.map((e, i) => (
        <div key={i}>{e.message}</div>
      ))}
    </div>
  );
}

function Field({ label, field, errors, children, hint }: { label: string; field: string; errors: FieldError[]; children: ComponentChildren; hint?: string }) {
  const bad = errorsFor(errors, field).length > 0;
  return (
    <label class={"field" + (bad ? " invalid" : "")} data-field={field}>
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="hint">{hint}</span>}
      <FieldMsg errors={errors} field={field} />
    </label>
  );
}

export function Builder({ meta, form, onChange, errors }: Props) {
  const ds: Dataset | undefined = meta.datasets.find((d) => d.name === form.dataset);
  const set = (patch: Partial<ScenarioForm>) => onChange({ ...form, ...patch });
  const setShock = (k: number, patch: Partial<ShockForm>) =>
    set({ shocks: form.shocks.map((s, i) => (i === k ? { ...s, ...patch } : s)) });
  const groupNames = [...Object.keys(meta.groups), ...form.groups.map((g) => g.name).filter(Boolean)];
  const regionHint = ds?.regions.length ? `regions: ${ds.regions.join(", ")}` : "region codes (e.g. USA), groups, or all";
  return (
    <div class="builder">
      <datalist id="dl-regions">
        <option value="all" />
        {(ds?.regions ?? []).map((r) => (
          <option key={r} value={r} />
        ))}
        {groupNames.map((g) => (
          <option key={"g" + g} value={g} />
        ))}
      </datalist>
      <datalist id="dl-sectors">
        <option value="all" />
        {(ds?.sectors ?? []).map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <div class="grid2">
        <Field label="Name" field="name" errors={errors}>
          <input id="f-name" value={form.name} onInput={(e) => set({ name: e.currentTarget.value })} />
        </Field>
        <Field label="Description" field="description" errors={errors}>
          <input id="f-description" value={form.description} onInput={(e) => set({ description: e.currentTarget.value })} />
        </Field>
        <Field label="Data set" field="dataset" errors={errors} hint={ds ? `${ds.title}${ds.synthetic ? " — SYNTHETIC" : ""}${ds.available ? "" : " — not available locally"}` : undefined}>
          <select id="f-dataset" value={form.dataset} onChange={(e) => set({ dataset: e.currentTarget.value })}>
            {!ds && <option value={form.dataset}>{form.dataset || "(choose)"}</option>}
            {meta.datasets.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name}
                {d.synthetic ? " (synthetic)" : ""}
                {d.available ? "" : " (not available)"}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Model" field="model" errors={errors}>
          <select id="f-model" value={form.model} onChange={(e) => set({ model: e.currentTarget.value })}>
            {!meta.models.some((m) => m.name === form.model) && <option value={form.model}>{form.model || "(choose)"}</option>}
            {meta.models.map((m) => (
              <option key={m.name} value={m.name}>
                {m.name}
              </option>
            ))}
          </select>
        </Field>
      </div>

      <fieldset class="groups" data-field="groups">
        <legend>Country groups</legend>
        <p class="hint">
          Built in: {Object.entries(meta.groups).map(([k, v]) => `${k} (${v.join(", ")})`).join("; ") || "none"}. Define your own below.
        </p>
        {form.groups.map((g, i) => (
          <div class="group-row" key={i}>
            <Field label="Group name" field={`groups.${g.name}`} errors={errors}>
              <input value={g.name} onInput={(e) => set({ groups: form.groups.map((x, j) => (j === i ? { ...x, name: e.currentTarget.value } : x)) })} />
            </Field>
            <label class="field wide">
              <span class="field-label">Members (comma-separated)</span>
              <input list="dl-regions" value={g.members} onInput={(e) => set({ groups: form.groups.map((x, j) => (j === i ? { ...x, members: e.currentTarget.value } : x)) })} />
            </label>
            <button type="button" class="small" onClick={() => set({ groups: form.groups.filter((_, j) => j !== i) })}>
              remove
            </button>
          </div>
        ))}
        <FieldMsg errors={errors} field="groups" />
        <button type="button" class="small" onClick={() => set({ groups: [...form.groups, { name: "", members: "" }] })}>
          + group
        </button>
      </fieldset>

      <fieldset class="shocks">
        <legend>Shocks</legend>
        {form.shocks.map((s, k) => {
          const f = (x: string) => `shocks[${k}].${x}`;
          return (
            <div class="shock" key={k} data-field={`shocks[${k}]`} data-shock={k}>
              <div class="shock-head">
                <strong>Shock {k + 1}</strong>
                <button type="button" class="small" onClick={() => set({ shocks: form.shocks.filter((_, i) => i !== k) })}>
                  remove
                </button>
              </div>
              <FieldMsg errors={errors} field={`shocks[${k}]`} />
              <div class="grid4">
                <Field label="Type" field={f("type")} errors={errors}>
                  <select class="s-type" value={s.type} onChange={(e) => setShock(k, { type: e.currentTarget.value as ShockForm["type"] })}>
                    {meta.shock_types.map((t) => (
                      <option key={t.type} value={t.type} title={t.description}>
                        {t.type}
                      </option>
                    ))}
                  </select>
                </Field>
                {s.type === "tariff" && (
                  <Field label="Operation" field={f("op")} errors={errors} hint={s.op === "scale" ? "factor" : "percent (points)"}>
                    <select class="s-op" value={s.op} onChange={(e) => setShock(k, { op: e.currentTarget.value as ShockForm["op"] })}>
                      <option value="set">set to</option>
                      <option value="add">add points</option>
                      <option value="scale">scale by</option>
                    </select>
                  </Field>
                )}
                {s.type === "tariff" && s.op === "set" && (ds?.tables.length ?? 0) > 0 && (
                  <Field label="From table" field={f("from_table")} errors={errors}>
                    <select class="s-table" value={s.from_table} onChange={(e) => setShock(k, { from_table: e.currentTarget.value })}>
                      <option value="">(a value)</option>
                      {ds!.tables.map((t) => (
                        <option key={t} value={t}>
                          {t}
                        </option>
                      ))}
                    </select>
                  </Field>
                )}
                {!(s.type === "tariff" && s.from_table) && (
                  <Field label={s.type === "iceberg" ? "Change in trade costs (%)" : "Value"} field={f("value")} errors={errors}>
                    <input class="s-value" value={s.value} inputMode="decimal" onInput={(e) => setShock(k, { value: e.currentTarget.value })} />
                  </Field>
                )}
                <Field label="Label" field={f("label")} errors={errors}>
                  <input class="s-label" value={s.label} onInput={(e) => setShock(k, { label: e.currentTarget.value })} />
                </Field>
              </div>
              <div class="grid3">
                <Field label="Importer" field={f("importer")} errors={errors} hint={k === 0 ? regionHint : undefined}>
                  <input class="s-importer" list="dl-regions" value={s.importer} onInput={(e) => setShock(k, { importer: e.currentTarget.value })} />
                </Field>
                <Field label="Exporter" field={f("exporter")} errors={errors}>
                  <input class="s-exporter" list="dl-regions" value={s.exporter} onInput={(e) => setShock(k, { exporter: e.currentTarget.value })} />
                </Field>
                <Field label="Sector" field={f("sector")} errors={errors}>
                  <input class="s-sector" list="dl-sectors" value={s.sector} onInput={(e) => setShock(k, { sector: e.currentTarget.value })} />
                </Field>
              </div>
              {s.type === "iceberg" && (
                <label class="check">
                  <input type="checkbox" checked={s.include_domestic} onChange={(e) => setShock(k, { include_domestic: e.currentTarget.checked })} /> also domestic pairs
                </label>
              )}
            </div>
          );
        })}
        <button type="button" id="add-tariff" class="small" onClick={() => set({ shocks: [...form.shocks, newShock("tariff")] })}>
          + tariff shock
        </button>{" "}
        <button type="button" id="add-iceberg" class="small" onClick={() => set({ shocks: [...form.shocks, newShock("iceberg")] })}>
          + trade-cost shock
        </button>
      </fieldset>
    </div>
  );
}
