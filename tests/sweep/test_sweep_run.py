"""Running sweeps (kaifang.sweep): the points' results equal independent runs of hand-written
scenario files, Dask equals the serial loop, failures are counted, bad sweeps are refused
before any point is solved, and the sweep is recorded in the results store."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import dask
import pandas as pd
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sweep_helpers import DEMO_BASE, GRID

from kaifang.errors import KaifangWarning
from kaifang.models import run_scenario
from kaifang.scenario import parse_scenario
from kaifang.scenario.sweep import SweepError, parse_sweep
from kaifang.store import ResultsStore
from kaifang.sweep import SweepSizeError, check_memory, parse_size, run_sweep


def _hand_written(tariff: float, coalition) -> str:
    """The point's scenario written out by hand (not by the sweep's substitution)."""
    text = DEMO_BASE.format(sweep="").replace("value = 25", f"value = {tariff}")
    imp = '"all"' if coalition == "all" else "[" + ", ".join(f'"{c}"' for c in coalition) + "]"
    head, _, tail = text.partition('importer = "XBB"')
    return head + f"importer = {imp}" + tail


@pytest.fixture(scope="module")
def grid():
    return parse_sweep(DEMO_BASE.format(sweep=GRID), source="grid.toml")


@pytest.fixture(scope="module")
def serial(grid):
    return run_sweep(grid, engine="serial")


def test_each_point_equals_an_independent_run_of_its_scenario(grid, serial):
    assert serial.n_failed == 0 and len(serial.outcomes) == 6
    for p in grid.points:
        tariff, coalition = p.values["tariff"], p.values["coalition"]
        with warnings.catch_warnings():  # a zero tariff change is reported as changing nothing
            warnings.simplefilter("ignore", KaifangWarning)
            expected = run_scenario(parse_scenario(_hand_written(tariff, coalition))).regions
        got = serial.summary[serial.summary["point"] == p.index].drop(
            columns=["point", "tariff", "coalition"]
        )
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)
    # one row per point and region; the point's values as columns
    assert len(serial.summary) == 6 * 5 and list(serial.summary.columns[:4]) == [
        "point",
        "tariff",
        "coalition",
        "region",
    ]
    assert set(serial.summary["coalition"]) == {'["XBB"]', "all"}


def test_a_dimension_mixing_whole_and_decimal_values_keeps_every_point_exact():
    """Points whose values differ in kind (TOML integer 0, decimal 12.5) stack into one
    summary: the value column holds both numbers, and each point's rows are its own run's."""
    text = GRID.replace("values = [0, 10, 30]", "values = [0, 12.5]").replace(
        'values = [["XBB"], "all"]', 'values = ["all"]'
    )
    res = run_sweep(parse_sweep(DEMO_BASE.format(sweep=text), source="mixed.toml"), engine="serial")
    assert res.n_failed == 0
    assert sorted(set(res.summary["tariff"])) == [0, 12.5]
    for tariff in (0, 12.5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KaifangWarning)
            expected = run_scenario(parse_scenario(_hand_written(tariff, "all"))).regions
        got = res.summary[res.summary["tariff"] == tariff].drop(columns=["point", "tariff", "coalition"])
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_exact=True)


def test_zero_tariffs_change_nothing(serial):
    """Closed-form special case: no tariff change, so every outcome is 0 % whoever 'retaliates'."""
    zero = serial.summary[serial.summary["tariff"] == 0]
    assert len(zero) == 2 * 5
    for col in ("welfare_pct", "real_wage_pct", "imports_pct", "price_index_pct"):
        assert zero[col].abs().max() < 1e-8, col


def test_dask_gives_exactly_the_serial_results(grid, serial, dask_cluster):
    par = run_sweep(grid, client=dask_cluster)
    assert par.engine.startswith("Dask cluster tcp://127.0.0.1:")
    pd.testing.assert_frame_equal(par.summary, serial.summary, check_exact=True)
    assert [o.status for o in par.outcomes] == ["ok"] * 6


def test_short_points_go_several_to_a_task_with_the_serial_results(dask_cluster):
    """40 demo points of a few milliseconds each: after the first, the points are sent in chunks
    (four tasks a worker at least), and the summary is still exactly the serial loop's."""
    sweep = parse_sweep(
        DEMO_BASE.format(
            sweep='[sweep]\n[[sweep.dimension]]\nfield = ["shocks[0].value", "shocks[1].value"]\n'
            'values = {start = 0, step = 1, stop = 39}\nlabel = "tariff"\n'
        ),
        source="many.toml",
    )
    said: list[str] = []
    par = run_sweep(sweep, client=dask_cluster, status=said.append)
    chunks = [m for m in said if "points to a task" in m]
    assert len(chunks) == 1 and int(chunks[0].split()[0]) > 1
    assert [o.index for o in par.outcomes] == list(range(40)) and par.n_failed == 0
    ser = run_sweep(sweep, engine="serial")
    pd.testing.assert_frame_equal(par.summary, ser.summary, check_exact=True)


