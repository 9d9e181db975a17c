"""A small bounded load test of the served web app (loopback only): no 5xx, the queue drains.

160 requests from 16 threads to `serve_slow.py` on 127.0.0.1 (two workers, at most 20 runs
waiting): submissions of short runs, validations, health, metadata and job listings, in a fixed
shuffled order. Submissions beyond the queue's bound must get 429 with Retry-After; everything
accepted must finish.
"""

from __future__ import annotations

import random
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse

import httpx

from conftest import HERE, start_server, stop_server, wait_workers

ROOT = Path(__file__).resolve().parents[2]
DEMO = (ROOT / "scenarios" / "demo-tariff.toml").read_text()


def _short_run(i: int) -> str:
    return f'name = "load-{i}"\nmodel = "slow_test"\ndataset = "demo"\n[parameters]\nseconds = 0.05\n'


def _chunked_over_the_limit(url: str, limit: int) -> int:
    """Send a chunked POST body over ``limit`` bytes on a raw socket; the status code."""
    u = urlparse(url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(
            f"POST /api/validate HTTP/1.1\r\nHost: {u.hostname}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        chunk = b"x" * 65536
        try:
            for _ in range(limit // len(chunk) + 2):
                s.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the server may answer and close before the whole body is sent
        head = s.recv(200).decode("latin-1")
    return int(head.split()[1])


def test_a_burst_of_requests_gets_no_5xx_and_the_queue_drains(tmp_path):
    from kaifang.web import MAX_BODY_BYTES

    env = {"KAIFANG_WEB_WORKERS": "2", "KAIFANG_WEB_MAX_QUEUE": "20"}
    proc, url = start_server([str(HERE / "serve_slow.py"), str(tmp_path / "runs.duckdb")], tmp_path, env)
    try:
        wait_workers(url, 2)
        plan = (
            [("POST", "/api/runs", {"text": _short_run(i)}) for i in range(60)]
            + [("POST", "/api/validate", {"text": DEMO}) for _ in range(40)]
            + [("GET", "/api/health", None)] * 30
            + [("GET", "/api/meta", None)] * 20
            + [("GET", "/api/jobs", None)] * 10
        )
        random.Random(0).shuffle(plan)

        with httpx.Client(base_url=url, timeout=30) as http:

            def send(item):
                method, path, body = item
                r = http.request(method, path, json=body)
                return path, r.status_code, r.headers.get("retry-after"), r.json()

            with ThreadPoolExecutor(16) as pool:
                answers = list(pool.map(send, plan))

            assert len(answers) == 160
            assert not [a for a in answers if a[1] >= 500], [a[:2] for a in answers if a[1] >= 500]
            runs = [a for a in answers if a[0] == "/api/runs"]
            accepted = [a[3]["id"] for a in runs if a[1] == 202]
            refused = [a for a in runs if a[1] == 429]
            assert len(accepted) + len(refused) == 60 and accepted
            assert all(a[2] and int(a[2]) >= 1 and a[3]["error"] == "queue_full" for a in refused)
            assert all(a[1] == 200 for a in answers if a[0] != "/api/runs")
            assert all(a[3]["valid"] for a in answers if a[0] == "/api/validate")

            # the queue drains: every accepted run finishes
            t0 = time.monotonic()
            while True:
                health = http.get("/api/health").json()
                if health["queued"] == 0 and health["running"] == 0:
                    break
                assert time.monotonic() - t0 < 60, f"the queue did not drain: {health}"
                time.sleep(0.1)
            states = {j["id"]: j["state"] for j in http.get("/api/jobs").json()}
            assert [states[i] for i in accepted] == ["done"] * len(accepted)
            assert health["workers_ready"] == 2
            assert len(http.get("/api/runs").json()) == len(accepted)
        # a streamed body over the limit is refused with 413 by the real server too
        assert _chunked_over_the_limit(url, MAX_BODY_BYTES) == 413
    finally:
        stop_server(proc)
