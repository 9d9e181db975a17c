import type { ComponentChildren } from "preact";
import type { Dataset, FieldError, Meta } from "../api";
import { useRef, useState } from "preact/hooks";
import { display, isTableArray, kindOf, newShock, parseLike, sectionPaths, type ScenarioForm, type ShockForm, type ShockSpecs } from "../scenario";
import { warningText } from "../format";
import { plain, Rich } from "../text";

interface Props {
  meta: Meta;
  form: ScenarioForm;
  onChange: (f: ScenarioForm) => void;
  errors: FieldError[];
  /** Warnings of the validation (the scenario is valid): those about a shock show beside it. */
  warnings?: string[];
}

/** The shock a warning is about (`shocks[k]` in its sentence), or null. */
export function warningShock(w: string): number | null {
  const m = w.match(/\bshocks\[(\d+)\]/);
  return m ? Number(m[1]) : null;
}

/** Models that read the `[uncertainty]` section and `[output] value_chains` (multi-sector). */
export const MULTI_SECTOR_MODELS = ["caliendo_parro"];

/** Messages for one field path (exact, or nested below it when `prefix`). */
export function errorsFor(errors: FieldError[], field: string, prefix = false): FieldError[] {
  return errors.filter((e) => e.field !== null && (e.field === field || (prefix && e.field.startsWith(field + "."))));
}

