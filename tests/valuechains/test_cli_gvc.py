"""``kaifang gvc``: the JSON contract, readable tables, files, and user mistakes (exit code 2)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import require_dataset
from kaifang import valuechains as vc
from kaifang.cli import main


def run_json(capsys, *args):
    rc = main(["gvc", *args, "--json"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    return json.loads(out.out)


@pytest.mark.data
def test_kww_json_contract_on_wiod(capsys):
    require_dataset("wiod2013")
    doc = run_json(capsys, "wiod2013", "--year", "2011", "--method", "kww")
    assert (doc["method"], doc["dataset"], doc["year"]) == ("kww", "wiod2013", 2011)
    assert "millions" in doc["units"]
    rows = doc["rows"]
    assert len(rows) == 41 and {r["country"] for r in rows} >= {"CHN", "USA", "RoW"}
    for r in rows:
        assert set(vc.KWW_TERMS) <= set(r)
        assert sum(r[k] for k in vc.KWW_TERMS) == pytest.approx(r["texp"], rel=1e-12)
    chn = next(r for r in rows if r["country"] == "CHN")
    assert chn["texp"] == 2084965  # China's 2011 gross exports in the table, millions of USD


@pytest.mark.data
def test_wwz_pair_and_leontief_country_json_on_wiod(capsys, tmp_path):
    require_dataset("wiod2013")
    doc = run_json(capsys, "wiod2013", "--method", "wwz", "--by", "pair", "-c", "CHN", "-p", "usa")
    assert doc["year"] == 2011 and len(doc["rows"]) == 1
    row = doc["rows"][0]
    assert (row["exporter"], row["importer"]) == ("CHN", "USA")
    assert set(vc.WWZ_TERMS) <= set(row) and "texp" in row
    # the sixteen terms add up to exports up to the table's rounding (under 0.02% here)
    assert sum(row[k] for k in vc.WWZ_TERMS) == pytest.approx(row["texp"], rel=2e-4)
    doc = run_json(capsys, "wiod2013", "--method", "leontief", "--by", "country", "-c", "mex,CHN")
    assert {"source", "using", "value"} <= set(doc["rows"][0])
    assert {r["using"] for r in doc["rows"]} == {"MEX", "CHN"} and len(doc["rows"]) == 2 * 41


@pytest.mark.data
def test_out_files_hold_the_full_detail(capsys, tmp_path):
    require_dataset("wiod2013")
    pq = tmp_path / "wwz.parquet"
    rc = main(
        ["gvc", "wiod2013", "--method", "wwz", "--by", "sector", "-c", "DEU", "--out", str(pq), "--rows", "3"]
    )
    out = capsys.readouterr()
    assert rc == 0, out.err
    df = pd.read_parquet(pq)
    assert len(df) == 35 * 41 and set(df["exporter"]) == {"DEU"}
    assert "saved:" in out.out and "more rows" in out.out
    csv = tmp_path / "ind.csv"
    assert main(["gvc", "wiod2013", "--out", str(csv)]) == 0
    ind = pd.read_csv(csv)
    assert list(ind.columns) == ["country", *vc.COUNTRY_INDICATORS] and len(ind) == 41


def test_demo_world_offline_readable_table_and_excel(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "nothing"))
    xlsx = tmp_path / "kww.xlsx"
    rc = main(["gvc", "demo", "--method", "kww", "--out", str(xlsx)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "demo — kww by country" in out.out and "DVA_FIN" in out.out and "XAA" in out.out
    df = pd.read_excel(xlsx)
    assert list(df["country"]) == ["XAA", "XBB", "XCC", "XDD", "XEE"]
    doc = run_json(capsys, "demo", "--method", "indicators", "--by", "sector", "--sector", "metals")
    assert {r["sector"] for r in doc["rows"]} == {"Metals"} and doc["year"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["demo", "--method", "kwv"],
            "--method 'kwv' is not one of leontief, kww, wwz, indicators. Did you mean 'kww'?",
        ),
        (
            ["demo", "--method", "wwz", "--by", "country"],
            "--by 'country' does not apply to --method wwz; use pair or sector.",
        ),
        (
            ["demo", "-c", "XAB"],
            "--country 'XAB': no country of that name in demo. Did you mean 'XBB' or 'XAA'?",
        ),
        (["demo", "--by", "sector", "--sector", "metal"], "Did you mean 'Metals'?"),
        (["demo", "--sector", "Metals"], "--sector needs --by sector"),
        (["demo", "--method", "kww", "-p", "XAA"], "--partner applies to --method wwz and leontief"),
        (["demo", "--out", "x.txt"], "unknown file type '.txt'; use a name ending in .parquet, .csv, .xlsx"),
        (["demo", "--year", "1993"], "data set 'demo' is a multi-sector world with one table (drop them)"),
        (["wiod2014"], "unknown data set 'wiod2014'. Did you mean 'wiod2016' or 'wiod2013'"),
        (["agtpa"], "data set 'agtpa' has no world input-output table"),
        (["wiod2013", "--year", "2014"], "--year 2014: data set 'wiod2013' covers 1995-2011"),
    ],
)
def test_user_mistakes_exit_2_with_a_sentence(args, message, capsys):
    rc = main(["gvc", *args])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in " ".join(err.split()), err
    assert "Traceback" not in err


@pytest.mark.data
def test_country_missing_from_wiod_suggests_and_excel_limit(capsys, tmp_path):
    require_dataset("wiod2013")
    rc = main(["gvc", "wiod2013", "--method", "kww", "-c", "VNM"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2 and "--country 'VNM': no country of that name in wiod2013" in err
    rc = main(
        ["gvc", "wiod2013", "--method", "leontief", "--by", "sector", "--out", str(tmp_path / "h.xlsx")]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2 and "2,059,225 rows do not fit in an Excel sheet" in err
    assert not (tmp_path / "h.xlsx").exists()


# ---------------------------------------------------------------------------- other tables
def _chain_file(tmp_path, name="chain.csv", **change):
    """The hand-worked two-country chain world of test_hand_worlds.py as a user's long-format file."""
    import numpy as np
    from test_hand_worlds import chain_world

    from kaifang.data.usertable import write_long_table

    t = chain_world()
    Z, Y, x = np.array(t.Z), np.array(t.Y), np.array(t.x)
    if "x" in change:
        x = change["x"](x)
    if "Z" in change:
        Z = change["Z"](Z)
    return write_long_table(
        tmp_path / name, Z, Y, regions=t.regions, sectors=t.sectors, fd_categories=("households",), x=x
    )


