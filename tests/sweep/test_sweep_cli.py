"""`kaifang sweep FILE` and `kaifang sweeps list|show|delete`: output, files, store, exit codes
and every bad input as a sentence (never a traceback)."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sweep_helpers import DEMO_BASE

from kaifang.cli import main
from kaifang.store import ResultsStore


def _json(capsys) -> tuple[dict, str]:
    out, err = capsys.readouterr()
    return json.loads(out.strip().splitlines()[-1]), err


def test_serial_json_save_and_store(write_sweep, tmp_path, capsys):
    path = write_sweep()
    store = tmp_path / "st.duckdb"
    rc = main(
        ["sweep", str(path), "--serial", "--json", "--store", str(store), "--out", str(tmp_path / "out")]
    )
    doc, err = _json(capsys)
    assert rc == 0, err
    assert (doc["n_points"], doc["n_solved"], doc["n_failed"]) == (6, 6, 0) and doc[
        "engine"
    ] == "serial (this process)"
    assert [p["values"] for p in doc["points"][:2]] == [
        {"tariff": 0, "coalition": ["XBB"]},
        {"tariff": 0, "coalition": "all"},
    ]
    assert all(len(p["regions"]) == 5 and p["run_id"] and p["status"] == "ok" for p in doc["points"])
    assert (
        doc["points"][0]["regions"][0]["region"] == "XAA" and "welfare_pct" in doc["points"][0]["regions"][0]
    )
    # saved files: the summary (one row per point and region), the points, the exact sweep text
    out = tmp_path / "out"
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 30 and list(summary.columns[:4]) == ["point", "tariff", "coalition", "region"]
    assert (out / "sweep.toml").read_text() == path.read_text()
    assert json.loads((out / "sweep.json").read_text())["sweep_sha256"] == doc["sweep_sha256"]
    assert list(pd.read_csv(out / "points.csv")["status"]) == ["ok"] * 6
    # the store: one sweep record grouping six runs
    st = ResultsStore(store)
    assert list(st.sweeps()["sweep_id"]) == [doc["sweep_id"]] and len(st.list()) == 6
    assert main(["sweeps", "show", doc["sweep_id"], "--json", "--store", str(store)]) == 0
    shown, _ = _json(capsys)
    assert (
        shown["status"] == "done"
        and len(shown["summary"]) == 30
        and [p["run_id"] for p in shown["points"]] == [p["run_id"] for p in doc["points"]]
    )
    assert main(["sweeps", "list", "--json", "--store", str(store)]) == 0
    assert _json(capsys)[0]["sweeps"][0]["n_solved"] == 6


def test_table_output_and_delete(write_sweep, tmp_path, capsys):
    store = tmp_path / "st.duckdb"
    rc = main(
        ["sweep", str(write_sweep()), "--serial", "--no-save", "--store", str(store), "--regions", "XAA"]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "demo-war — caliendo_parro, 6 points (grid)" in out
    assert "solved 6 of 6 points" in out and "sweep id:" in out and "XBB  " not in out
    assert "hint:" not in out  # already serial
    sid = ResultsStore(store).sweeps()["sweep_id"].iloc[0]
    assert main(["sweeps", "show", sid, "--store", str(store)]) == 0
    assert "status done, 6 solved, 0 failed" in capsys.readouterr().out
    assert main(["sweeps", "delete", sid, "--store", str(store)]) == 0
    assert "and its 6 runs" in capsys.readouterr().out
    assert ResultsStore(store).sweeps().empty and ResultsStore(store).list().empty
    assert main(["sweeps", "show", sid, "--store", str(store)]) == 2
    assert f"no sweep {sid!r}" in capsys.readouterr().err


def test_on_a_running_scheduler_the_results_equal_the_serial_ones(write_sweep, dask_cluster, capsys):
    path = write_sweep()
    assert main(["sweep", str(path), "--serial", "--json", "--no-save", "--no-store"]) == 0
    serial, _ = _json(capsys)
    rc = main(
        [
            "sweep",
            str(path),
            "--scheduler",
            dask_cluster.scheduler.address,
            "--json",
            "--no-save",
            "--no-store",
        ]
    )
    par, err = _json(capsys)
    assert rc == 0, err
    assert par["engine"] == f"Dask cluster {dask_cluster.scheduler.address}"
    assert [p["regions"] for p in par["points"]] == [p["regions"] for p in serial["points"]]


def test_unreachable_scheduler_says_which_and_how_to_start_one(write_sweep, capsys):
    with socket.socket() as s:  # a port with nothing listening on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = main(
        [
            "sweep",
            str(write_sweep()),
            "--scheduler",
            f"127.0.0.1:{port}",
            "--connect-timeout",
            "1",
            "--no-save",
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in err
    assert "`dask scheduler`" in err and "without --scheduler" in err


def test_malformed_scheduler_address(write_sweep, capsys):
    rc = main(["sweep", str(write_sweep()), "--scheduler", "my cluster", "--no-save"])
    assert rc == 2 and "--scheduler 'my cluster' is not a Dask scheduler address" in capsys.readouterr().err


def test_unknown_field_exit_2_with_suggestion(write_sweep, capsys):
    path = write_sweep('[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].vale"\nvalues = [1, 2]\n')
    rc = main(["sweep", str(path), "--serial", "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "the base scenario does not set 'shocks[0].vale'. Did you mean 'shocks[0].value'" in err
    assert ResultsStore().sweeps().empty


def test_failed_points_are_listed_and_the_exit_code_says_so(write_sweep, tmp_path, capsys):
    path = write_sweep('[sweep]\n[[sweep.dimension]]\nfield = "solver.max_iter"\nvalues = [5000, 2]\n')
    rc = main(["sweep", str(path), "--serial", "--json", "--out", str(tmp_path / "o")])
    doc, err = _json(capsys)
    assert rc == 2
    assert "point 1 (solver.max_iter = 2) failed:" in err and "did not converge" in err
    assert (doc["n_solved"], doc["n_failed"]) == (1, 1) and doc["points"][1]["status"] == "failed"
    assert doc["points"][1]["run_id"] is None and doc["points"][0]["run_id"]
    assert list(pd.read_csv(tmp_path / "o" / "points.csv")["status"]) == ["ok", "failed"]
    rec = ResultsStore().get_sweep(doc["sweep_id"])
    assert (rec["n_solved"], rec["n_failed"], rec["status"]) == (1, 1, "done")


def test_memory_limit_refuses_before_storing(write_sweep, capsys):
    rc = main(["sweep", str(write_sweep()), "--serial", "--memory-limit", "1KB", "--no-save"])
    err = capsys.readouterr().err
    assert (
        rc == 2
        and "the sweep's results need about" in err
        and "more than the memory limit given (1,000 bytes)" in err
    )
    assert ResultsStore().list().empty
    assert main(["sweep", str(write_sweep()), "--memory-limit", "lots", "--serial"]) == 2
    assert "'lots' is not a memory size" in capsys.readouterr().err


def test_too_many_points_exit_2(write_sweep, capsys):
    big = '[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = {start = 0, stop = 1, num = 200000}\n'
    rc = main(["sweep", str(write_sweep(big)), "--serial", "--no-save"])
    assert rc == 2 and "the sweep has 200,000 points" in capsys.readouterr().err


def test_dry_run_validates_and_lists_without_solving(write_sweep, capsys):
    rc = main(["sweep", str(write_sweep()), "--dry-run", "--json"])
    doc, _ = _json(capsys)
    assert rc == 0 and doc["n_points"] == 6
    assert doc["points"][5] == {
        "point": 5,
        "name": "demo-war-p5",
        "shocks[0].value": 30,
        "shocks[1].value": 30,
        "shocks[1].importer": "all",
    }
    assert ResultsStore().sweeps().empty
    bad = DEMO_BASE.format(
        sweep='[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = [1, 9000]\n'
    )
    assert main(["sweep", str(write_sweep(text=bad)), "--dry-run"]) == 2
    assert "1 of 2 sweep points is invalid" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--serial", "--scheduler", "tcp://127.0.0.1:8786"], "--serial runs the points in this process"),
        (
            ["--scheduler", "tcp://127.0.0.1:8786", "--workers", "2"],
            "--workers and --dashboard apply to the local cluster",
        ),
        (["--serial", "--worker-env", "NOEQUALS"], "--worker-env 'NOEQUALS' is not KEY=VALUE"),
    ],
)
def test_conflicting_options(write_sweep, capsys, args, message):
    assert main(["sweep", str(write_sweep()), *args]) == 2
    assert message in capsys.readouterr().err


def test_save_points_writes_each_points_full_results(write_sweep, tmp_path, capsys):
    out = tmp_path / "o"
    assert (
        main(["sweep", str(write_sweep()), "--serial", "--no-store", "--save-points", "--out", str(out)]) == 0
    )
    folders = sorted(p.name for p in (out / "points").iterdir())
    assert folders == [f"demo-war-p{i}" for i in range(6)]
    assert {"regions.csv", "sectors.csv", "bilateral.csv", "result.json"} <= {
        p.name for p in (out / "points" / "demo-war-p2").iterdir()
    }
    doc = json.loads((out / "points" / "demo-war-p2" / "result.json").read_text())
    assert doc["provenance"]["sweep"]["values"] == {"tariff": 10, "coalition": ["XBB"]}


def test_failure_lines_keep_list_values(write_sweep, capsys):
    """Point values such as ["XBB"] are printed as they are (not taken for markup)."""
    sweep = '[sweep]\nmode = "list"\n[[sweep.dimension]]\nfield = "solver.max_iter"\nvalues = [2]\n[[sweep.dimension]]\nfield = "shocks[1].importer"\nvalues = [["XBB"]]\n'
    assert main(["sweep", str(write_sweep(sweep)), "--serial", "--no-save", "--no-store"]) == 2
    assert 'point 0 (solver.max_iter = 2, shocks[1].importer = ["XBB"]) failed:' in capsys.readouterr().err


def test_a_scheduler_without_workers_is_a_sentence(write_sweep, capsys):
    from distributed import LocalCluster

    no_http = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}
    with LocalCluster(
        n_workers=0, host="127.0.0.1", dashboard_address=None, scheduler_kwargs=no_http
    ) as cluster:
        addr = cluster.scheduler_address
        rc = main(["sweep", str(write_sweep()), "--scheduler", addr, "--connect-timeout", "1", "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2 and f"the Dask scheduler at {addr} has no workers" in err and f"dask worker {addr}" in err


def test_a_short_sweep_on_a_local_cluster_suggests_serial(write_sweep, capsys):
    """Six demo points take well under a second of solving: the local cluster's start and the
    workers' imports cost more, and the command says so."""
    rc = main(["sweep", str(write_sweep()), "--workers", "2", "--no-save", "--no-store"])
    out = capsys.readouterr().out
    assert rc == 0 and "solved 6 of 6 points" in out and "local Dask cluster (2 workers)" in out
    assert "hint: the points took" in out and "with --serial" in out
