"""The results store: every run with its tables, diagnostics and provenance in one DuckDB file.

Default location: ``$KAIFANG_STORE`` when set, else ``kaifang-results/kaifang.duckdb`` in the
current directory. ``kaifang run`` records each run there (``--store PATH``, ``--no-store``);
``kaifang runs list|show|export|delete`` reads it.

Example::

    from kaifang.store import ResultsStore
    store = ResultsStore()            # or ResultsStore("my-runs.duckdb")
    run_id = store.add(result, scenario)
    store.list()                       # one row per run
    store.get(run_id).regions          # the per-region table, as stored
    store.sweeps()                     # one row per sweep (``kaifang sweep``)
    store.get_sweep(sweep_id)["summary"]   # its summary table; ["points"]: the points' run ids
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kaifang.store._impl import JOB_COLUMNS, SCHEMA_VERSION, ResultsStore, StoreError, default_store_path

__all__ = ["JOB_COLUMNS", "SCHEMA_VERSION", "ResultsStore", "StoreError", "default_store_path"]


def __getattr__(name: str) -> Any:
    # loaded on first use (it needs pandas and DuckDB), so that kaifang.store._files is light
    if name in __all__:
        from kaifang.store import _impl

        return getattr(_impl, name)
    raise AttributeError(f"module 'kaifang.store' has no attribute {name!r}")
