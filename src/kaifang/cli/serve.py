"""``kaifang serve``: start the web app (on 127.0.0.1 unless told otherwise) and print its address."""

from __future__ import annotations

from pathlib import Path

import typer

from kaifang.cli._app import app, console, err_console
from kaifang.errors import UserInputError

_LOCAL = ("127.0.0.1", "localhost", "::1")


@app.command("serve")
def serve_cmd(
    port: int = typer.Option(8765, "--port", help="TCP port (0 picks a free one).", min=0, max=65535),
    host: str | None = typer.Option(
        None, "--host", help="Address to bind (default 127.0.0.1: this computer only)."
    ),
    store: Path | None = typer.Option(
        None, "--store", help="Results store (default: KAIFANG_STORE or kaifang-results/kaifang.duckdb)."
    ),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="Worker processes solving scenarios."),
    max_queue: int | None = typer.Option(
        None,
        "--max-queue",
        min=1,
        help="Most runs waiting for a worker; more are refused with 429 (default: KAIFANG_WEB_MAX_QUEUE or 100).",
    ),
    worker_memory: float | None = typer.Option(
        None,
        "--worker-memory",
        min=256,
        help="Memory cap of each worker process in MB; a run needing more fails with a message "
        "(default: KAIFANG_WEB_WORKER_MEMORY_MB, else no cap).",
    ),
) -> None:
    """Start the web app: build, run, compare and explore scenarios in the browser."""
    import socket

    try:
        import uvicorn

        from kaifang.web import create_app
    except ImportError as exc:
        raise UserInputError(
            f"the web app needs the optional dependencies FastAPI and uvicorn ({exc}); install them "
            'with `pip install "kaifang[web]"`.'
        ) from None

    bind = "127.0.0.1" if host is None else host
    local = bind in _LOCAL
    if not local:
        err_console.print(
            f"[bold yellow]warning:[/] binding to {bind}: anyone who can reach this address can run "
            "scenarios and read the results store. There is no authentication.",
            highlight=False,
        )
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bind, port))
    except OSError as exc:
        sock.close()
        raise UserInputError(
            f"cannot listen on {bind}:{port}: {exc.strerror or exc}. Choose another --port (0 picks a free one)."
        ) from None
    real_port = sock.getsockname()[1]
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"] if local else None
    web = create_app(
        store, workers=workers, allowed_hosts=hosts, max_queued=max_queue, worker_memory_mb=worker_memory
    )
    shown = f"[{bind}]" if ":" in bind else bind
    console.print(
        f"kaifang web app: http://{shown}:{real_port}/  (API docs: /docs; Ctrl+C stops)",
        highlight=False,
        soft_wrap=True,
    )
    config = uvicorn.Config(web, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    server.run(sockets=[sock])
