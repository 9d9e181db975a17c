"""A user's own tables: the long-format input-output table and the tariff table.

Why the numbers are right: tables written with :func:`write_long_table` (or by hand) from known
arrays must read back to the same arrays; every malformed file is refused with a sentence naming
the file, field, row and value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from io_tables import random_table
from kaifang.baseline import InputOutputTable
from kaifang.data.usertable import read_long_table, read_tariff_table, write_long_table
from kaifang.errors import BaselineError, DataError


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".csv.gz"])
def test_round_trip(tmp_path, suffix):
    t = random_table(4, 3, 2, k=2, negative_final=True)
    path = write_long_table(
        tmp_path / f"table{suffix}",
        t.Z,
        t.Y,
        regions=t.regions,
        sectors=t.sectors,
        fd_categories=t.fd_categories,
        x=t.x,
        value_added=t.value_added,
    )
    raw = read_long_table(path, year=2020)
    assert raw.regions == t.regions and raw.sectors == t.sectors and raw.fd_categories == t.fd_categories
    np.testing.assert_allclose(raw.Z, t.Z, rtol=1e-15)
    np.testing.assert_allclose(raw.Y, t.Y, rtol=1e-15)
    np.testing.assert_allclose(raw.x, t.x, rtol=1e-15)
    assert raw.year == 2020 and list(raw.files) == [path.name]
    InputOutputTable.from_raw(raw)  # published value added agrees with output less inputs


def _write(tmp_path, rows, name="t.csv"):
    df = pd.DataFrame(
        rows, columns=["origin_region", "origin_sector", "destination_region", "destination_use", "value"]
    )
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


GOOD = [
    ("A", "g", "A", "g", 1.0),
    ("A", "g", "B", "g", 2.0),
    ("B", "g", "A", "g", 3.0),
    ("B", "g", "B", "g", 4.0),
    ("A", "g", "A", "households", 10.0),
    ("A", "g", "B", "households", 5.0),
    ("B", "g", "A", "households", 6.0),
    ("B", "g", "B", "households", 12.0),
]


def test_a_hand_written_table(tmp_path):
    raw = read_long_table(_write(tmp_path, GOOD))
    np.testing.assert_array_equal(raw.Z, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(raw.Y, [[10, 5], [6, 12]])
    assert raw.fd_categories == ("households",) and raw.x is None


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [*GOOD[:-1], ("B", "g", "C", "households", 1.0)],
            r"t.csv: field 'destination_region' has value 'C' at line 9.*rows and columns of the table disagree",
        ),
        ([*GOOD, ("A", "g", "B", "g", 9.0)], r"t.csv: line 3 and line 10 both give the flow from A/g to B/g"),
        (
            [*GOOD, ("A", "g", "B", "G ", 1.0)],
            r"destination_use' has value 'G'.*differs from the sector 'g' only in case",
        ),
        ([*GOOD, ("A", "g", "B", "g2", "x")], r"field 'value' has value 'x' at line 10"),
        ([*GOOD, ("A", "g", "A", "gross_output", 18.0)], r"gross_output is missing for B/g"),
        (
            [*GOOD, ("A", "g", "A", "gross_output", -1.0), ("B", "g", "B", "gross_output", 25.0)],
            r"gross_output for A/g is -1 at line 10; gross output must be non-negative",
        ),
        ([r for r in GOOD if r[3] == "g"], r"has no final demand"),
    ],
)
def test_bad_tables_name_file_field_and_value(tmp_path, rows, message):
    with pytest.raises(DataError, match=message):
        read_long_table(_write(tmp_path, rows))


def test_negative_intermediate_flow_and_missing_column(tmp_path):
    rows = [r if r[:4] != ("A", "g", "B", "g") else ("A", "g", "B", "g", -2.0) for r in GOOD]
    with pytest.raises(DataError, match=r"value' is -2 at line 3, a negative intermediate flow"):
        read_long_table(_write(tmp_path, rows))
    p = tmp_path / "cols.csv"
    pd.DataFrame({"origin": ["A"], "value": [1.0]}).to_csv(p, index=False)
    with pytest.raises(
        DataError, match=r"cols.csv: the input-output table lacks the column\(s\) origin_region"
    ):
        read_long_table(p)
    xlsx = tmp_path / "x.xlsx"
    xlsx.write_text("")
    with pytest.raises(DataError, match=r"x.xlsx: unknown file type; give a .csv, .csv.gz or .parquet file"):
        read_long_table(xlsx)


def test_declared_final_demand_categories(tmp_path):
    p = _write(tmp_path, [*GOOD, ("A", "g", "B", "invest", 1.0)])
    raw = read_long_table(p, final_demand=["households", "invest"])
    assert raw.fd_categories == ("households", "invest")
    with pytest.raises(
        DataError,
        match=r"value 'invest' at line 10, neither a sector nor one of the final-demand categories \(households\)",
    ):
        read_long_table(p, final_demand=["households"])


def test_rows_and_output_that_disagree(tmp_path):
    p = _write(
        tmp_path, [*GOOD, ("A", "g", "A", "gross_output", 18.0), ("B", "g", "B", "gross_output", 99.0)]
    )
    raw = read_long_table(p)
    with pytest.raises(BaselineError, match=r"does not balance: B/g sells 25 .* gross output is 99"):
        InputOutputTable.from_raw(raw)


def test_tariff_table(tmp_path):
    p = tmp_path / "tariffs.csv"
    pd.DataFrame(
        {"importer": ["A", "B"], "exporter": ["B", "A"], "sector": ["g", "g"], "rate": [7.5, 0.0]}
    ).to_csv(p, index=False)
    df = read_tariff_table(p)
    assert df["rate"].tolist() == [7.5, 0.0] and df["line"].tolist() == ["line 2", "line 3"]
    pd.DataFrame({"importer": ["A"], "exporter": ["B"], "sector": ["g"], "rate": [-100.0]}).to_csv(
        p, index=False
    )
    with pytest.raises(
        DataError, match=r"tariffs.csv: field 'rate' is -100 at line 2; tariffs are in percent"
    ):
        read_tariff_table(p)
    pd.DataFrame(
        {"importer": ["A", "A"], "exporter": ["B", "B"], "sector": ["g", "g"], "rate": [1, 2]}
    ).to_csv(p, index=False)
    with pytest.raises(DataError, match=r"line 2 and line 3 both give the tariff of A on B in g"):
        read_tariff_table(p)
    pd.DataFrame({"importer": ["A"], "exporter": ["B"], "sector": ["g"], "tariff": [1]}).to_csv(
        p, index=False
    )
    with pytest.raises(DataError, match=r"lacks the column\(s\) rate"):
        read_tariff_table(p)


def test_too_large_a_table_is_refused_before_its_values_are_read(tmp_path, monkeypatch):
    p = _write(tmp_path, GOOD)
    monkeypatch.setenv("KAIFANG_MEMORY_LIMIT", "100B")
    with pytest.raises(
        DataError, match=r"t.csv: the table has 2 regions x 1 sectors .* more than the 0.0 GB available"
    ):
        read_long_table(p)


def test_bad_user_table_exits_2_on_the_command_line(tmp_path, capsys):
    from kaifang.cli import main

    table = _write(tmp_path, [*GOOD, ("A", "g", "C", "g", 1.0)], name="mine.csv")
    sc = tmp_path / "own.toml"
    sc.write_text(
        f'name = "own"\nmodel = "caliendo_parro"\ndataset = "mrio"\n[baseline]\nfile = "{table.name}"\n'
        '[parameters]\ntheta_default = 5\n[[shocks]]\ntype = "iceberg"\nimporter = "A"\nexporter = "B"\nvalue = -5\n'
    )
    assert main(["run", str(sc), "--no-save", "--no-store"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "mine.csv: field 'destination_region' has value 'C' at line 10" in err and "Traceback" not in err
    sc.write_text(sc.read_text().replace("theta_default = 5\n", ""))
    table.write_text(table.read_text().replace("A,g,C,g,1.0\n", ""))
    assert main(["run", str(sc), "--no-save", "--no-store"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "no default trade elasticity for the sectors g" in err and "theta_default" in err
