"""Jobs leave records in the results store: a restarted server shows what became of them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from conftest import HERE, start_server, stop_server, wait_workers
from kaifang.store import JOB_COLUMNS, ResultsStore
from kaifang.web._jobs import interrupted_records, server_id


def _slow(name: str, seconds: float, pid_to: Path | None = None) -> str:
    text = f'name = "{name}"\nmodel = "slow_test"\ndataset = "demo"\n[parameters]\nseconds = {seconds}\n'
    return text + (f'pid_to = "{pid_to}"\n' if pid_to else "")


def _record(job_id: str, state: str, server: str, **more) -> dict:
    base = {
        "job_id": job_id,
        "server": server,
        "state": state,
        "created": time.time(),
        "scenario": "s",
        "model": "m",
        "dataset": "demo",
        "scenario_text": 'name = "s"\n',
    }
    return {**base, **more}


def test_job_records_round_trip_and_replace(tmp_path):
    store = ResultsStore(tmp_path / "runs.duckdb")
    assert list(store.jobs().columns) == list(JOB_COLUMNS) and store.jobs().empty  # no file yet
    assert not store.path.exists()
    store.record_jobs([_record("job-1-aaaaaaaa", "queued", "h:1:x", created=1.0)])
    store.record_jobs(
        [
            _record("job-1-aaaaaaaa", "failed", "h:1:x", created=1.0, error="boom"),
            _record("job-2-bbbbbbbb", "done", "h:1:x", created=2.0, run_id="r1"),
        ]
    )
    df = store.jobs()
    assert list(df["job_id"]) == ["job-2-bbbbbbbb", "job-1-aaaaaaaa"]  # newest first, one row per job
    assert df.set_index("job_id").loc["job-1-aaaaaaaa", "error"] == "boom"
    assert store.list().empty  # job records are not runs
    with pytest.raises(ValueError, match="lacks model"):
        store.record_jobs(
            [{"job_id": "j", "state": "queued", "created": 1.0, "scenario": "s", "dataset": "d"}]
        )


def test_only_jobs_of_servers_that_are_gone_are_interrupted():
    me = server_id()
    host = me.split(":")[0]
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    live = f"{host}:{os.getppid()}:live"
    recs = [
        _record("a", "running", f"{host}:{dead_pid}:gone"),
        _record("b", "queued", f"{host}:{dead_pid}:gone"),
        _record("c", "running", live),  # another server on this store that still runs
        _record("d", "queued", me),  # this server's own
        _record("e", "done", f"{host}:{dead_pid}:gone"),  # final states stay
    ]
    out = {r["job_id"]: r for r in interrupted_records(recs, me)}
    assert set(out) == {"a", "b"}
    assert out["a"]["state"] == "failed" and out["a"]["error_kind"] == "ServerStopped"
    assert "stopped while this run was running" in out["a"]["error"]
    assert "stopped while this run was queued" in out["b"]["error"]


def _submit(url: str, text: str) -> dict:
    r = httpx.post(url + "/api/runs", json={"text": text}, timeout=30)
    assert r.status_code == 202, r.text
    return r.json()


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_jobs_survive_a_server_restart_as_records(tmp_path, how):
    store = tmp_path / "runs.duckdb"
    pid_file = tmp_path / "worker.pid"
    proc, url = start_server([str(HERE / "serve_slow.py"), str(store)], tmp_path)
    try:
        wait_workers(url)
        done = _submit(url, _slow("quick", 0.1))
        t0 = time.monotonic()
        while httpx.get(f"{url}/api/jobs/{done['id']}").json()["state"] != "done":
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
        running = _submit(url, _slow("long", 300, pid_to=pid_file))
        queued = [_submit(url, _slow(f"waiting-{i}", 300)) for i in range(15)]
        t0 = time.monotonic()
        while (
            httpx.get(f"{url}/api/jobs/{running['id']}").json()["state"] != "running" or not pid_file.exists()
        ):
            assert time.monotonic() - t0 < 30
            time.sleep(0.05)
        cancelled = queued.pop()
        httpx.post(f"{url}/api/jobs/{cancelled['id']}/cancel")
    finally:
        stop_server(proc, how)
    worker = int(pid_file.read_text())

    proc, url = start_server([str(HERE / "serve_slow.py"), str(store)], tmp_path)
    try:
        jobs = {j["id"]: j for j in httpx.get(url + "/api/jobs").json()}
        assert len(jobs) == 17, "every job of the earlier server has a record"
        assert jobs[done["id"]]["state"] == "done" and jobs[done["id"]]["run_id"]
        assert jobs[cancelled["id"]]["state"] == "cancelled"
        for j, was in [(running, "running"), *((q, "queued") for q in queued)]:
            rec = jobs[j["id"]]
            assert rec["state"] == "failed" and rec["error_kind"] == "ServerStopped", rec
            assert f"the web server stopped while this run was {was}" in rec["error"]
            assert httpx.get(f"{url}/api/jobs/{j['id']}").json() == rec
        # nothing the user made is lost: the scenario of an interrupted job can be opened again
        text = httpx.get(f"{url}/api/jobs/{running['id']}/scenario").text
        assert text == _slow("long", 300, pid_to=pid_file)
        # the finished run is in the store; the new server runs jobs as usual
        assert [r["run_id"] for r in httpx.get(url + "/api/runs").json()] == [jobs[done["id"]]["run_id"]]
    finally:
        stop_server(proc)
    # the worker solving the long run ended with its server
    for _ in range(50):
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"worker {worker} still runs after its server was stopped ({how!r})")
