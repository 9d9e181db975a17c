"""`kaifang run` records runs in the store; `kaifang runs list|show|export|delete`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_store import make_result

from kaifang.cli import main
from kaifang.store import ResultsStore


@pytest.fixture
def fake_runs(monkeypatch):
    """Replace the model solve by a fixed RunResult (the store hook is what is tested here)."""
    import kaifang.models

    monkeypatch.setattr(
        kaifang.models, "solve_prepared", lambda run, progress=None: make_result(name=run.scenario.name)
    )


def _scenario(tmp_path, name="s1") -> Path:
    f = tmp_path / f"{name}.toml"
    f.write_text(f'name = "{name}"\nmodel = "caliendo_parro"\ndataset = "demo"\n')
    return f


def test_run_records_in_store_and_prints_id(fake_runs, tmp_path, capsys):
    store = tmp_path / "st.duckdb"
    rc = main(["run", str(_scenario(tmp_path)), "--no-save", "--store", str(store)])
    out = capsys.readouterr().out
    assert rc == 0
    ids = ResultsStore(store).run_ids()
    assert len(ids) == 1 and f"run id: {ids[0]}" in out


def test_run_json_has_run_id_and_env_store(fake_runs, tmp_path, capsys, monkeypatch):
    rc = main(["run", str(_scenario(tmp_path, "a")), str(_scenario(tmp_path, "b")), "--no-save", "--json"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert rc == 0 and len(lines) == 2
    docs = [json.loads(x) for x in lines]
    ids = ResultsStore().run_ids()  # KAIFANG_STORE (set per test in conftest)
    assert [d["run_id"] for d in docs] == ids
    assert [d["scenario"] for d in docs] == ["a", "b"]


def test_no_store(fake_runs, tmp_path, capsys):
    store = tmp_path / "st.duckdb"
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store", "--store", str(store)]) == 0
    assert not store.exists()


def test_runs_list_show_export_delete(fake_runs, tmp_path, capsys):
    main(["run", str(_scenario(tmp_path, "x")), "--no-save"])
    capsys.readouterr()
    assert main(["runs", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in doc["runs"]] == ["x"]
    rid = doc["runs"][0]["run_id"]
    assert main(["runs", "show", rid, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_id"] == rid and shown["provenance"]["scenario_sha256"]
    assert main(["runs", "show", rid]) == 0
    assert "welfare_pct" in capsys.readouterr().out
    for fmt in ("csv", "parquet", "xlsx"):
        target = tmp_path / ("out.xlsx" if fmt == "xlsx" else f"out-{fmt}")
        assert main(["runs", "export", rid, "--format", fmt, "--out", str(target)]) == 0
        assert target.exists()
    assert (tmp_path / "out-csv" / "regions.csv").is_file()
    assert main(["runs", "delete", rid]) == 0
    assert ResultsStore().run_ids() == []


def test_runs_unknown_id_exit_2(fake_runs, tmp_path, capsys):
    main(["run", str(_scenario(tmp_path, "x")), "--no-save"])
    rid = ResultsStore().run_ids()[0]
    capsys.readouterr()
    assert main(["runs", "show", rid[:-2] + "zz"]) == 2
    err = capsys.readouterr().err
    assert "no run" in err and rid in err and "Traceback" not in err


def test_runs_corrupt_store_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(b"garbage" * 500)
    assert main(["runs", "list", "--store", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.duckdb" in err and "move it aside" in err


def test_runs_newer_store_exit_2(fake_runs, tmp_path, capsys):
    import duckdb

    store = tmp_path / "st.duckdb"
    main(["run", str(_scenario(tmp_path)), "--no-save", "--store", str(store)])
    con = duckdb.connect(str(store))
    con.execute("UPDATE schema_version SET version = 99")
    con.close()
    capsys.readouterr()
    assert main(["runs", "list", "--store", str(store)]) == 2
    assert "newer kaifang" in capsys.readouterr().err