def test_chunk_size_aims_at_half_second_tasks_and_four_tasks_a_worker(dask_cluster):
    from kaifang.sweep import _DaskEngine

    eng = _DaskEngine(dask_cluster, "test")
    assert eng.capacity() == 2
    assert eng.chunk_size(0.01, 10_000) == 50  # 0.5 s / 0.01 s
    assert eng.chunk_size(0.01, 40) == 5  # 40 points left, 8 tasks: 4 for each of 2 workers
    assert eng.chunk_size(2.0, 10_000) == 1  # a point longer than a task's aim goes alone
    assert eng.chunk_size(0.01, 3) == 1


def test_a_task_that_does_not_return_fails_each_of_its_points(dask_cluster, grid):
    from kaifang.sweep import _DaskEngine

    def does_not_return() -> None:  # defined here: sent by value (the workers cannot import tests)
        raise RuntimeError("the task failed outside solve_points")

    eng = _DaskEngine(dask_cluster, "test")
    fut = dask_cluster.submit(does_not_return, pure=False)
    eng._futures[fut] = list(grid.points[:3])
    eng._done.add(fut)
    outs = eng.next_done()
    assert [o.index for o in outs] == [p.index for p in grid.points[:3]]
    assert all(o.status == "error" and "died or was lost" in o.error for o in outs)
    assert eng.pending() == 0


