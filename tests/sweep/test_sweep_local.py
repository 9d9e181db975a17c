"""A sweep on a local cluster: validated in this process while the cluster starts, its workers
forked from a fork server and handed the worlds this process built (kaifang._warm), with the
serial loop's results."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pandas as pd
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from sweep_helpers import DEMO_BASE, GRID

from kaifang import _warm
from kaifang.scenario.sweep import SweepError, parse_sweep
from kaifang.sweep import run_sweep


@pytest.fixture(scope="module")
def grid():
    return parse_sweep(DEMO_BASE.format(sweep=GRID), source="grid.toml")


def _forked_workers(wait: float = 10.0) -> list[psutil.Process]:
    """The fork server's children still running (not exited, nor exited and waiting for the
    server to reap them), waiting up to ``wait`` seconds for them to go."""
    import time
    from multiprocessing import forkserver

    pid = forkserver._forkserver._forkserver_pid
    deadline = time.monotonic() + wait
    while True:
        alive = []
        for child in [] if pid is None else psutil.Process(pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE:
                    alive.append(child)
            except psutil.NoSuchProcess:
                pass
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


def test_a_local_cluster_sweep_is_validated_here_while_the_cluster_starts(grid, monkeypatch):
    import kaifang.sweep as sweep_mod

    checked_here: list[int] = []
    real = sweep_mod.check_points
    monkeypatch.setattr(
        sweep_mod, "check_points", lambda pts: checked_here.extend(range(len(pts))) or real(pts)
    )
    said: list[str] = []
    par = run_sweep(grid, n_workers=2, status=said.append)
    assert par.engine == "local Dask cluster (2 workers)" and par.n_failed == 0
    assert len(checked_here) == len(grid)  # every point validated in this process
    order = [
        next(i for i, m in enumerate(said) if m.startswith(w)) for w in ("starting", "validating", "solving")
    ]
    assert order == sorted(order)
    ser = run_sweep(grid, engine="serial")
    pd.testing.assert_frame_equal(par.summary, ser.summary, check_exact=True)
    if _warm.start_method() == "forkserver":
        assert _forked_workers() == []  # the cluster's workers are gone with it


def test_invalid_points_on_a_local_cluster_are_refused_and_the_cluster_closed():
    sw = parse_sweep(
        DEMO_BASE.format(
            sweep='[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = [10, 3000, 5000]\n'
        ),
        source="v.toml",
    )
    solved: list = []
    with pytest.raises(SweepError, match=r"v.toml: 2 of 3 sweep points are invalid, so no point was solved"):
        run_sweep(sw, n_workers=2, on_point=solved.append)
    assert solved == []
    if _warm.start_method() == "forkserver":
        assert _forked_workers() == []


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(), reason="this platform has no fork server"
)
def test_local_workers_are_forked_from_one_server_with_one_blas_thread(dask_cluster):
    def where() -> dict:
        from threadpoolctl import threadpool_info

        return {
            "parent": os.getppid(),
            "blas_threads": sorted(
                {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}
            ),
            "kaifang_loaded": "kaifang.sweep" in sys.modules,
        }

    seen = dask_cluster.run(where)
    parents = {s["parent"] for s in seen.values()}
    assert len(seen) == 2 and len(parents) == 1 and parents != {os.getpid()}  # one fork server
    for s in seen.values():
        assert s["blas_threads"] == [1] and s["kaifang_loaded"]


def test_workers_take_over_the_worlds_built_here(dask_cluster, grid):
    """The demo world is built here (validation); handed to the workers with the first task,
    the workers build it no more. Without it, each worker that solves a point builds it once
    (the control: the build counter counts)."""
    from kaifang.sweep import _DaskEngine, _run, validate_sweep

    def install_counter() -> int:  # defined here: sent by value (the workers cannot import tests)
        import kaifang.baseline.worlds as w

        w._WORLDS.clear()
        if not hasattr(w, "_test_real_raw_world"):
            w._test_real_raw_world = w._raw_world
        w._test_builds = 0

        def counting(*args, **kwargs):
            w._test_builds += 1
            return w._test_real_raw_world(*args, **kwargs)

        w._raw_world = counting
        return 0

    def builds() -> int:
        import kaifang.baseline.worlds as w

        return w._test_builds

    def restore() -> None:
        import kaifang.baseline.worlds as w

        w._raw_world = w._test_real_raw_world

    opts = {
        "validate": False,
        "keep_results": False,
        "memory_limit": None,
        "store": None,
        "full_results": None,
    }
    validate_sweep(grid)  # builds the demo world in this process
    snap = _warm.snapshot()
    assert any(key[0] == "demo" for key, _ in snap["worlds"][1])
    try:
        dask_cluster.run(install_counter)
        warm = _run(grid, _DaskEngine(dask_cluster, "test", warm=snap), 0.0, opts, None, lambda m: None)
        assert set(dask_cluster.run(builds).values()) == {0}
        dask_cluster.run(install_counter)
        cold = _run(grid, _DaskEngine(dask_cluster, "test"), 0.0, opts, None, lambda m: None)
        assert sum(dask_cluster.run(builds).values()) >= 1
    finally:
        dask_cluster.run(restore)
    pd.testing.assert_frame_equal(warm.summary, cold.summary, check_exact=True)
    assert warm.n_failed == cold.n_failed == 0


def test_adopt_keeps_what_is_there_and_the_newest_entries():
    cache: OrderedDict = OrderedDict([("a", 1), ("b", 2)])
    _warm.register("test-cache", cache, 3, __name__)
    try:
        added = _warm.adopt(
            {"test-cache": (__name__, [("b", 20), ("c", 3), ("d", 4)]), "empty": ("no.such.module", [])}
        )
        assert added == 2
        assert list(cache.items()) == [("b", 2), ("c", 3), ("d", 4)]  # "b" kept as it was; "a" the oldest
        assert _warm.snapshot()["test-cache"] == (__name__, [("b", 2), ("c", 3), ("d", 4)])
    finally:
        _warm._CACHES.pop("test-cache", None)


def test_adopt_loads_the_module_of_a_cache_not_yet_registered():
    """A worker that has not imported the liberation2025 reader yet still takes over its
    parsed files (its module is imported first, which registers the cache)."""
    code = (
        "import sys; from kaifang import _warm; "
        "assert 'kaifang.data.liberation2025' not in sys.modules; "
        "n = _warm.adopt({'liberation2025': ('kaifang.data.liberation2025', [(('k',), 'v')])}); "
        "import kaifang.data.liberation2025 as l; print(n, dict(l._BASE))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["1", "{('k',):", "'v'}"]


def test_a_forked_workers_stale_kaifang_settings_are_dropped(monkeypatch):
    from kaifang._dask import KaifangWorkerEnv

    monkeypatch.setenv("KAIFANG_STALE_SETTING", "from the fork server")
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", "/old")
    KaifangWorkerEnv({"KAIFANG_DATA_MIRROR": "/new"}, exact=True).setup(None)
    assert "KAIFANG_STALE_SETTING" not in os.environ and os.environ["KAIFANG_DATA_MIRROR"] == "/new"
    monkeypatch.setenv("KAIFANG_STALE_SETTING", "kept")
    KaifangWorkerEnv({"KAIFANG_DATA_MIRROR": "/newer"}).setup(None)  # an existing cluster: only added
    assert os.environ["KAIFANG_STALE_SETTING"] == "kept"


def test_the_start_method_is_a_setting(monkeypatch, grid):
    from kaifang.errors import UserInputError

    monkeypatch.setenv("KAIFANG_WORKER_START", "spawn")
    assert _warm.start_method() == "spawn"
    par = run_sweep(grid, n_workers=1)  # a spawned worker (no fork server involved)
    ser = run_sweep(grid, engine="serial")
    pd.testing.assert_frame_equal(par.summary, ser.summary, check_exact=True)
    monkeypatch.setenv("KAIFANG_WORKER_START", "vfork")
    with pytest.raises(UserInputError, match=r"KAIFANG_WORKER_START has value 'vfork'; .* spawn"):
        _warm.start_method()
