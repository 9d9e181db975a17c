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

from kaifang.store._impl import JOB_COLUMNS, SCHEMA_VERSION, ResultsStore, StoreError, default_store_path

__all__ = ["JOB_COLUMNS", "SCHEMA_VERSION", "ResultsStore", "StoreError", "default_store_path"]
