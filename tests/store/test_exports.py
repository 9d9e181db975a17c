"""Exports: every format keeps missing values missing; the Excel writer makes workbooks that an
independent reader (openpyxl) reads back exactly."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

from kaifang.results import RunResult
from kaifang.scenario import parse_scenario
from kaifang.store import ResultsStore
from kaifang.store._xlsx import XlsxError, sheet_names, write_xlsx

TEXT = 'name = "t"\nmodel = "caliendo_parro"\ndataset = "demo"\n'


def _with_missing() -> RunResult:
    regions = pd.DataFrame(
        {
            "region": ["AAA", "BBB", "CCC"],
            "welfare_pct": [0.0, np.nan, -1.25],  # a true zero and a missing value
            "label": pd.array(["x", pd.NA, "z"], dtype="string"),
            "note": ["a", None, "c"],
            "count": pd.array([1, None, 0], dtype="Int64"),
        }
    )
    return RunResult(
        model="caliendo_parro",
        scenario="t",
        regions=regions,
        diagnostics={"converged": True, "residual": float("nan")},
        provenance={"dataset": "demo"},
    )


@pytest.fixture
def stored(tmp_path):
    store = ResultsStore(tmp_path / "st.duckdb")
    return store, store.add(_with_missing(), parse_scenario(TEXT))


def test_missing_values_are_missing_in_every_format(stored, tmp_path):
    import openpyxl
    import pyarrow.parquet as pq

    store, rid = stored
    c = store.export(rid, tmp_path / "c", "csv")
    p = store.export(rid, tmp_path / "p", "parquet")
    x = store.export(rid, tmp_path / "x.xlsx", "xlsx")

    with open(c / "regions.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["region", "welfare_pct", "label", "note", "count"]
    assert rows[2] == ["BBB", "", "", "", ""]  # missing: empty
    assert float(rows[1][1]) == 0.0 and rows[3][4] == "0"  # zeros stay zeros

    table = pq.read_table(p / "regions.parquet").to_pydict()
    assert [table[k][1] for k in ("welfare_pct", "label", "note", "count")] == [None] * 4  # missing: null
    assert table["welfare_pct"][0] == 0.0 and table["count"][2] == 0

    ws = openpyxl.load_workbook(x)["regions"]
    values = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert values[2] == ["BBB", None, None, None, None]  # missing: empty cells, not 0
    assert values[1][1] == 0 and values[3][4] == 0 and values[3][1] == -1.25

    for meta in (c / "run.json", p / "run.json"):
        doc = json.loads(meta.read_text(), parse_constant=lambda s: pytest.fail(f"{s} in {meta}"))
        assert doc["diagnostics"]["residual"] is None


def test_xlsx_round_trip_with_openpyxl(tmp_path):
    import openpyxl

    df = pd.DataFrame(
        {
            "name": ["a & b <c>", "tab\there", "esc\x1bchar", "_x0041_ literal"],
            "value": [1.5, -2e-12, float("inf"), 123456789.125],
            "flag": [True, False, True, False],
            "n": np.array([1, 2, 3, 4], dtype="int64"),
            "when": pd.to_datetime(["2025-04-02", "2025-04-03", None, "2025-04-05"]),
        }
    )
    out = write_xlsx(tmp_path / "w.xlsx", [("data", df), ("empty", df.iloc[:0]), ("a/b:c?", df.iloc[:1])])
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["data", "empty", "a_b_c_"]
    ws = wb["data"]
    assert ws.freeze_panes == "A2"
    rows = [[cell.value for cell in row] for row in ws.iter_rows()]
    assert rows[0] == ["name", "value", "flag", "n", "when"]
    assert [r[0] for r in rows[1:]][:2] == ["a & b <c>", "tab\there"]
    assert rows[3][0] in ("esc\x1bchar", "esc_x001B_char")  # XML cannot hold ESC: written as _x001B_
    assert rows[4][0] in ("_x0041_ literal", "_x005F_x0041_ literal")  # openpyxl does not decode
    assert (
        rows[1][1] == 1.5 and rows[2][1] == -2e-12 and rows[3][1] == "#NUM!" and rows[4][1] == 123456789.125
    )
    assert [r[2] for r in rows[1:]] == [True, False, True, False]
    assert [r[3] for r in rows[1:]] == [1, 2, 3, 4]
    assert rows[1][4] == "2025-04-02T00:00:00" and rows[3][4] is None
    assert [[c.value for c in r] for r in wb["empty"].iter_rows()] == [["name", "value", "flag", "n", "when"]]
    back = pd.read_excel(out, sheet_name="data")
    assert list(back.columns) == list(df.columns) and len(back) == 4


def test_xlsx_text_escapes_decode_to_the_original():
    """ECMA-376 (ST_Xstring): a character XML cannot hold is written _xHHHH_, and an '_' that
    starts such a pattern is itself written _x005F_; decoding gives back the text."""
    import re

    from kaifang.store._xlsx import _text

    def decode(s: str) -> str:  # the reading rule of the standard, as Excel applies it
        return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), s)

    for original in ["plain", "esc\x1bchar", "nul\x00", "_x0041_ literal", "a_x12_b", "__x0000__"]:
        written = _text(original)
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", written)
        assert decode(written.replace("&amp;", "&")) == original


def test_xlsx_large_table_exact(tmp_path):
    """A table the size of a 194-economy run's bilateral diversion table (75,000 rows)."""
    import openpyxl

    rng = np.random.default_rng(3)
    n = 75_000
    df = pd.DataFrame(
        {"region": np.repeat([f"R{i:03d}" for i in range(n // 100)], 100), "x": rng.normal(size=n)}
    )
    df.loc[5, "x"] = np.nan
    messages: list[str] = []
    out = write_xlsx(tmp_path / "big.xlsx", [("big", df)], progress=messages.append)
    assert messages == ["writing sheet big (75,000 rows)"]
    ws = openpyxl.load_workbook(out, read_only=True)["big"]
    got = [row for row in ws.iter_rows(min_row=2, values_only=True)]
    assert len(got) == n
    xs = np.array([math.nan if r[1] is None else r[1] for r in got])
    np.testing.assert_array_equal(np.isnan(xs), df["x"].isna().to_numpy())
    np.testing.assert_array_equal(xs[~np.isnan(xs)], df["x"].dropna().to_numpy())  # repr() round-trips


def test_xlsx_limits_are_clear_errors(tmp_path):
    with pytest.raises(XlsxError, match=r"table 't', column 's', row 1: a text of 40,000 characters"):
        write_xlsx(tmp_path / "t.xlsx", [("t", pd.DataFrame({"s": ["x" * 40_000]}))])


def test_sheet_names():
    assert sheet_names(["regions", "Regions", "x" * 40, "x" * 40, "[a]"]) == [
        "regions",
        "Regions_1",
        "x" * 31,
        "x" * 29 + "_1",
        "_a_",
    ]


def test_export_shows_progress(stored, tmp_path):
    store, rid = stored
    messages: list[str] = []
    store.export(rid, tmp_path / "x.xlsx", "xlsx", progress=messages.append)
    assert messages[0] == "writing sheet regions (3 rows)" and messages[1].startswith("writing sheet run (")
    assert len(messages) == 2
