"""`kaifang serve`: the contract (health, app, OpenAPI) and its refusals."""

from __future__ import annotations

import socket

import httpx

from kaifang.cli import main


def test_serve_answers_health_app_and_openapi(server):
    assert httpx.get(server + "/api/health").json()["status"] == "ok"
    page = httpx.get(server + "/")
    assert page.status_code == 200 and "<title>kaifang" in page.text
    assert httpx.get(server + "/openapi.json").json()["info"]["title"] == "kaifang web API"
    # a localhost server refuses other Host headers (DNS rebinding)
    assert httpx.get(server + "/api/health", headers={"Host": "attacker.example"}).status_code == 400


def test_serve_on_a_busy_port_is_a_user_error(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err


def test_serve_warns_when_binding_beyond_localhost(capsys):
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--host", "0.0.0.0", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert "warning" in err and "no authentication" in err.replace("\n", " ")
