import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, type FieldError, type Job, type Meta, type RunDoc } from "./api";
import { Builder, formFields, shockSpecs, warningShock } from "./components/Builder";
import { Compare } from "./components/Compare";
import { Results } from "./components/Results";
import { Runs } from "./components/Runs";
import { warningText } from "./format";
import { fromParsed, toToml, type ScenarioForm } from "./scenario";
import "./styles.css";

type View = "build" | "results" | "runs" | "compare";

declare global {
  interface Window {
    // Read by the end-to-end tests: milliseconds from the Run click to the results table in the page.
    __kaifang?: { clickToTableMs?: number; runs: number };
  }
}
window.__kaifang = { runs: 0 };

const DEFAULT_FORM: ScenarioForm = {
  name: "my-scenario",
  description: "",
  model: "caliendo_parro",
  dataset: "demo",
  groups: [],
  shocks: [{ type: "tariff", values: { op: "add", value: "10", importer: "XAA", exporter: "XBB", sector: "all" } }],
  other: {},
};

function App() {
  const [meta, setMeta] = useState<Meta | null>(null);
  const [metaError, setMetaError] = useState<string | null>(null);
  const [examples, setExamples] = useState<Record<string, string>>({});
  const [view, setView] = useState<View>("build");
  const [mode, setMode] = useState<"form" | "toml">("form");
  const [form, setForm] = useState<ScenarioForm>(DEFAULT_FORM);
  const [text, setText] = useState<string>(toToml(DEFAULT_FORM, {}));
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [warnings, setWarnings] = useState<string[]>([]); // of the last valid verdict (never beside an error)
  const [complete, setComplete] = useState(true); // false: only the common fields could be checked
  // true: the server's complete validation passed for the text as it is now; false: it failed (or
  // the run did); null: not checked yet (cleared on every edit)
  const [valid, setValid] = useState<boolean | null>(null);
  const checkSeq = useRef(0);
  const [runFailed, setRunFailed] = useState(false); // the verdict is the run's, not the validation's
  const [job, setJob] = useState<Job | null>(null);
  const [current, setCurrent] = useState<{ doc: RunDoc; runId: string | null } | null>(null);
  const [compareIds, setCompareIds] = useState<string[]>([]);
  const [refresh, setRefresh] = useState(0);
  const [timing, setTiming] = useState<number | null>(null);
  const clickAt = useRef<number | null>(null);

  useEffect(() => {
    api
      .meta()
      .then((m) => {
        setMeta(m);
        setText(toToml(DEFAULT_FORM, shockSpecs(m)));
      })
      .catch((e: Error) => setMetaError(e.message));
    api.examples().then(setExamples).catch(() => setExamples({}));
  }, []);

  // Validate the text as the user edits (debounced): the server runs the complete validation of a
  // run (the model's sections, the shocks' regions and sectors) without solving. Every edit clears
  // the verdict until the answer for that text arrives; answers to older texts are ignored.
  const origin = mode === "form" ? "form" : "editor";
  useEffect(() => {
    const seq = ++checkSeq.current;
    setValid(null);
    if (runFailed) setErrors([]); // the failed run's messages belong to the text before this edit
    setRunFailed(false);
    const t = setTimeout(() => {
      api
        .validate(text, origin)
        .then((v) => {
          if (seq !== checkSeq.current) return;
          setValid(v.valid);
          setErrors(v.errors);
          setWarnings(v.valid ? (v.warnings ?? []) : []);
          setComplete(v.complete !== false);
          if (v.valid && v.scenario && mode === "toml" && meta) setForm(fromParsed(v.scenario, shockSpecs(meta)));
        })
        .catch((e: ApiError) => {
          if (seq !== checkSeq.current) return;
          setValid(false);
          setWarnings([]);
          setErrors(e.errors.length ? e.errors : [{ field: null, message: e.message }]);
        });
    }, 250);
    return () => clearTimeout(t);
  }, [text]);

  // an edit clears the verdict in the same render as the new text (the effect above, which runs
  // after the render, then asks the server): no "✓" or "✗" of the old text is ever shown beside the new one
  const edit = (t: string) => {
    setValid(null);
    setText(t);
  };
  const editForm = (f: ScenarioForm) => {
    setForm(f);
    edit(toToml(f, meta ? shockSpecs(meta) : {}));
  };
  const loadText = (t: string) => {
    edit(t);
    setMode("toml");
    setView("build");
    api.validate(t, "editor").then((v) => {
      if (v.valid && v.scenario && meta) {
        setForm(fromParsed(v.scenario, shockSpecs(meta)));
        setMode("form");
      }
    });
  };
  const failed = (errs: FieldError[]) => {
    setValid(false); // never "✓ valid" beside an error
    setWarnings([]);
    setRunFailed(true);
    setErrors(errs);
  };

  const run = async () => {
    clickAt.current = performance.now();
    setTiming(null);
    setJob(null);
    try {
      let j = await api.submit(text, origin);
      setJob(j);
      let shown = false;
      while (j.state === "queued" || j.state === "running" || j.state === "saving") {
        if (j.state === "saving" && !shown) {
          // solved: show the results while the store saves them
          shown = true;
          const doc = await api.jobResult(j.id);
          setCurrent({ doc, runId: doc.run_id });
          setView("results");
        }
        j = await api.job(j.id, j.version, 5);
        setJob(j);
      }
      if (j.state === "done" && j.run_id) {
        const runId = j.run_id;
        if (shown) setCurrent((c) => (c ? { ...c, runId } : c));
        else {
          const doc = await api.run(runId);
          setCurrent({ doc, runId });
          setView("results");
        }
        setRefresh((r) => r + 1);
      } else if (j.state === "failed") {
        failed(j.errors.length ? j.errors : [{ field: null, message: j.error ?? "failed" }]);
      }
    } catch (e) {
      const err = e as ApiError;
      failed(err.errors?.length ? err.errors : [{ field: null, message: err.message }]);
    }
  };
  const rendered = () => {
    if (clickAt.current !== null) {
      const ms = performance.now() - clickAt.current;
      clickAt.current = null;
      setTiming(ms);
      window.__kaifang = { clickToTableMs: ms, runs: (window.__kaifang?.runs ?? 0) + 1 };
    }
  };

  if (metaError) return <p class="error">Cannot reach the kaifang server: {metaError}</p>;
  if (!meta) return <p class="muted">loading…</p>;
  const shown = mode === "form" ? formFields(form) : new Set<string>();
  const other = errors.filter((e) => e.field === null || !shown.has(e.field));
  // warnings about a shock show beside it in the form; the others (and all, in the editor) below
  const listed = mode === "form" ? warnings.filter((w) => { const k = warningShock(w); return k === null || k >= form.shocks.length; }) : warnings;
  const busy = job !== null && (job.state === "queued" || job.state === "running" || job.state === "saving");
  const openRun = (id: string) =>
    api
      .run(id)
      .then((doc) => {
        setCurrent({ doc, runId: id });
        setView("results");
      })
      .catch((e: Error) => failed([{ field: null, message: e.message }]));

  return (
    <div class="app">
      <header class="top">
        <h1>
          kaifang <span class="muted">开放 — trade-policy scenarios</span>
        </h1>
        <nav class="tabs" role="tablist">
          {(["build", "results", "runs", "compare"] as View[]).map((v) => (
            <button key={v} id={`tab-${v}`} role="tab" aria-selected={view === v} class={view === v ? "active" : ""} onClick={() => setView(v)}>
              {{ build: "Build & run", results: "Results", runs: "Past runs", compare: "Compare" }[v]}
            </button>
          ))}
          <a class="tab-link" href="/docs" target="_blank" rel="noopener">
            API
          </a>
        </nav>
      </header>

      {view === "build" && (
        <main class="build">
          <div class="toolbar">
            <div class="modes" role="tablist">
              <button id="mode-form" class={mode === "form" ? "active" : ""} onClick={() => setMode("form")} disabled={mode === "toml" && !valid}>
                Form
              </button>
              <button id="mode-toml" class={mode === "toml" ? "active" : ""} onClick={() => setMode("toml")}>
                TOML
              </button>
            </div>
            {Object.keys(examples).length > 0 && (
              <label>
                Start from an example:{" "}
                <select id="example" value="" onChange={(e) => e.currentTarget.value && loadText(examples[e.currentTarget.value])}>
                  <option value="">(choose)</option>
                  {Object.keys(examples).map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
                </select>
              </label>
            )}
            <span id="validity" class={valid ? "ok" : valid === false ? "bad" : "muted"} data-valid={valid === null ? "" : String(valid)}>
              {valid === null
                ? "checking…"
                : valid
                  ? `✓ valid${complete ? "" : " (common fields only: this model has no prepare step)"}${warnings.length ? ` · ${warnings.length} warning${warnings.length === 1 ? "" : "s"}` : ""}`
                  : runFailed ? "✗ the run failed" : `✗ ${errors.length} problem${errors.length === 1 ? "" : "s"}`}
            </span>
          </div>

          {mode === "form" ? (
            <Builder meta={meta} form={form} onChange={editForm} errors={errors} warnings={valid ? warnings : []} />
          ) : (
            <div class="toml">
              <textarea id="toml" spellcheck={false} value={text} onInput={(e) => edit(e.currentTarget.value)} rows={24} />
            </div>
          )}
          {valid && listed.length > 0 && (
            <ul class="warnings" id="warnings">
              {listed.map((w, i) => (
                <li key={i}>warning: {warningText(w)}</li>
              ))}
            </ul>
          )}
          {other.length > 0 && (
            <ul class="errors" id="errors">
              {other.map((e, i) => (
                <li key={i} data-field={e.field ?? ""}>
                  {e.line ? <strong>line {e.line}: </strong> : e.field ? <strong>{e.field}: </strong> : null}
                  {e.message}
                </li>
              ))}
            </ul>
          )}

          <div class="run-bar">
            <button id="run" class="primary" onClick={run} disabled={busy || (valid === false && !runFailed)}>
              Run
            </button>
            {job && (
              <div class="job" id="job" data-state={job.state}>
                <strong>{job.state}</strong> {job.scenario} · {job.seconds !== null ? `${job.seconds.toFixed(1)} s` : ""}
                {busy && (
                  <button id="cancel" class="small danger" onClick={() => api.cancel(job.id).then(setJob)}>
                    Cancel
                  </button>
                )}
                {job.progress.length > 0 && (
                  <ol class="progress" id="progress">
                    {job.progress.slice(-6).map((p, i) => (
                      <li key={i}>{p}</li>
                    ))}
                  </ol>
                )}
                {job.state === "failed" && <p class="error">{job.error}</p>}
              </div>
            )}
            {timing !== null && (
              <span class="muted" id="timing">
                results in {timing.toFixed(0)} ms
              </span>
            )}
          </div>
        </main>
      )}

      {view === "results" &&
        (current ? (
          <Results key={current.doc.document.provenance.scenario_sha256 as string} doc={current.doc} runId={current.runId} onRendered={rendered} />
        ) : (
          <p class="muted">Run a scenario or open one from the past runs.</p>
        ))}
      {view === "runs" && (
        <Runs
          refresh={refresh}
          onOpen={openRun}
          onCompare={(ids) => {
            setCompareIds(ids);
            setView("compare");
          }}
          onEdit={loadText}
        />
      )}
      {view === "compare" && (compareIds.length >= 2 ? <Compare ids={compareIds} /> : <p class="muted">Pick two or more runs under “Past runs”.</p>)}
    </div>
  );
}

render(<App />, document.getElementById("app")!);
