"""Runs in worker processes: progress, cancellation (the process is terminated), internal errors."""

from __future__ import annotations

import os
import signal
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


def _running(client, job: dict, pid_file, timeout: float = 60) -> tuple[dict, int]:
    """Wait until ``job`` runs in a worker that wrote its process id to ``pid_file``."""
    t0 = time.monotonic()
    while not (job["state"] == "running" and pid_file.exists() and pid_file.read_text()):
        assert time.monotonic() - t0 < timeout, job
        job = client.get(f"/api/jobs/{job['id']}", params={"after": job["version"], "wait": 0.5}).json()
    return job, int(pid_file.read_text())


def test_a_killed_worker_fails_its_job_within_seconds_and_the_queue_goes_on(
    fresh_client, slow_model, tmp_path
):
    client = fresh_client
    pid_file = tmp_path / "pid"
    job = client.post("/api/runs", json={"text": _slow("doomed", seconds=120, pid_to=str(pid_file))}).json()
    job, pid = _running(client, job, pid_file)
    waiting = client.post("/api/runs", json={"text": _slow("next", seconds=0.2)}).json()
    assert waiting["state"] == "queued"

    t_kill = time.monotonic()
    os.kill(pid, signal.SIGKILL)  # what the out-of-memory killer does
    job = wait_job(client, job, timeout=15)
    assert time.monotonic() - t_kill < 5, "the dead worker's job was not failed within seconds"
    assert job["state"] == "failed" and job["error_kind"] == "WorkerDied"
    assert "worker process solving this run died" in job["error"] and "SIGKILL" in job["error"]
    assert "out-of-memory" in job["error"]

    # a fresh worker takes the queued job; the server has its worker back
    done = wait_job(client, waiting, timeout=60)
    assert done["state"] == "done" and done["run_id"]
    health = client.get("/api/health").json()
    assert health["workers_ready"] == 1 and health["queued"] == 0 and health["running"] == 0


def test_a_worker_that_dies_while_idle_is_replaced(fresh_client, slow_model):
    client = fresh_client
    wait_job(client, client.post("/api/runs", json={"text": _slow("warm-up", seconds=0.1)}).json())
    manager = client.app.state.jobs
    old = manager._workers[0].pid
    os.kill(old, signal.SIGKILL)
    t0 = time.monotonic()
    while not (
        manager._workers[0] is not None and manager._workers[0].pid != old and manager.ready_workers() == 1
    ):
        assert time.monotonic() - t0 < 30, "the idle worker that died was not replaced"
        time.sleep(0.1)
    done = wait_job(client, client.post("/api/runs", json={"text": _slow("after", seconds=0.1)}).json())
    assert done["state"] == "done"


def test_a_run_over_the_worker_memory_cap_fails_with_a_message_and_the_worker_goes_on(
    make_client, slow_model, tmp_path
):
    client = make_client(worker_memory_mb=1500)
    pid1, pid2 = tmp_path / "pid1", tmp_path / "pid2"
    big = wait_job(
        client, client.post("/api/runs", json={"text": _slow("big", allocate_gb=8, pid_to=str(pid1))}).json()
    )
    assert big["state"] == "failed" and big["error_kind"] == "MemoryError", big
    assert "more memory than the 1500 MB a worker process may use" in big["error"]
    small = wait_job(
        client, client.post("/api/runs", json={"text": _slow("small", seconds=0.1, pid_to=str(pid2))}).json()
    )
    assert small["state"] == "done"
    assert pid2.read_text() == pid1.read_text(), "the worker was replaced although it survived"


def test_the_queue_is_bounded_and_a_full_queue_answers_429_with_retry_after(
    make_client, slow_model, tmp_path
):
    client = make_client(max_queued=2)
    pid_file = tmp_path / "pid"
    first = client.post("/api/runs", json={"text": _slow("busy", seconds=120, pid_to=str(pid_file))}).json()
    _running(client, first, pid_file)
    queued = [client.post("/api/runs", json={"text": _slow(f"q{i}", seconds=120)}) for i in range(2)]
    assert [r.status_code for r in queued] == [202, 202]
    full = client.post("/api/runs", json={"text": _slow("one-too-many", seconds=1)})
    assert full.status_code == 429
    assert int(full.headers["Retry-After"]) >= 1
    body = full.json()
    assert (
        body["error"] == "queue_full" and "queue is full (2 runs waiting, the limit is 2)" in body["message"]
    )
    health = client.get("/api/health").json()
    assert (health["queued"], health["running"], health["max_queued"]) == (2, 1, 2)
    # a place frees up when a queued job is cancelled
    client.post(f"/api/jobs/{queued[0].json()['id']}/cancel")
    assert client.post("/api/runs", json={"text": _slow("now-fits", seconds=1)}).status_code == 202
    for j in client.get("/api/jobs").json():
        client.post(f"/api/jobs/{j['id']}/cancel")
