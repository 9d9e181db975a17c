"""The sweep records of the results store: additive tables, ids, runs deleted under a sweep."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "store"))
sys.path.insert(0, str(Path(__file__).parent))
from sweep_helpers import DEMO_BASE, GRID
from test_store import make_result

from kaifang.scenario.sweep import parse_sweep
from kaifang.store import ResultsStore, StoreError


@pytest.fixture
def sweep():
    return parse_sweep(DEMO_BASE.format(sweep=GRID), source="grid.toml")


def _tables(path: Path) -> set[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    finally:
        con.close()


def test_a_store_without_sweeps_is_unchanged(tmp_path, sweep):
    st = ResultsStore(tmp_path / "a.duckdb")
    st.add(make_result(name="x"), sweep.base)
    assert _tables(st.path) == {"schema_version", "runs", "run_tables"}  # nothing added until a sweep
    assert st.sweeps().empty and list(st.sweeps().columns)[:3] == ["sweep_id", "created_at", "name"]
    assert ResultsStore(tmp_path / "missing.duckdb").sweeps().empty


def test_record_points_finish_and_read_back(tmp_path, sweep):
    st = ResultsStore(tmp_path / "b.duckdb")
    sid = st.add_sweep(sweep, engine="serial")
    assert st.sweeps()["status"].tolist() == ["running"]
    rid = st.add(make_result(name="demo-war-p0"), sweep.points[0].scenario)
    st.add_sweep_point(
        sid, point=0, name="demo-war-p0", values=sweep.points[0].values, status="ok", run_id=rid, seconds=0.5
    )
    st.add_sweep_point(
        sid,
        point=1,
        name="demo-war-p1",
        values=sweep.points[1].values,
        status="failed",
        error="did not converge",
    )
    st.finish_sweep(sid, status="done", seconds=2.0)
    rec = st.get_sweep(sid)
    assert (rec["status"], rec["n_points"], rec["n_solved"], rec["n_failed"]) == ("done", 6, 1, 1)
    assert rec["dimensions"][1] == {
        "label": "coalition",
        "fields": ["shocks[1].importer"],
        "op": "set",
        "values": [["XBB"], "all"],
    }
    pts = rec["points"]
    assert pts["values"].tolist() == [{"tariff": 0, "coalition": ["XBB"]}, {"tariff": 0, "coalition": "all"}]
    assert pts["run_id"].iloc[0] == rid and pts["error"].iloc[1] == "did not converge"
    assert st.sweep_run_ids(sid) == [rid]
    # a run deleted on its own leaves the sweep readable, marked
    st.delete(rid)
    assert not st.get_sweep(sid)["points"]["run_present"].iloc[0]


def test_sweep_ids_resolve_by_prefix_and_unknown_ones_are_a_sentence(tmp_path, sweep):
    st = ResultsStore(tmp_path / "c.duckdb")
    sid = st.add_sweep(sweep)
    assert st.resolve_sweep_id(sid[:8]) == sid
    with pytest.raises(
        StoreError,
        match=r"no sweep 'zzz' in results store .*c.duckdb.*`kaifang sweeps list` shows the 1 stored sweeps",
    ):
        st.get_sweep("zzz")


def test_delete_sweep_keeps_or_removes_its_runs(tmp_path, sweep):
    st = ResultsStore(tmp_path / "d.duckdb")
    for keep in (True, False):
        sid = st.add_sweep(sweep)
        rid = st.add(make_result(name="p0"), sweep.points[0].scenario)
        st.add_sweep_point(sid, point=0, name="p0", values={}, status="ok", run_id=rid)
        st.delete_sweep(sid, runs=not keep)
        assert (rid in st.run_ids()) is keep
    assert st.sweeps().empty
