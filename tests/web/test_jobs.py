"""Runs in worker processes: progress, cancellation (the process is terminated), internal errors."""

from __future__ import annotations

import os
import time

from kaifang_web_testmodels import SECRET

from conftest import wait_job


def _slow(name: str, **params) -> str:
    lines = [f'name = "{name}"', 'model = "slow_test"', 'dataset = "demo"', "[parameters]"]
    for k, v in params.items():
        lines.append(f"{k} = {v!r}".replace("'", '"') if isinstance(v, str) else f"{k} = {str(v).lower()}")
    return "\n".join(lines) + "\n"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purposes
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def test_cancel_terminates_the_running_solve_and_the_server_stays_responsive(
    fresh_client, slow_model, tmp_path
):
    client = fresh_client
    pid_file = tmp_path / "pid"
    job = client.post("/api/runs", json={"text": _slow("long", seconds=120, pid_to=str(pid_file))}).json()
    # progress arrives while it runs; the API answers meanwhile
    t0 = time.monotonic()
    while not (job["state"] == "running" and job["progress"]):
        assert time.monotonic() - t0 < 60, job
        job = client.get(f"/api/jobs/{job['id']}", params={"after": job["version"], "wait": 2}).json()
    t_api = time.monotonic()
    assert client.get("/api/health").status_code == 200
    assert time.monotonic() - t_api < 2
    pid = int(pid_file.read_text())
    assert _pid_alive(pid)

    # a second job waits in the queue (one worker) and is cancelled before it starts
    queued = client.post("/api/runs", json={"text": _slow("queued", seconds=120)}).json()
    assert queued["state"] == "queued"
    assert client.post(f"/api/jobs/{queued['id']}/cancel").json()["state"] == "cancelled"

    t_cancel = time.monotonic()
    client.post(f"/api/jobs/{job['id']}/cancel")
    job = wait_job(client, job, timeout=20)
    assert job["state"] == "cancelled"
    assert time.monotonic() - t_cancel < 10
    for _ in range(50):
        if not _pid_alive(pid):
            break
        time.sleep(0.1)
    assert not _pid_alive(pid), "the worker process that ran the cancelled solve is still alive"
    assert client.get("/api/runs").json() == []  # nothing stored

    # a fresh worker takes the next job
    done = wait_job(client, client.post("/api/runs", json={"text": _slow("short", seconds=0.2)}).json())
    assert done["state"] == "done" and done["run_id"]


def test_internal_errors_reach_the_browser_without_details(fresh_client, slow_model):
    job = wait_job(
        fresh_client, fresh_client.post("/api/runs", json={"text": _slow("crash", crash=True)}).json()
    )
    assert job["state"] == "failed" and job["error_kind"] == "RuntimeError"
    assert SECRET not in job["error"] and "Traceback" not in job["error"]
    assert "server log" in job["error"]
