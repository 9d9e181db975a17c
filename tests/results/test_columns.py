"""Tables held as named numpy columns (``kaifang.results.Columns``) until they are read.

The reference for every conversion is pandas' and pyarrow's own: ``DataFrame.to_dict``, and
``DataFrame.to_parquet`` of the same table.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import require_dataset
from kaifang.results import Columns, RunResult

ROOT = Path(__file__).resolve().parents[2]


def _table() -> Columns:
    return Columns(
        {
            "region": np.array(["CIV", "USA", "ROW"]),
            "name": np.array(["Côte d'Ivoire", "United States", "Rest of the world"], dtype=object),
            "value_pct": np.array([1.5, np.nan, -0.25]),
            "count": np.array([1, 2, 3], dtype=np.int64),
            "no_trade": np.array([False, True, False]),
            "flow": "exports",  # a scalar fills the column
        }
    )


def test_shape_and_scalar_columns():
    t = _table()
    assert len(t) == 3
    assert t.columns == ["region", "name", "value_pct", "count", "no_trade", "flow"]
    assert t["flow"].tolist() == ["exports"] * 3
    with pytest.raises(ValueError, match="one length"):
        Columns({"a": [1, 2], "b": [1, 2, 3]})
    with pytest.raises(ValueError, match="one-dimensional"):
        Columns({"a": np.ones((2, 2))})


def test_concat_and_assign():
    a = Columns({"x": [1.0, 2.0], "k": ["a", "b"]})
    b = Columns({"x": [3.0], "k": ["c"]})
    both = Columns.concat([a, b])
    assert both["x"].tolist() == [1.0, 2.0, 3.0]
    assert both["k"].tolist() == ["a", "b", "c"]
    assert a.assign(x=[0.0, 0.0])["x"].tolist() == [0.0, 0.0]
    assert a["x"].tolist() == [1.0, 2.0]  # the original is unchanged
    with pytest.raises(ValueError, match="cannot stack"):
        Columns.concat([a, Columns({"k": ["c"], "x": [3.0]})])


def test_records_match_pandas_to_dict():
    t = _table()
    got = t.records()
    want = pd.DataFrame({k: t[k] for k in t.columns}).to_dict(orient="records")
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert list(g) == list(w)
        for k in g:
            if isinstance(w[k], float) and np.isnan(w[k]):
                assert np.isnan(g[k])
            else:
                assert g[k] == w[k] and type(g[k]) is type(w[k])


def test_to_pandas_matches_a_dataframe_built_by_pandas():
    t = _table()
    want = pd.DataFrame({k: t[k] for k in t.columns})
    pd.testing.assert_frame_equal(t.to_pandas(), want)


@pytest.mark.parametrize("rows", [3, 0])
def test_parquet_from_arrow_reads_back_as_pandas_would_write_it(tmp_path, rows):
    import pyarrow.parquet as pq

    t = _table()
    if rows == 0:
        t = Columns({k: t[k][:0] for k in t.columns})
    pq.write_table(t.to_arrow(), tmp_path / "columns.parquet")
    pd.DataFrame({k: t[k] for k in t.columns}).to_parquet(tmp_path / "pandas.parquet", index=False)
    got = pd.read_parquet(tmp_path / "columns.parquet")
    want = pd.read_parquet(tmp_path / "pandas.parquet")
    # (an empty text column of dtype object has no type for pandas: Arrow null; here: string)
    pd.testing.assert_frame_equal(got, want, check_dtype=rows > 0)
    # NaN in a float column is a null in both files (pandas' conversion), seen as such by Arrow
    assert pq.read_table(tmp_path / "columns.parquet").column("value_pct").null_count == int(rows > 0)
    assert pq.read_table(tmp_path / "pandas.parquet").column("value_pct").null_count == int(rows > 0)


def test_to_arrow_does_not_import_pandas(tmp_path):
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        import pyarrow.parquet as pq
        from kaifang.results._columns import Columns
        t = Columns({"r": np.array(["A", "B"]), "x": np.array([1.0, np.nan]), "f": np.array([True, False])})
        pq.write_table(t.to_arrow(), sys.argv[1])
        assert "pandas" not in sys.modules, "pandas was imported"
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.parquet")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr


def _result(regions, tables) -> RunResult:
    return RunResult(
        model="m",
        scenario="s",
        regions=regions,
        tables=tables,
        diagnostics={"converged": True, "residual": 0.0},
    )


def test_run_result_converts_on_first_read_and_documents_the_same():
    reg = Columns({"region": np.array(["A", "B"]), "welfare_pct": np.array([0.5, -0.1])})
    sec = Columns(
        {
            "region": np.array(["A", "B"]),
            "sector": np.array(["x", "x"]),
            "exports_pct": np.array([np.nan, 2.0]),
            "no_trade": np.array([True, False]),
        }
    )
    lazy = _result(reg, {"sectors": sec})
    frames = _result(reg.to_pandas(), {"sectors": sec.to_pandas()})
    assert isinstance(lazy.raw_tables()["regions"], Columns)
    assert lazy.to_document() == frames.to_document()  # both paths give one document
    assert lazy.to_document()["no_trade"] == {"sectors": [{"region": "A", "sector": "x"}]}
    kept = lazy.replace(warnings=("w",))
    assert isinstance(kept.raw_tables()["sectors"], Columns) and kept.warnings == ("w",)
    back = pickle.loads(pickle.dumps(lazy))
    pd.testing.assert_frame_equal(back.tables["sectors"], sec.to_pandas())
    assert isinstance(lazy.regions, pd.DataFrame)  # read: now a DataFrame, and kept as one
    assert lazy.raw_tables()["regions"] is lazy.regions
    pd.testing.assert_frame_equal(lazy.regions, frames.regions)


def test_nafta_json_run_never_imports_pandas(tmp_path):
    """``kaifang run --json --no-store`` prints and saves (JSON, Parquet) without pandas."""
    require_dataset("cp2015")
    code = textwrap.dedent(
        """
        import sys
        from kaifang.cli import main
        rc = main(["run", sys.argv[1], "--json", "--no-store", "--out", sys.argv[2]])
        assert rc == 0, rc
        print("pandas imported:", "pandas" in sys.modules, file=sys.stderr)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "scenarios" / "cp2015-nafta.toml"), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert "pandas imported: False" in out.stderr
    saved = pd.read_parquet(tmp_path / "out" / "regions.parquet")
    assert {"USA", "CAN", "MEX"} <= set(saved["region"])


def test_nbytes_bounds_the_dataframes_deep_memory_use():
    """Columns.nbytes is what a sweep's memory check counts for results not yet converted: it
    must not be below what pandas itself reports for the same table."""
    from kaifang.results import Columns

    rng = np.random.default_rng(3)
    codes = np.array([f"R{i:03d}" for i in range(300)])
    table = Columns(
        {
            "region": codes,
            "sector": np.array(["Agriculture, hunting, forestry and fishing"] * 300),
            "welfare_pct": rng.normal(size=300),
            "n": np.arange(300),
        }
    )
    pandas_bytes = int(table.to_pandas().memory_usage(deep=True, index=True).sum())
    assert pandas_bytes <= table.nbytes < 4 * pandas_bytes
