"""Test launcher: the web app with the test-only ``slow_test`` model, on 127.0.0.1 and a free port.

Usage: ``python serve_slow.py STORE`` prints ``http://127.0.0.1:PORT/`` and serves until killed.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kaifang.models import RUNNERS
from kaifang.web import create_app

if __name__ == "__main__":
    RUNNERS["slow_test"] = "kaifang_web_testmodels:run"
    app = create_app(sys.argv[1], allowed_hosts=["127.0.0.1", "localhost"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    print(f"http://127.0.0.1:{sock.getsockname()[1]}/", flush=True)
    uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)).run(sockets=[sock])
