"""A results store that cannot record runs is reported before anything is solved, with advice
that loses nothing; a store fault after the solve still shows and saves the results.

Read-only files and folders are real files; as root (who may write anything) the checks run
with the effective user switched to ``nobody`` for their duration.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pandas as pd
import pytest

from kaifang.cli import main
from kaifang.results import RunResult
from kaifang.scenario import parse_scenario
from kaifang.store import ResultsStore, StoreError

TEXT = 'name = "s"\nmodel = "caliendo_parro"\ndataset = "demo"\n'


def _result(name: str = "s") -> RunResult:
    regions = pd.DataFrame({"region": ["AAA", "BBB"], "welfare_pct": [0.5, -0.25]})
    return RunResult(model="caliendo_parro", scenario=name, regions=regions, diagnostics={"converged": True})


@pytest.fixture
def solves(monkeypatch):
    """The solve returns a small fixed result; the list records each call."""
    import kaifang.models

    calls: list[str] = []

    def fake(run, progress=None):
        sc = run.scenario
        calls.append(sc.name)
        return _result(sc.name)

    monkeypatch.setattr(kaifang.models, "solve_prepared", fake)
    return calls


@pytest.fixture
def shared():
    """A folder every user can enter (pytest's tmp_path is private to its owner)."""
    d = Path(tempfile.mkdtemp(prefix="kaifang-faults-"))
    d.chmod(0o755)
    yield d
    for p in [d, *d.rglob("*")]:
        with contextlib.suppress(OSError):
            p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def unprivileged():
    """Permissions apply: as root, act as user ``nobody`` for the block."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(65534)
    os.seteuid(65534)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def _warm_up(f: Path, store: Path, solves: list[str], capsys) -> None:
    """Run the commands once as ourselves, so that every module they import is loaded (the
    unprivileged user cannot read this Python installation's files)."""
    main(["run", str(f), "--no-save", "--no-store"])
    main(["runs", "list", "--json", "--store", str(store)])
    main(["runs", "list", "--store", str(store)])
    solves.clear()
    capsys.readouterr()


def _scenario(folder: Path) -> Path:
    f = folder / "s.toml"
    f.write_text(TEXT)
    f.chmod(0o644)
    return f


def _store_with_a_run(path: Path) -> str:
    return ResultsStore(path).add(_result(), parse_scenario(TEXT))


def _err(capsys) -> str:
    return " ".join(capsys.readouterr().err.split())


def test_truncated_store_is_found_before_solving(tmp_path, solves, capsys):
    store = tmp_path / "st.duckdb"
    _store_with_a_run(store)
    ResultsStore(store).add(_result("big"), parse_scenario(TEXT))
    data = store.read_bytes()
    store.write_bytes(data[: len(data) // 2])
    before = store.read_bytes()
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--store", str(store)]) == 2
    err = _err(capsys)
    assert solves == []
    assert "is damaged (truncated" in err and "move it aside" in err and "--no-store" in err
    assert "its runs are lost" not in err and "Traceback" not in err
    assert store.read_bytes() == before  # kaifang did not touch it


def test_garbage_file_is_found_before_solving(tmp_path, solves, capsys):
    store = tmp_path / "st.duckdb"
    store.write_bytes(b"not a database " * 1000)
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--store", str(store)]) == 2
    err = _err(capsys)
    assert solves == [] and "not a DuckDB file" in err and "move it aside" in err
    assert store.read_bytes() == b"not a database " * 1000


def test_read_only_store_is_reported_as_read_only_and_still_readable(shared, solves, capsys):
    store = shared / "ro.duckdb"
    rid = _store_with_a_run(store)
    store.chmod(0o444)
    f = _scenario(shared)
    _warm_up(f, store, solves, capsys)
    with unprivileged():
        rc = main(["run", str(f), "--no-save", "--store", str(store)])
        err = _err(capsys)
        rc_list = main(["runs", "list", "--json", "--store", str(store)])
        listed = capsys.readouterr()
    assert rc_list == 0, listed.err
    listed = listed.out
    assert rc == 2 and solves == []
    assert "is read-only" in err and "--store PATH" in err and "--no-store" in err
    assert "not a valid" not in err and "lost" not in err and "delete" not in err.lower()
    assert rc_list == 0 and rid in listed  # a read-only store can still be read


def test_store_in_a_folder_that_cannot_be_written(shared, solves, capsys):
    folder = shared / "locked"
    folder.mkdir()
    rid = _store_with_a_run(folder / "kaifang.duckdb")
    (folder / "kaifang.duckdb").chmod(0o666)  # the file could be written, its folder cannot
    folder.chmod(0o555)
    f = _scenario(shared)
    _warm_up(f, folder / "kaifang.duckdb", solves, capsys)
    with unprivileged():
        rc_new = main(["run", str(f), "--no-save", "--store", str(folder / "new.duckdb")])
        err_new = _err(capsys)
        rc_old = main(["run", str(f), "--no-save", "--store", str(folder / "kaifang.duckdb")])
        err_old = _err(capsys)
        rc_list = main(["runs", "list", "--json", "--store", str(folder / "kaifang.duckdb")])
        listed = capsys.readouterr().out
    assert solves == []
    assert rc_new == 2 and "cannot be written" in err_new and "--no-store" in err_new
    assert rc_old == 2 and "cannot be written" in err_old
    assert "PermissionError" not in err_new + err_old and "internal error" not in err_new + err_old
    assert rc_list == 0 and rid in listed  # read without the lock file


def test_store_whose_folder_is_a_file(tmp_path, solves, capsys):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("mine")
    rc = main(["run", str(_scenario(tmp_path)), "--no-save", "--store", str(blocker / "sub" / "st.duckdb")])
    err = _err(capsys)
    assert rc == 2 and solves == []
    assert f"{blocker} is a file, not a folder" in err and "--no-store" in err
    assert blocker.read_text() == "mine"


def test_disk_full_after_the_solve_keeps_the_results(tmp_path, solves, capsys, monkeypatch):
    store = tmp_path / "st.duckdb"
    before = _store_with_a_run(store)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ResultsStore, "_write_run", staticmethod(full))
    out_dir = tmp_path / "res"
    rc = main(["run", str(_scenario(tmp_path)), "--store", str(store), "--out", str(out_dir)])
    cap = capsys.readouterr()
    err = " ".join(cap.err.split())
    assert rc == 2 and solves == ["s"]
    assert "no space left on device" in err and "Free some disk space" in err
    assert "results above were saved" in err and "--no-store" in err
    assert "AAA" in cap.out and "0.500" in cap.out  # the results were printed
    assert (out_dir / "result.json").is_file() and (out_dir / "regions.parquet").is_file()
    monkeypatch.undo()
    assert ResultsStore(store).run_ids() == [before]  # the store is unchanged


class _FailingConnection:
    """A DuckDB connection whose inserts fail with a full disk, and whose ROLLBACK then fails
    too (as DuckDB's does when the failed write aborted the transaction)."""

    def __init__(self, con):
        self._con = con

    def execute(self, sql, *args):
        import duckdb

        if sql.startswith("INSERT INTO run_tables"):
            raise duckdb.IOException(
                'IO Error: Could not write file "st.duckdb.wal": No space left on device'
            )
        if sql == "ROLLBACK":
            raise duckdb.TransactionException(
                "TransactionContext Error: Failed to rollback: transaction aborted"
            )
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def test_disk_full_is_not_hidden_by_a_failed_rollback(tmp_path, monkeypatch):
    store = ResultsStore(tmp_path / "st.duckdb")
    store.check()
    real = ResultsStore._open_with_retry
    monkeypatch.setattr(
        ResultsStore,
        "_open_with_retry",
        lambda self, duckdb, **kw: _FailingConnection(real(self, duckdb, **kw)),
    )
    with pytest.raises(StoreError, match=r"no space left on device while writing; nothing was recorded"):
        store.add(_result(), parse_scenario(TEXT))


def test_run_without_its_tables(tmp_path, capsys):
    import duckdb

    store = tmp_path / "st.duckdb"
    rid = _store_with_a_run(store)
    keep = _store_with_a_run(store)
    con = duckdb.connect(str(store))
    con.execute("DELETE FROM run_tables WHERE run_id = ?", [rid])
    con.close()
    assert main(["runs", "show", rid, "--store", str(store)]) == 2
    err = _err(capsys)
    assert f"run {rid}" in err and "is incomplete: its tables are missing" in err
    assert f"kaifang runs delete {rid}" in err and "KeyError" not in err
    assert main(["runs", "show", keep, "--store", str(store)]) == 0  # the others are fine
    assert main(["runs", "delete", rid, "--store", str(store)]) == 0
    assert ResultsStore(store).run_ids() == [keep]


def test_export_to_a_full_disk(tmp_path, capsys, monkeypatch):
    store = tmp_path / "st.duckdb"
    rid = _store_with_a_run(store)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("kaifang.store._xlsx.write_xlsx", full)
    rc = main(["runs", "export", rid, "-f", "xlsx", "-o", str(tmp_path / "x.xlsx"), "--store", str(store)])
    assert rc == 2
    assert "no space left on device" in _err(capsys)
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path / "x.xlsx.part").exists()


def test_read_only_file_mode_is_what_makes_it_read_only(shared):
    """Sanity check of the test set-up: the unprivileged user really cannot write the file."""
    p = shared / "f"
    p.write_text("x")
    p.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    with unprivileged():
        assert not os.access(p, os.W_OK, effective_ids=os.access in os.supports_effective_ids)
        with pytest.raises(PermissionError):
            p.write_text("y")
