"""The results store: round trip, listing, export, deletion, errors, concurrent writers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kaifang.results import RunResult
from kaifang.scenario import parse_scenario
from kaifang.store import SCHEMA_VERSION, ResultsStore, StoreError, default_store_path

SRC = Path(__file__).resolve().parents[2] / "src"

TEXT = 'name = "t"\nmodel = "caliendo_parro"\ndataset = "demo"\n[parameters]\nsigma = 4\n'


def make_result(seed: int = 0, name: str = "t") -> RunResult:
    rng = np.random.default_rng(seed)
    regions = pd.DataFrame(
        {
            "region": ["CHN", "USA", "ROW"],
            "welfare_pct": rng.normal(size=3),
            "real_wage_pct": rng.normal(size=3),
            "n_partners": np.array([2, 2, 2], dtype="int64"),
            "member": [True, False, False],
        }
    )
    sectors = pd.DataFrame(
        {
            "region": ["CHN", "CHN", "USA", "USA"],
            "sector": pd.Categorical(["goods", "services", "goods", "services"]),
            "output_pct": rng.normal(size=4),
            "note": ["a", None, "c", "d"],
        }
    )
    return RunResult(
        model="caliendo_parro",
        scenario=name,
        regions=regions,
        tables={"sectors": sectors, "bilateral": sectors.iloc[:0]},
        diagnostics={
            "converged": True,
            "iterations": np.int64(12),
            "residual": np.float64(1e-11),
            "solve_seconds": 0.25,
        },
        provenance={"dataset": "demo", "files": {}, "parameters": {"sigma": 4}},
        synthetic=True,
    )


@pytest.fixture
def store(tmp_path) -> ResultsStore:
    return ResultsStore(tmp_path / "sub" / "runs.duckdb")


def test_round_trip_identical_tables(store):
    res = make_result()
    sc = parse_scenario(TEXT, source="t.toml")
    rid = store.add(res, sc)
    back = store.get(rid)
    pd.testing.assert_frame_equal(back.regions, res.regions)
    assert list(back.tables) == ["sectors", "bilateral"]
    for name in res.tables:
        pd.testing.assert_frame_equal(back.tables[name], res.tables[name])
    assert back.model == res.model and back.scenario == res.scenario and back.synthetic is True
    assert back.diagnostics == {"converged": True, "iterations": 12, "residual": 1e-11, "solve_seconds": 0.25}
    prov = back.provenance
    assert prov["scenario_text"] == TEXT
    assert prov["scenario_sha256"] == sc.sha256
    assert prov["solver"] == {} and prov["parameters"] == {"sigma": 4}
    assert "kaifang_version" in prov
    assert store.scenario_text(rid) == TEXT
    assert store.scenario(rid).parameters == {"sigma": 4}


def test_list_columns_order_and_ids(store):
    sc = parse_scenario(TEXT, source="t.toml")
    ids = [store.add(make_result(k, name=f"s{k}"), sc) for k in range(3)]
    assert len(set(ids)) == 3
    assert ids == sorted(ids)  # sortable by creation time
    assert all(len(i) == 18 for i in ids)
    df = store.list()
    assert list(df.columns) == [
        "run_id",
        "created_at",
        "scenario",
        "model",
        "dataset",
        "scenario_sha256",
        "synthetic",
        "solve_seconds",
    ]
    assert list(df["run_id"]) == ids
    assert list(df["scenario"]) == ["s0", "s1", "s2"]
    assert df["solve_seconds"].tolist() == [0.25] * 3


def test_list_of_missing_store_is_empty(tmp_path):
    df = ResultsStore(tmp_path / "none.duckdb").list()
    assert df.empty and "run_id" in df.columns


def test_prefix_and_unknown_id(store):
    rid = store.add(make_result(), parse_scenario(TEXT))
    assert store.resolve_id(rid[:15]) == rid
    typo = rid[:-1] + ("x" if rid[-1] != "x" else "y")
    with pytest.raises(StoreError, match=rf"no run '{typo}'.*Did you mean '{rid}'"):
        store.get(typo)


def test_delete(store):
    sc = parse_scenario(TEXT)
    a = store.add(make_result(1), sc)
    b = store.add(make_result(2), sc)
    store.delete(a)
    assert store.run_ids() == [b]
    with pytest.raises(StoreError, match="no run"):
        store.get(a)


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_export(store, tmp_path, fmt):
    res = make_result()
    rid = store.add(res, parse_scenario(TEXT))
    out = store.export(rid, tmp_path / f"exp.{fmt}" if fmt == "xlsx" else tmp_path / "exp", fmt)
    if fmt == "csv":
        back = pd.read_csv(out / "regions.csv")
        assert json.loads((out / "run.json").read_text())["run_id"] == rid
        assert (out / "sectors.csv").is_file()
    elif fmt == "parquet":
        back = pd.read_parquet(out / "regions.parquet")
        assert (out / "sectors.parquet").is_file()
    else:
        sheets = pd.read_excel(out, sheet_name=None)
        assert set(sheets) == {"regions", "sectors", "bilateral", "run"}
        back = sheets["regions"]
    np.testing.assert_allclose(back["welfare_pct"], res.regions["welfare_pct"], rtol=1e-12)
    assert list(back["region"]) == ["CHN", "USA", "ROW"]


def test_export_bad_format(store):
    rid = store.add(make_result(), parse_scenario(TEXT))
    with pytest.raises(StoreError, match="unknown export format 'pdf'; valid formats: csv, parquet, xlsx"):
        store.export(rid, "x", "pdf")  # type: ignore[arg-type]


def test_corrupt_file_is_a_clear_error(tmp_path):
    p = tmp_path / "bad.duckdb"
    p.write_bytes(b"this is not a database" * 100)
    with pytest.raises(
        StoreError,
        match=r"bad\.duckdb cannot be opened: it is not a DuckDB file kaifang can read.*move it aside",
    ):
        ResultsStore(p).list()
    with pytest.raises(StoreError, match=r"bad\.duckdb"):
        ResultsStore(p).add(make_result(), parse_scenario(TEXT))


def test_newer_schema_version_is_refused(store):
    import duckdb

    store.add(make_result(), parse_scenario(TEXT))
    con = duckdb.connect(str(store.path))
    con.execute("UPDATE schema_version SET version = ?", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(
        StoreError, match=r"written by a newer kaifang \(store schema version 2.*Upgrade kaifang"
    ):
        store.list()


def test_foreign_duckdb_file_is_refused(tmp_path):
    import duckdb

    p = tmp_path / "other.duckdb"
    con = duckdb.connect(str(p))
    con.execute("CREATE TABLE sales (x INTEGER)")
    con.close()
    with pytest.raises(StoreError, match="not a kaifang results store"):
        ResultsStore(p).add(make_result(), parse_scenario(TEXT))


def test_default_path_from_env(monkeypatch, tmp_path):
    monkeypatch.delenv("KAIFANG_STORE", raising=False)
    assert default_store_path() == Path("kaifang-results") / "kaifang.duckdb"
    monkeypatch.setenv("KAIFANG_STORE", str(tmp_path / "x.duckdb"))
    assert ResultsStore().path == tmp_path / "x.duckdb"


def test_two_processes_write_at_once(tmp_path):
    """Two processes adding runs at the same time: every run lands, none is lost."""
    path = tmp_path / "shared.duckdb"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(SRC)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_store import make_result, TEXT
        from kaifang.scenario import parse_scenario
        from kaifang.store import ResultsStore
        s = ResultsStore({str(path)!r})
        sc = parse_scenario(TEXT)
        tag = sys.argv[1]
        for k in range(8):
            s.add(make_result(k, name=tag + str(k)), sc)
        """
    )
    f = tmp_path / "writer.py"
    f.write_text(script)
    procs = [subprocess.Popen([sys.executable, str(f), tag]) for tag in ("a", "b")]
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0]
    df = ResultsStore(path).list()
    assert len(df) == 16
    assert sorted(df["scenario"]) == sorted([f"{t}{k}" for t in "ab" for k in range(8)])
    assert df["run_id"].is_unique


def test_threads_of_one_process_share_a_store(tmp_path):
    """A web server's threads writing and reading one store at once."""
    from concurrent.futures import ThreadPoolExecutor

    store = ResultsStore(tmp_path / "t.duckdb")
    sc = parse_scenario(TEXT)

    def work(k: int) -> str:
        rid = store.add(make_result(k, name=f"n{k}"), sc)
        store.list()
        pd.testing.assert_frame_equal(store.get(rid).regions, make_result(k).regions)
        return rid

    with ThreadPoolExecutor(4) as ex:
        ids = list(ex.map(work, range(12)))
    assert len(set(ids)) == 12 and sorted(store.run_ids()) == sorted(ids)