/** Which error field paths the form shows beside an input (the rest go to the summary). */
export function formFields(f: ScenarioForm): Set<string> {
  const s = new Set(["name", "description", "model", "dataset", "groups"]);
  f.groups.forEach((g) => s.add(`groups.${g.name}`));
  f.shocks.forEach((sh, k) => {
    s.add(`shocks[${k}]`);
    s.add(`shocks[${k}].type`);
    for (const x of Object.keys(sh.values)) s.add(`shocks[${k}].${x}`);
    for (const x of Object.keys(sh.extra ?? {})) s.add(`shocks[${k}].${x}`);
  });
  for (const [sec, v] of Object.entries(f.other)) sectionPaths(sec, v, s);
  if (MULTI_SECTOR_MODELS.includes(f.model)) for (const x of ["uncertainty", ...UNCERTAINTY_FIELDS.map((u) => `uncertainty.${u.name}`), "output.value_chains"]) s.add(x);
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

export function Builder({ meta, form, onChange, errors, warnings = [] }: Props) {
  const ds: Dataset | undefined = meta.datasets.find((d) => d.name === form.dataset);
  const set = (patch: Partial<ScenarioForm>) => onChange({ ...form, ...patch });
  const specs = shockSpecs(meta);
  const setShock = (k: number, x: ShockForm) => set({ shocks: form.shocks.map((s, i) => (i === k ? x : s)) });
  const groupNames = [...Object.keys(meta.groups), ...form.groups.map((g) => g.name).filter(Boolean)];
  const regionHint = ds?.regions.length ? `regions: ${ds.regions.join(", ")}` : "region codes (e.g. USA), groups, or all";
  const multi = MULTI_SECTOR_MODELS.includes(form.model);
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
        {[...(ds?.sector_groups ?? []), ...(ds?.sectors ?? [])].map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <datalist id="dl-tables">
        {(ds?.tables ?? []).map((t) => (
          <option key={t} value={t} />
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
        <details class="hint builtin-groups">
          <summary>
            {Object.keys(meta.groups).length} built-in groups usable in any selector ({Object.keys(meta.groups).slice(0, 8).join(", ")}…); define your own below.
          </summary>
          <ul>
            {Object.entries(meta.groups).map(([k, v]) => (
              <li key={k}>
                <strong>{k}</strong>: {v.join(", ")}
              </li>
            ))}
          </ul>
        </details>
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
        {form.shocks.map((s, k) => (
          <ShockEditor key={k} k={k} shock={s} meta={meta} errors={errors} warnings={warnings.filter((w) => warningShock(w) === k)} regionHint={k === 0 ? regionHint : undefined} onChange={(x) => setShock(k, x)} onRemove={() => set({ shocks: form.shocks.filter((_, i) => i !== k) })} />
        ))}
        <label class="add-shock">
          Add a shock:{" "}
          <select id="add-shock" value="" onChange={(e) => {
            const t = e.currentTarget.value;
            if (t) set({ shocks: [...form.shocks, newShock(t, specs)] });
            e.currentTarget.value = "";
          }}>
            <option value="">(type)</option>
            {meta.shock_types.map((t) => (
              <option key={t.type} value={t.type} title={plain(t.description)}>
                {t.type} — {plain(t.description)}
              </option>
            ))}
          </select>
        </label>
      </fieldset>

      {multi && <MultiSectorOutputs other={form.other} errors={errors} onChange={(other) => set({ other })} />}

      <OtherSections other={multi ? withoutFormSections(form.other) : form.other} errors={errors} onChange={(o) => set({ other: multi ? withFormSections(o, form.other) : o })} />
    </div>
  );
}

/** The fields of `[uncertainty]` (kaifang.models.caliendo_parro.uncertainty.UncertaintySettings;
 * docs/uncertainty.md). `se` (standard errors by sector) is edited in the TOML editor. */
export const UNCERTAINTY_FIELDS = [
  { name: "draws", hint: "draws of the trade elasticities θ_j (0 = none; at most 100,000)", placeholder: "0" },
  { name: "seed", hint: "random seed (non-negative integer)", placeholder: "1" },
  { name: "level", hint: "share of the draws inside each band, in (0, 1)", placeholder: "0.95" },
  { name: "cv", hint: "coefficient of variation of θ_j for sectors without a standard error", placeholder: "0.2" },
] as const;

const isObj = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === "object" && !Array.isArray(v);

/** `other` without what the uncertainty and value-chain fields edit (so it is not shown twice). */
function withoutFormSections(other: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(other)) {
    if (k === "uncertainty") continue;
    if (k === "output" && isObj(v)) {
      const { value_chains: _, ...rest } = v;
      if (Object.keys(rest).length) out[k] = rest;
      continue;
    }
    out[k] = v;
  }
  return out;
}

/** `edited` (sections edited without the uncertainty and value-chain fields) with those fields
 * put back from `other`. */
function withFormSections(edited: Record<string, unknown>, other: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...edited };
  if (other.uncertainty !== undefined) out.uncertainty = other.uncertainty;
  const o = other.output;
  if (isObj(o) && "value_chains" in o) out.output = { ...(isObj(edited.output) ? edited.output : {}), value_chains: o.value_chains };
  return out;
}

/** The `[uncertainty]` section (bands from draws of the trade elasticities) and the value-chain
 * tables of `[output]`, for the multi-sector model. */
function MultiSectorOutputs({ other, errors, onChange }: { other: Record<string, unknown>; errors: FieldError[]; onChange: (o: Record<string, unknown>) => void }) {
  const unc = isObj(other.uncertainty) ? other.uncertainty : {};
  const out = isObj(other.output) ? other.output : {};
  // what was typed, so that "0." stays as typed while it means the number 0
  const [typed, setTyped] = useState<Record<string, string>>({});
  const text = (name: string) => {
    const t = typed[name];
    const v = unc[name];
    return t !== undefined && (parseLike(t, "number") === v || (t.trim() === "" && v === undefined)) ? t : display(v);
  };
  const setUnc = (name: string, text: string) => {
    setTyped({ ...typed, [name]: text });
    const next: Record<string, unknown> = { ...unc };
    if (text.trim() === "") delete next[name];
    else next[name] = parseLike(text, "number"); // a number, or the text itself for the server to name
    const o = { ...other };
    if (Object.keys(next).length) o.uncertainty = next;
    else delete o.uncertainty;
    onChange(o);
  };
  const setChains = (on: boolean) => {
    const next: Record<string, unknown> = { ...out };
    if (on) next.value_chains = true;
    else delete next.value_chains;
    const o = { ...other };
    if (Object.keys(next).length) o.output = next;
    else delete o.output;
    onChange(o);
  };
  const se = isObj(unc.se) ? Object.keys(unc.se) : [];
  return (
    <fieldset class="uncertainty" id="uncertainty-section" data-field="uncertainty">
      <legend>Uncertainty bands and value chains</legend>
      <p class="hint">
        <code>[uncertainty]</code>: the scenario is solved again for draws of the sectoral trade elasticities θ_j (log-normal around the data's values); every regional outcome gets a band (
        <code>x_lo</code>, <code>x_hi</code>). Leave draws empty or 0 for none. {se.length > 0 ? `Standard errors given for ${se.join(", ")} (edit them in the TOML editor).` : "Standard errors by sector ([uncertainty.se]) go in the TOML editor."}
      </p>
      <FieldMsg errors={errors} field="uncertainty" />
      <div class="grid4">
        {UNCERTAINTY_FIELDS.map((u) => (
          <Field key={u.name} label={u.name} field={`uncertainty.${u.name}`} errors={errors} hint={u.hint}>
            <input id={`u-${u.name}`} inputMode="decimal" placeholder={u.placeholder} value={text(u.name)} onInput={(e) => setUnc(u.name, e.currentTarget.value)} />
          </Field>
        ))}
      </div>
      <Field label="value chains" field="output.value_chains" errors={errors} hint="[output] value_chains: GVC participation and value-added indicators of the baseline and the counterfactual (docs/valuechains.md)">
        <span>
          <input type="checkbox" id="o-value-chains" checked={out.value_chains === true} onChange={(e) => setChains(e.currentTarget.checked)} /> add the value-chain tables
        </span>
      </Field>
    </fieldset>
  );
}

const SECTION_ORDER = ["baseline", "parameters", "policy", "estimation", "solver", "output"];

/** The model's own sections ([baseline], [parameters], [policy] with its [[policy.retaliation]]
 * entries, [solver], ...) as fields; new sections and keys are added in the TOML editor. */
function OtherSections({ other, errors, onChange }: { other: Record<string, unknown>; errors: FieldError[]; onChange: (o: Record<string, unknown>) => void }) {
  const names = Object.keys(other).sort((a, b) => (SECTION_ORDER.indexOf(a) + 99) % 99 - (SECTION_ORDER.indexOf(b) + 99) % 99);
  if (!names.length) return null;
  return (
    <fieldset class="sections" id="sections">
      <legend>Model settings</legend>
      <p class="hint">The model's own sections of this scenario. Add sections or keys in the TOML editor.</p>
      {names.map((name) => (
        <div class="section" key={name} data-section={name}>
          <ValueFields path={name} value={other[name]} errors={errors} onChange={(v) => onChange({ ...other, [name]: v })} />
        </div>
      ))}
    </fieldset>
  );
}

/** Fields of a TOML value: a table's keys, each entry of an array of tables, or one input. */
function ValueFields({ path, value, errors, onChange }: { path: string; value: unknown; errors: FieldError[]; onChange: (v: unknown) => void }) {
  if (isTableArray(value)) {
    return (
      <div class="table-array">
        {value.map((item, i) => (
          <div class="entry" key={i} data-entry={`${path}[${i}]`}>
            <div class="shock-head">
              <strong>
                <code>[[{path}]]</code> {i + 1}
              </strong>
              <button type="button" class="small" onClick={() => onChange(value.filter((_, j) => j !== i))}>
                remove
              </button>
            </div>
            <FieldMsg errors={errors} field={`${path}[${i}]`} />
            <ValueFields path={`${path}[${i}]`} value={item} errors={errors} onChange={(v) => onChange(value.map((x, j) => (j === i ? v : x)))} />
          </div>
        ))}
        <button type="button" class="small" onClick={() => onChange([...value, { ...value[value.length - 1] }])}>
          + another <code>[[{path.replace(/\[\d+\]/g, "")}]]</code>
        </button>
      </div>
    );
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    const simple = Object.keys(obj).filter((k) => !(obj[k] && typeof obj[k] === "object" && !Array.isArray(obj[k])) && !isTableArray(obj[k]));
    const nested = Object.keys(obj).filter((k) => !simple.includes(k));
    const leaf = !/\[\d+\]$/.test(path);
    return (
      <div class="table-fields">
        {leaf && simple.length > 0 && (
          <div class="section-head">
            <code>[{path}]</code>
          </div>
        )}
        <FieldMsg errors={errors} field={path} />
        <div class="grid4">
          {simple.map((k) => (
            <ScalarField key={k} path={`${path}.${k}`} name={k} value={obj[k]} errors={errors} onChange={(v) => onChange({ ...obj, [k]: v })} />
          ))}
        </div>
        {nested.map((k) => (
          <ValueFields key={k} path={`${path}.${k}`} value={obj[k]} errors={errors} onChange={(v) => onChange({ ...obj, [k]: v })} />
        ))}
      </div>
    );
  }
  return <ScalarField path={path} name={path.split(".").slice(-1)[0]} value={value} errors={errors} onChange={onChange} />;
}

/** One input for a number, text, list or true/false value; what is typed keeps the value's type. */
function ScalarField({ path, name, value, errors, onChange }: { path: string; name: string; value: unknown; errors: FieldError[]; onChange: (v: unknown) => void }) {
  const cls = `v-${name}`;
  const kind = useRef(kindOf(value)); // the type it had in the scenario, kept while it is edited
  const input =
    typeof value === "boolean" ? (
      <input type="checkbox" class={cls} data-path={path} checked={value} onChange={(e) => onChange(e.currentTarget.checked)} />
    ) : (
      <input class={cls} data-path={path} value={display(value)} inputMode={typeof value === "number" ? "decimal" : undefined} onInput={(e) => onChange(parseLike(e.currentTarget.value, kind.current))} />
    );
  return (
    <Field label={name.replace(/_/g, " ")} field={path} errors={errors} hint={kind.current === "list" || kind.current === "numbers" ? "comma-separated" : undefined}>
      {input}
    </Field>
  );
}

/** Shock fields by type, as /api/meta describes them. */
export function shockSpecs(meta: Meta): ShockSpecs {
  return Object.fromEntries(meta.shock_types.map((t) => [t.type, t.fields]));
}

const REGION_FIELDS = new Set(["importer", "exporter", "members", "region"]);

function ShockEditor({ k, shock, meta, errors, warnings, regionHint, onChange, onRemove }: {
  k: number;
  shock: ShockForm;
  meta: Meta;
  errors: FieldError[];
  warnings: string[];
  regionHint?: string;
  onChange: (s: ShockForm) => void;
  onRemove: () => void;
}) {
  const spec = meta.shock_types.find((t) => t.type === shock.type);
  const f = (x: string) => `shocks[${k}].${x}`;
  const setValue = (name: string, v: string | boolean) => onChange({ ...shock, values: { ...shock.values, [name]: v } });
  const fields = spec?.fields ?? [];
  const extra = shock.extra ?? {};
  const extraNames = Object.keys(extra).filter((x) => !fields.some((fd) => fd.name === x));
  return (
    <div class="shock" data-field={`shocks[${k}]`} data-shock={k} data-type={shock.type}>
      <div class="shock-head">
        <strong>
          Shock {k + 1}: <code>{shock.type}</code>
        </strong>
        <span class="hint">{spec ? <Rich text={spec.description} /> : "a shock type of this model (see the model's documentation)"}</span>
        <button type="button" class="small" onClick={onRemove}>
          remove
        </button>
      </div>
      <FieldMsg errors={errors} field={`shocks[${k}]`} />
      <FieldMsg errors={errors} field={f("type")} />
      {warnings.length > 0 && (
        <div class="field-warning" data-warning-for={`shocks[${k}]`}>
          {warnings.map((w, i) => (
            <div key={i}>warning: {warningText(w)}</div>
          ))}
        </div>
      )}
      <div class="grid4">
        {fields.map((fd) => {
          const v = shock.values[fd.name];
          const cls = `s-${fd.name}`;
          const title = fd.description || undefined;
          let input;
          if (fd.kind === "bool") {
            input = <input type="checkbox" class={cls} checked={v === true} onChange={(e) => setValue(fd.name, e.currentTarget.checked)} />;
          } else if (fd.kind === "enum") {
            input = (
              <select class={cls} value={String(v ?? "")} onChange={(e) => setValue(fd.name, e.currentTarget.value)}>
                {!fd.required && <option value="">(default)</option>}
                {fd.options.map((o) => (
                  <option key={o} value={o}>
                    {o}
                  </option>
                ))}
              </select>
            );
          } else if (fd.name === "from_table") {
            input = <input class={cls} list="dl-tables" value={String(v ?? "")} onInput={(e) => setValue(fd.name, e.currentTarget.value)} placeholder="(none)" />;
          } else {
            const list = fd.kind === "selector" ? (REGION_FIELDS.has(fd.name) ? "dl-regions" : "dl-sectors") : undefined;
            input = (
              <input class={cls} list={list} value={String(v ?? "")} inputMode={fd.kind === "number" ? "decimal" : undefined} placeholder={fd.default == null ? "" : String(fd.default)} onInput={(e) => setValue(fd.name, e.currentTarget.value)} />
            );
          }
          return (
            <Field key={fd.name} label={fd.name.replace(/_/g, " ")} field={f(fd.name)} errors={errors} hint={fd.name === "importer" ? regionHint : title && plain(title)}>
              {input}
            </Field>
          );
        })}
        {extraNames.map((x) => (
          <ScalarField key={x} path={f(x)} name={x} value={extra[x]} errors={errors} onChange={(v) => onChange({ ...shock, extra: { ...extra, [x]: v } })} />
        ))}
      </div>
    </div>
  );
}
