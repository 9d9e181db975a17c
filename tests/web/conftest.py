"""Fixtures of the web app tests: an app on a temporary store, a served app, a headless browser."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ARTIFACTS = ROOT / "artifacts" / "web"
if str(HERE) not in sys.path:  # the worker processes inherit sys.path: kaifang_web_testmodels
    sys.path.insert(0, str(HERE))

SLOW = "slow_test"


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "runs.duckdb"


@pytest.fixture
def slow_model(monkeypatch: pytest.MonkeyPatch) -> str:
    """Register the test-only ``slow_test`` model (before the app starts its workers)."""
    from kaifang.models import RUNNERS

    monkeypatch.setitem(RUNNERS, SLOW, "kaifang_web_testmodels:run")
    return SLOW


def _client(path: Path, **options) -> Iterator:
    from fastapi.testclient import TestClient

    from kaifang.web import create_app

    app = create_app(path, prestart=False, **options)
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A TestClient of the app on a temporary store, shared by a test module (workers start on demand)."""
    yield from _client(tmp_path_factory.mktemp("store") / "runs.duckdb")


@pytest.fixture
def fresh_client(store_path: Path) -> Iterator:
    """A TestClient of the app on a store of its own."""
    yield from _client(store_path)


@pytest.fixture
def make_client(store_path: Path) -> Iterator:
    """``make_client(**options)``: a TestClient of ``create_app(store, **options)`` (closed after the test)."""
    stack = []

    def make(**options):
        gen = _client(store_path, **options)
        stack.append(gen)
        return next(gen)

    yield make
    for gen in reversed(stack):
        with contextlib.suppress(StopIteration):
            next(gen)


def wait_job(client, job: dict, timeout: float = 60) -> dict:
    """Follow a job with long polling until it is final."""
    t0 = time.monotonic()
    while job["state"] in ("queued", "running", "saving"):
        assert time.monotonic() - t0 < timeout, f"job still {job['state']} after {timeout} s: {job}"
        job = client.get(f"/api/jobs/{job['id']}", params={"after": job["version"], "wait": 5}).json()
    return job


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`kaifang serve --port 0` in a subprocess on a temporary store; yields its base URL."""
    yield from _serve(
        ["-m", "kaifang", "serve", "--port", "0", "--store", str(tmp_path / "runs.duckdb")], tmp_path
    )


@pytest.fixture
def slow_server(tmp_path: Path) -> Iterator[str]:
    """The app with the test-only ``slow_test`` model (tests/web/serve_slow.py), in a subprocess."""
    yield from _serve([str(HERE / "serve_slow.py"), str(tmp_path / "runs.duckdb")], tmp_path)


def start_server(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """Start ``python ARGS`` (a server printing its address), wait until it answers; (process, URL)."""
    full = dict(os.environ)
    full["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), full.get("PYTHONPATH", "")])
    full["PYTHONUNBUFFERED"] = "1"
    full["KAIFANG_SCENARIOS"] = str(ROOT / "scenarios")
    full.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=full,
        cwd=cwd,
    )
    lines = []
    for _ in range(20):  # the address, after any log lines
        lines.append(proc.stdout.readline())
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", lines[-1])
        if m or not lines[-1]:
            break
    if not m:
        stop_server(proc)
        raise AssertionError(f"the server printed {''.join(lines)!r}")
    url = f"http://127.0.0.1:{m.group(1)}"
    for _ in range(100):
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return proc, url


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """Stop a server started by :func:`start_server` (SIGTERM: graceful; SIGKILL: at once)."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    if proc.stdout is not None:
        proc.stdout.close()


def wait_workers(url: str, n: int = 1, timeout: float = 60) -> None:
    """Wait until the server at ``url`` has ``n`` worker processes ready."""
    t0 = time.monotonic()
    while httpx.get(url + "/api/health").json()["workers_ready"] < n:
        assert time.monotonic() - t0 < timeout, "the worker processes never became ready"
        time.sleep(0.1)


def _serve(args: list[str], tmp_path: Path) -> Iterator[str]:
    proc, url = start_server(args, tmp_path)
    try:
        yield url
    finally:
        stop_server(proc)


CHROMIUM = os.environ.get("KAIFANG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("KAIFANG_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator:
    """Headless Chromium through selenium (the system's chromium and chromedriver; no download)."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.skip(
            f"end-to-end tests need Chromium at {CHROMIUM} and chromedriver at {CHROMEDRIVER} "
            "(Debian: apt-get install chromium chromium-driver; or set KAIFANG_CHROMIUM/KAIFANG_CHROMEDRIVER)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1300,1800",
        "--disable-gpu",
    ):
        opts.add_argument(a)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()