def test_users_own_table_gives_the_hand_worked_terms(tmp_path, capsys):
    path = _chain_file(tmp_path)
    doc = run_json(capsys, "mrio", "--file", str(path), "--method", "kww")
    rows = {r["country"]: r for r in doc["rows"]}
    # the numbers worked out by hand in test_hand_worlds.py
    assert rows["H"]["DVA_FIN"] == pytest.approx(76) and rows["H"]["RDV_INT"] == pytest.approx(12)
    assert rows["F"]["DVA_INT"] == pytest.approx(36) and rows["F"]["FDC"] == pytest.approx(8)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"x": lambda x: x * [1.0, 1.0, 1.0, 1.5]},
            "does not balance: F/2 sells 200 (intermediate plus final) but its gross output is 300",
        ),
        (
            {"Z": lambda Z: Z - 60 * (Z == 50)},
            "field 'value' is -10 at line 3, a negative intermediate flow (H/1 to F/2)",
        ),
    ],
)
def test_bad_users_table_exit_2(tmp_path, capsys, change, message):
    path = _chain_file(tmp_path, **change)
    rc = main(["gvc", "mrio", "--file", str(path), "--method", "kww"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2 and message in err and "Traceback" not in err, err


def test_icio_layout_file(tmp_path, capsys):
    import numpy as np

    from io_tables import write_icio_csv

    path = tmp_path / "ICIO2023_2020.csv"
    written = write_icio_csv(path)
    doc = run_json(capsys, "icio", "--file", str(path), "--method", "kww")
    g, n = len(written["regions"]), len(written["sectors"])
    Z = np.asarray(written["Z"]).reshape(g, n, g, n).sum(axis=(1, 3))
    Y = np.asarray(written["Y"]).reshape(g, n, g, written["k"]).sum(axis=(1, 3))
    exports = (Z + Y).sum(axis=1) - np.diag(Z + Y)  # sales to other regions, written by the fixture
    got = {r["country"]: r for r in doc["rows"]}
    for s, region in enumerate(written["regions"]):
        assert got[region]["texp"] == pytest.approx(exports[s], rel=1e-9)
        assert sum(got[region][k] for k in vc.KWW_TERMS) == pytest.approx(exports[s], rel=1e-9)


@pytest.mark.data
def test_aggregated_wiod_table(capsys):
    require_dataset("wiod2013")
    import numpy as np

    from kaifang.baseline import InputOutputTable
    from kaifang.data.wiod2013 import read_wiod2013

    members = ["DEU", "FRA", "ITA"]
    doc = run_json(capsys, "wiod2013", "--merge-regions", "CORE=" + ",".join(members), "--method", "kww")
    rows = {r["country"]: r for r in doc["rows"]}
    assert set(rows) == {"CORE", "ROW"}
    # exports of the aggregate: the members' sales to every region outside it, from the raw table
    t = InputOutputTable.from_raw(read_wiod2013(2011))
    g, n = t.n_regions, t.n_sectors
    inside = np.isin(t.regions, members)
    sales = t.Z.reshape(g, n, g, n).sum(axis=(1, 3)) + t.final_by_region.reshape(g, n, g).sum(axis=1)
    assert rows["CORE"]["texp"] == pytest.approx(sales[np.ix_(inside, ~inside)].sum(), rel=1e-12)


def test_an_out_file_that_cannot_be_written_is_a_sentence(capsys, tmp_path):
    """A path through a file: exit 2 and a sentence naming --out, never an internal error."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    rc = main(["gvc", "demo", "--out", str(blocker / "x.csv")])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"--out '{blocker / 'x.csv'}': cannot write the file" in err and "internal error" not in err
