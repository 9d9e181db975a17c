"""Bad requests get a 4xx with a sentence, never a 5xx: the corpus of bad scenarios, files named
in requests (never opened), deep nesting, oversized and streamed bodies, wrong methods."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from helpers import require_dataset

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]


def _expectations(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if not line.startswith("#!"):
            break
        key, _, value = line[2:].partition(":")
        out[key.strip()] = value.strip()
    return out


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_bad_input_of_the_corpus_is_refused_with_a_sentence(client, path):
    expect = _expectations(path)
    assert {"field", "match"} <= set(expect), f"{path.name}: give '#! field:' and '#! match:' lines"
    if "needs" in expect:
        require_dataset(expect["needs"])
    text = path.read_text()
    jobs_before = len(client.get("/api/jobs").json())

    r = client.post("/api/validate", json={"text": text, "origin": "editor"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["valid"] is False and body["errors"], body
    first = body["errors"][0]
    assert first["field"] == (None if expect["field"] == "-" else expect["field"]), body["errors"]
    assert expect["match"] in first["message"], first["message"]
    assert first["message"].startswith("the TOML editor: ")
    assert "Traceback" not in first["message"]

    r = client.post("/api/runs", json={"text": text, "origin": "editor"})
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_scenario" and expect["match"] in r.json()["message"]
    assert len(client.get("/api/jobs").json()) == jobs_before, "a refused scenario made a job"


# -- files named in a request are never opened -------------------------------------------------------

_WATCHED: set[str] = set()
_OPENED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and _WATCHED and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path in _WATCHED:
            _OPENED.append(path)


sys.addaudithook(_audit)  # inert unless a test fills _WATCHED

_PLANTED = {
    "tariffs.csv": "iso3,applied_tariff\nUSA,0.5\nCHN,0.9\n",
    "flows.csv": "importer,exporter,value\nXAA,XBB,1\n",
}
_REQUESTS = [
    ("liberation2025", "ims2025", '[baseline]\ntariff_file = "tariffs.csv"\n', "baseline.tariff_file"),
    ("liberation2025", "ims2025", '[baseline]\ntariff_file = "{cwd}/tariffs.csv"\n', "baseline.tariff_file"),
    ("demo", "caliendo_parro", '[parameters]\nflows_path = "flows.csv"\n', "parameters.flows_path"),
    ("demo", "caliendo_parro", '[baseline]\nfile = "flows.csv"\n', "baseline.file"),
    ("agtpa", "gravity", '[baseline]\nyear = 2006\nfile = "flows.csv"\n', "baseline.file"),
    (
        "agtpa",
        "gravity",
        '[baseline]\nyear = 2006\n[estimation]\nfile = "{cwd}/flows.csv"\n',
        "estimation.file",
    ),
]


def test_a_file_named_in_a_request_is_refused_and_never_opened(fresh_client, tmp_path, monkeypatch):
    """Plant files in the server's working directory; requests naming them (relative or absolute,
    in any section) get a 422 that says what to do instead, and no process ever opens them."""
    monkeypatch.chdir(tmp_path)  # the server's working directory
    for name, content in _PLANTED.items():
        (tmp_path / name).write_text(content)
    _WATCHED.update(str(tmp_path / n) for n in _PLANTED)
    try:
        # the detector works: opening a planted file is seen
        with open(tmp_path / "tariffs.csv") as fh:
            fh.read()
        assert _OPENED == [str(tmp_path / "tariffs.csv")]
        _OPENED.clear()

        for dataset, model, section, fld in _REQUESTS:
            text = f'name = "planted"\nmodel = "{model}"\ndataset = "{dataset}"\n\n' + section.format(
                cwd=tmp_path
            )
            for url in ("/api/validate", "/api/runs"):
                r = fresh_client.post(url, json={"text": text, "origin": "form"})
                body = r.json()
                if url == "/api/runs":
                    assert r.status_code == 422, body
                else:
                    assert body["valid"] is False, body
                err = body["errors"][0]
                assert err["field"] == fld, body
                assert "the web app" in err["message"] and (
                    "files cannot be referenced from the web app" in err["message"]
                    or "never reads a path" in err["message"]
                )
                assert err["message"].startswith("the scenario form: ")
        assert _OPENED == [], f"a path from a request was opened: {_OPENED}"
        assert fresh_client.get("/api/jobs").json() == []  # no worker was ever given one
    finally:
        _WATCHED.clear()
        _OPENED.clear()


def test_the_fix_offered_for_a_file_field_is_one_the_web_app_can_do(client):
    text = (ROOT / "scenarios" / "liberation-day-ustr.toml").read_text()
    bad = text.replace("[parameters]", '[baseline]\ntariff_file = "tariffs.csv"\n\n[parameters]', 1)
    msg = client.post("/api/validate", json={"text": bad}).json()["errors"][0]["message"]
    assert "Remove the field" in msg and "[[shocks]]" in msg and "kaifang run FILE" in msg


def test_a_registered_file_chosen_by_name_is_accepted(client):
    require_dataset("agtpa")
    text = (ROOT / "scenarios" / "agtpa-no-borders.toml").read_text()
    assert 'file = "agtpa_applications.csv.gz"' in text
    assert client.post("/api/validate", json={"text": text}).json()["valid"]


# -- HTTP: nesting, sizes, methods, icon ---------------------------------------------------------------


def test_deeply_nested_json_is_a_400_with_a_sentence(client):
    body = '{"text": ' + "[" * 40000 + "]" * 40000 + "}"
    r = client.post("/api/validate", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "not valid JSON" in r.json()["message"] and '{"text"' in r.json()["message"]


def test_deep_toml_on_submission_is_a_422(client):
    text = (CORPUS / "deep-arrays-40000.toml").read_text()
    r = client.post("/api/runs", json={"text": text})
    assert r.status_code == 422 and "nested too deeply" in r.json()["message"]


def test_a_streamed_body_over_the_limit_is_413(client):
    from kaifang.web import MAX_BODY_BYTES

    def chunks():
        for _ in range(MAX_BODY_BYTES // 4096 + 8):
            yield b" " * 4096

    r = client.post("/api/validate", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}  # sent chunked
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    # a streamed body under the limit is read as usual
    small = client.post(
        "/api/validate",
        content=iter([b'{"text": ', b'"name = 1"}']),
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 200 and small.json()["valid"] is False


@pytest.mark.parametrize(
    ("method", "url", "allow"),
    [
        ("PUT", "/api/runs", "GET, POST"),
        ("DELETE", "/api/health", "GET"),
        ("POST", "/api/runs/261128-000000-zzzz", "DELETE, GET"),
        ("GET", "/api/validate", "POST"),
    ],
)
def test_405_says_which_methods_are_allowed(client, method, url, allow):
    r = client.request(method, url)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.json()["error"] == "method_not_allowed" and f"allowed: {allow}" in r.json()["message"]


def test_the_page_has_an_icon(client):
    page = client.get("/").text
    assert 'rel="icon"' in page
    href = page.split('rel="icon"')[1].split('href="')[1].split('"')[0]
    icon = client.get(href)
    assert icon.status_code == 200 and icon.content.lstrip().startswith(b"<svg")
    fav = client.get("/favicon.ico")
    assert fav.status_code == 200 and fav.headers["content-type"].startswith("image/svg+xml")
