import { useEffect, useState } from "preact/hooks";
import { api, type Job, type RunRow } from "../api";
import { fmt } from "../format";

interface Props {
  refresh: number;
  onOpen: (id: string) => void;
  onCompare: (ids: string[]) => void;
  onEdit: (text: string) => void;
}

/** Past runs from the results store (the same store as `kaifang run` / the command line). */
export function Runs({ refresh, onOpen, onCompare, onEdit }: Props) {
  const [runs, setRuns] = useState<RunRow[] | null>(null);
  const [picked, setPicked] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [jobs, setJobs] = useState<Job[]>([]);
  useEffect(() => {
    api.runs().then(setRuns).catch((e: Error) => setError(e.message));
    api.jobs().then(setJobs).catch(() => setJobs([]));
  }, [refresh, tick]);
  if (error) return <p class="error">{error}</p>;
  if (!runs) return <p class="muted">loading…</p>;
  const unfinished = jobs.filter((j) => j.state === "failed" || j.state === "cancelled");
  const notDone = unfinished.length > 0 && <Unfinished jobs={unfinished} onEdit={onEdit} />;
  if (!runs.length)
    return (
      <section class="runs">
        <p class="muted">No runs in the results store yet. Build a scenario and run it.</p>
        {notDone}
      </section>
    );
  const toggle = (id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id]));
  return (
    <section class="runs">
      <p>
        <button id="compare-selected" disabled={picked.length < 2} onClick={() => onCompare(picked)}>
          Compare selected ({picked.length})
        </button>
      </p>
      <div class="table-wrap">
        <table class="data" id="runs-table">
          <thead>
            <tr>
              <th />
              <th>scenario</th>
              <th>model</th>
              <th>data set</th>
              <th>created</th>
              <th>solve (s)</th>
              <th>run id</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.run_id} data-run={r.run_id}>
                <td>
                  <input type="checkbox" class="pick" checked={picked.includes(r.run_id)} onChange={() => toggle(r.run_id)} aria-label={`select ${r.scenario}`} />
                </td>
                <td>
                  {r.scenario} {r.synthetic && <span class="badge warn small">synthetic</span>}
                </td>
                <td>{r.model}</td>
                <td>{r.dataset}</td>
                <td>{r.created_at ?? ""}</td>
                <td class="num">{fmt(r.solve_seconds)}</td>
                <td>
                  <code>{r.run_id}</code>
                </td>
                <td class="actions">
                  <button class="small open" onClick={() => onOpen(r.run_id)}>
                    open
                  </button>
                  <button class="small" onClick={() => api.scenarioText(r.run_id).then(onEdit)}>
                    edit again
                  </button>
                  <button
                    class="small danger"
                    onClick={() => {
                      if (confirm(`Delete run ${r.run_id} from the results store?`)) api.deleteRun(r.run_id).then(() => setTick((t) => t + 1));
                    }}
                  >
                    delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {notDone}
    </section>
  );
}

/** Runs that did not finish (failed, cancelled, or interrupted when a server stopped), from the
 * server's job records: what happened, and their scenario to edit and run again. */
function Unfinished({ jobs, onEdit }: { jobs: Job[]; onEdit: (text: string) => void }) {
  return (
    <details class="unfinished" id="unfinished" open>
      <summary>
        {jobs.length} run{jobs.length === 1 ? "" : "s"} that did not finish
      </summary>
      <div class="table-wrap">
        <table class="data" id="jobs-table">
          <thead>
            <tr>
              <th>scenario</th>
              <th>state</th>
              <th>submitted</th>
              <th>what happened</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-job={j.id} data-state={j.state}>
                <td>{j.scenario}</td>
                <td>{j.error_kind === "ServerStopped" ? "interrupted" : j.state}</td>
                <td>{new Date(j.created * 1000).toLocaleString()}</td>
                <td class="job-error">{j.error ?? (j.state === "cancelled" ? "cancelled" : "")}</td>
                <td class="actions">
                  <button class="small" onClick={() => api.jobScenario(j.id).then(onEdit)}>
                    edit again
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