def test_local_cluster_is_loopback_only_one_thread_and_sees_the_environment(dask_cluster):
    info = dask_cluster.run(
        lambda: (
            {
                k: os.environ.get(k)
                for k in (
                    "OMP_NUM_THREADS",
                    "OPENBLAS_NUM_THREADS",
                    "MKL_NUM_THREADS",
                    "NUMBA_NUM_THREADS",
                    "KAIFANG_DATA_MIRROR",
                    "MALLOC_TRIM_THRESHOLD_",
                )
            }
            | {"pid": os.getpid()}
        )
    )
    assert len(info) == 2 and set(dask_cluster.nthreads().values()) == {1}
    for env in info.values():
        assert env["OMP_NUM_THREADS"] == env["OPENBLAS_NUM_THREADS"] == env["NUMBA_NUM_THREADS"] == "1"
        assert env["KAIFANG_DATA_MIRROR"] == os.environ.get("KAIFANG_DATA_MIRROR")
        # glibc's adaptive allocation kept (Dask's trim threshold costs 50 % CPU on large arrays)
        assert env["MALLOC_TRIM_THRESHOLD_"] == os.environ.get("MALLOC_TRIM_THRESHOLD_")
    assert dask_cluster.scheduler.address.startswith("tcp://127.0.0.1:")
    pids = [os.getpid(), *(env["pid"] for env in info.values())]
    listening = [
        c.laddr
        for pid in pids
        for c in psutil.Process(pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening


def test_local_cluster_workers_run_quiet_timers(dask_cluster):
    """Dask's 20 ms tick and 100 ms memory check would wake a thread in every worker dozens of
    times a second and take the core and the GIL from the solves; the local cluster slows them."""
    keys = ("distributed.admin.tick.interval", "distributed.worker.memory.monitor-interval")

    def timers() -> dict:
        import dask

        return {k: dask.config.get(k) for k in keys}

    seen = dask_cluster.run(timers)
    assert len(seen) == 2
    for values in seen.values():
        for key, value in values.items():
            assert dask.utils.parse_timedelta(value) >= 1.0, (key, value)


def _failing() -> str:
    return DEMO_BASE.format(
        sweep='[sweep]\n[[sweep.dimension]]\nfield = "solver.max_iter"\nvalues = [5000, 2, 4000]\n'
    )


@pytest.mark.parametrize("where", ["serial", "dask"])
def test_a_point_that_does_not_converge_is_counted_and_the_others_run(where, request):
    sw = parse_sweep(_failing(), source="f.toml")
    kw = {"engine": "serial"} if where == "serial" else {"client": request.getfixturevalue("dask_cluster")}
    res = run_sweep(sw, **kw)
    assert [o.status for o in res.outcomes] == ["ok", "failed", "ok"] and res.n_failed == 1
    assert "did not converge" in res.failed[0].error and "max_iter = 2" in res.failed[0].error
    assert sorted(set(res.summary["point"])) == [0, 2]
    pts = res.points_table()
    assert list(pts["status"]) == ["ok", "failed", "ok"] and pts["error"].iloc[1].startswith("Caliendo-Parro")


def test_invalid_points_are_all_reported_before_any_point_is_solved():
    # a tariff change of more than 2,000 points is refused by the shock schema: points 1 and 2
    sw = parse_sweep(
        DEMO_BASE.format(
            sweep='[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = [10, 3000, 5000]\n'
        ),
        source="v.toml",
    )
    solved = []
    with pytest.raises(SweepError) as info:
        run_sweep(sw, engine="serial", on_point=solved.append)
    msg = str(info.value)
    assert msg.startswith("v.toml: 2 of 3 sweep points are invalid, so no point was solved")
    assert "points 1-2 (2 points): field 'shocks[0]': a tariff change of more than 2000 points" in msg
    assert "point 0" not in msg and solved == []


def test_points_sharing_one_mistake_are_grouped():
    base = DEMO_BASE.format(
        sweep='[sweep]\n[[sweep.dimension]]\nfield = "shocks[1].value"\nvalues = [1, 2, 3, 4]\n'
    )
    sw = parse_sweep(base.replace('op = "add"', 'op = "ad"', 1), source="g.toml")
    with pytest.raises(
        SweepError,
        match=r"g.toml: 4 of 4 sweep points are invalid.*\n  points 0-3 \(4 points\): .*shocks\[0\]",
    ):
        run_sweep(sw, engine="serial")


def test_memory_estimate_and_refusal(grid, tmp_path):
    # 6 points x 1,000 bytes kept + 2 in transit x 10,000 bytes = 26,000 bytes
    assert "about 25.4 KiB" in check_memory(
        grid, per_point_kept=1000, per_point_full=10_000, in_flight=2, limit=26_000
    )
    with pytest.raises(
        SweepSizeError,
        match=r"grid.toml: the sweep's results need about 25.4 KiB \(6 points x 1,000 bytes kept each.*more than the memory limit given",
    ):
        check_memory(grid, per_point_kept=1000, per_point_full=10_000, in_flight=2, limit=25_999)
    store = ResultsStore(tmp_path / "m.duckdb")
    seen = []
    with pytest.raises(SweepSizeError, match=r"No point was stored"):
        run_sweep(grid, engine="serial", memory_limit=1000, store=store, on_point=seen.append)
    assert seen == [] and store.list().empty and store.sweeps().empty


@pytest.mark.parametrize(
    ("text", "n"),
    [("2GB", 2 * 10**9), ("512MiB", 512 * 2**20), ("1.5k", 1500), ("100", 100), ("3 GiB", 3 * 2**30)],
)
def test_parse_size(text, n):
    assert parse_size(text) == n


def test_parse_size_refuses_nonsense():
    with pytest.raises(ValueError, match=r"'lots' is not a memory size; write it like 2GB"):
        parse_size("lots")


def test_the_sweep_is_recorded_in_the_store(grid, tmp_path):
    store = ResultsStore(tmp_path / "s.duckdb")
    res = run_sweep(grid, engine="serial", store=store)
    sweeps = store.sweeps()
    assert len(sweeps) == 1 and sweeps["sweep_id"].iloc[0] == res.sweep_id
    assert (
        sweeps["status"].iloc[0],
        sweeps["n_points"].iloc[0],
        sweeps["n_solved"].iloc[0],
        sweeps["n_failed"].iloc[0],
    ) == ("done", 6, 6, 0)
    rec = store.get_sweep(res.sweep_id[:10])  # a prefix is enough
    assert rec["text"] == grid.text and rec["sweep_sha256"] == hashlib.sha256(grid.text.encode()).hexdigest()
    pd.testing.assert_frame_equal(rec["summary"], res.summary, check_exact=True)
    assert list(rec["points"]["point"]) == list(range(6)) and rec["points"]["run_present"].all()
    assert [o.run_id for o in res.outcomes] == list(rec["points"]["run_id"])
    for o in res.outcomes:
        prov = store.get(o.run_id).provenance["sweep"]
        assert (
            prov["sha256"] == rec["sweep_sha256"] and prov["index"] == o.index and prov["text"] == grid.text
        )
        assert prov["values"] == {"tariff": o.values["tariff"], "coalition": o.values["coalition"]}
        assert {"sectors", "bilateral", "flows"} <= set(store.get(o.run_id).tables)  # every table stored
        sc = store.scenario(o.run_id)  # the point's own, complete scenario file
        assert (
            sc.shocks[0]["value"] == o.values["tariff"] and sc.shocks[1]["importer"] == o.values["coalition"]
        )
    assert len(store.list()) == 6


def test_an_interrupted_sweep_keeps_what_was_solved(grid, tmp_path):
    store = ResultsStore(tmp_path / "i.duckdb")
    calls = []

    def stop_after_two(outcome):
        calls.append(outcome.index)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(grid, engine="serial", store=store, on_point=stop_after_two)
    rec = store.get_sweep(store.sweeps()["sweep_id"].iloc[0])
    assert rec["status"] == "interrupted" and rec["summary"] is None
    assert list(rec["points"]["point"]) == calls and len(store.list()) == 2


def test_extra_tables_come_back_only_when_needed(grid):
    seen = []
    run_sweep(grid, engine="serial", on_point=seen.append)
    assert all(
        o.result is not None and dict(o.result.tables) == {} for o in seen
    )  # the summary needs regions only
    kept = run_sweep(grid, engine="serial", keep_results=True)
    assert all({"sectors", "bilateral"} <= set(o.result.tables) for o in kept.outcomes)
    assert all(o.nbytes > o.result.regions.memory_usage(deep=True).sum() for o in kept.outcomes)


def test_a_misspelt_region_in_a_swept_field_is_caught_before_solving():
    """The models' own validation (regions of the data set) runs on every point up front."""
    sw = parse_sweep(
        DEMO_BASE.format(
            sweep='[sweep]\n[[sweep.dimension]]\nfield = "shocks[1].importer"\nvalues = ["XBB", "XZZ"]\n'
        ),
        source="r.toml",
    )
    solved = []
    with pytest.raises(
        SweepError,
        match=r"r.toml: 1 of 2 sweep points is invalid.*\n  point 1 \(shocks\[1\].importer = \"XZZ\"\): .*unknown region 'XZZ'",
    ):
        run_sweep(sw, engine="serial", on_point=solved.append)
    assert solved == []


def test_points_pin_the_estimator_to_one_thread(monkeypatch):
    """Inside a point the PPML engine uses one thread whatever the problem size (so a point
    gives the same numbers wherever it is solved); the setting is restored afterwards."""
    from kaifang.estimate.hdfe._threads import resolve_threads
    from kaifang.sweep import single_threaded

    monkeypatch.setenv("KAIFANG_HDFE_THREADS", "2")
    with single_threaded(estimation=True):
        assert resolve_threads(None, 50_000_000) == 1
    assert resolve_threads(None, 50_000_000) == 2


def test_single_threaded_covers_blas_loaded_inside_it():
    """SciPy's BLAS (a library of its own, loaded on first use by the ims2025 solver) runs on
    one thread inside :func:`single_threaded` even when it is first loaded there."""
    code = textwrap.dedent(
        """
        import sys
        assert "scipy" not in sys.modules
        from threadpoolctl import threadpool_info
        from kaifang.sweep import single_threaded
        with single_threaded(estimation=False):
            import scipy.linalg  # first loaded here
            pools = [(p["filepath"], p["num_threads"]) for p in threadpool_info() if p["user_api"] == "blas"]
        assert any("scipy" in f for f, _ in pools), pools
        assert all(n == 1 for _, n in pools), pools
        """
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "", "OMP_NUM_THREADS": ""}
    env = {k: v for k, v in env.items() if v}  # the libraries' defaults: one thread per core
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
