"""``kaifang run`` with the Caliendo–Parro model: JSON output and user errors (exit code 2)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import require_dataset
from kaifang.cli import main

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "scenarios" / "demo-tariff.toml"
NAFTA = ROOT / "scenarios" / "cp2015-nafta.toml"
REQUIRED = {
    "region",
    "welfare_pct",
    "terms_of_trade_pct",
    "volume_of_trade_pct",
    "technical_efficiency_pct",
    "productivity_pct",
    "deficit_pct",
    "welfare_residual_pct",
    "real_wage_pct",
    "exports_pct",
    "imports_pct",
    "welfare_first_order_pct",
    "terms_of_trade_first_order_pct",
    "volume_of_trade_first_order_pct",
}
PARTS = (
    "terms_of_trade_pct",
    "volume_of_trade_pct",
    "technical_efficiency_pct",
    "productivity_pct",
    "deficit_pct",
)


def _run_json(capsys, *args):
    rc = main(["run", *map(str, args), "--json", "--no-save"])
    out = capsys.readouterr()
    return rc, out


def test_nafta_end_to_end_json(capsys):
    require_dataset("cp2015")
    rc, out = _run_json(capsys, NAFTA)
    assert rc == 0, out.err
    doc = json.loads(out.out)  # one JSON object
    assert doc["synthetic"] is False
    regions = {r["region"]: r for r in doc["regions"]}
    assert len(regions) == 31 and "ROW" in regions and "DEU" in regions
    assert all(REQUIRED <= set(r) for r in doc["regions"])
    # Caliendo & Parro (2015), abstract: MEX +1.31 %, USA +0.08 %, CAN -0.06 % (2 decimals), the
    # paper's first-order measure
    assert regions["MEX"]["welfare_first_order_pct"] == pytest.approx(1.31, abs=0.005)
    assert regions["USA"]["welfare_first_order_pct"] == pytest.approx(0.08, abs=0.005)
    assert regions["CAN"]["welfare_first_order_pct"] == pytest.approx(-0.06, abs=0.005)
    for r in doc["regions"]:
        # (deficits are zero in both equilibria, up to the solver's tolerance)
        assert r["welfare_first_order_pct"] == pytest.approx(
            r["terms_of_trade_first_order_pct"] + r["volume_of_trade_first_order_pct"], abs=1e-6
        )
        # the exact measure is its integrated parts plus the reported residual
        assert r["welfare_pct"] == pytest.approx(
            sum(r[c] for c in PARTS) + r["welfare_residual_pct"], abs=1e-9
        )
        assert abs(r["welfare_residual_pct"]) < 0.01
    d = doc["diagnostics"]
    assert "exact change in real income" in d["welfare_measure"] and d["welfare_residual_max_pct"] < 0.01
    assert d["converged"] is True and d["solve_seconds"] > 0 and d["iterations"] > 0
    assert d["equilibria"]["counterfactual"]["trade_balance_error"] <= 1e-8
    p = doc["provenance"]
    assert p["dataset"] == "cp2015" and len(p["files"]["xbilat1993.txt"]) == 64
    assert len(p["scenario_sha256"]) == 64 and p["kaifang_version"]
    assert p["parameters"]["deficits"] == "zero"


def test_demo_runs_offline_and_is_labelled_synthetic(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "nothing"))
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    rc, out = _run_json(capsys, DEMO)
    assert rc == 0, out.err
    doc = json.loads(out.out)
    assert doc["synthetic"] is True and "SYNTHETIC" in doc["note"]
    assert [r["region"] for r in doc["regions"]] == ["XAA", "XBB", "XCC", "XDD", "XEE"]
    # the tariff war's own parties lose trade with each other
    regions = {r["region"]: r for r in doc["regions"]}
    assert regions["XAA"]["exports_pct"] < 0 and regions["XBB"]["exports_pct"] < 0


def test_demo_table_and_saved_results(capsys, tmp_path):
    import pandas as pd

    rc = main(["run", str(DEMO), "--out", str(tmp_path / "res")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "SYNTHETIC DEMO DATA" in out and "XAA" in out
    for name in ("result.json", "regions.parquet", "sectors.parquet", "bilateral.parquet", "flows.parquet"):
        assert (tmp_path / "res" / name).is_file()
    assert not list((tmp_path / "res").glob("*.csv"))  # CSV only when asked for
    doc = json.loads((tmp_path / "res" / "result.json").read_text())
    saved = pd.read_parquet(tmp_path / "res" / "regions.parquet")
    assert list(saved["region"]) == [r["region"] for r in doc["regions"]]
    assert main(["run", str(DEMO), "--out", str(tmp_path / "res2"), "--csv"]) == 0
    for name in ("regions", "sectors", "bilateral", "flows"):
        csv = pd.read_csv(tmp_path / "res2" / f"{name}.csv")
        pq = pd.read_parquet(tmp_path / "res2" / f"{name}.parquet")
        assert list(csv.columns) == list(pq.columns) and len(csv) == len(pq)


def _scenario(tmp_path, body: str, dataset: str = "demo") -> Path:
    f = tmp_path / "s.toml"
    f.write_text(f'name = "t"\nmodel = "caliendo_parro"\ndataset = "{dataset}"\n{body}')
    return f


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAB"\nvalue = 5\n',
            r"unknown region 'XAB'.*Did you mean",
        ),
        (
            '[[shocks]]\ntype = "tariff"\nop = "add"\nsector = "Machinry"\nvalue = 5\n',
            r"unknown sector 'Machinry'.*'Machinery'",
        ),
        (
            '[[shocks]]\ntype = "tariff"\nop = "add"\nsector = "Textile"\nvalue = 5\n',
            r"shocks\[0\]\.sector.*unknown sector 'Textile'",
        ),
        ('[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAA"\nvalue = -150\n', r"at or below -100%"),
        (
            '[[shocks]]\ntype = "tariff"\nop = "set"\nfrom_table = "tariffs2005"\n',
            r"from_table.*'tariffs2005'.*tables this data set offers: none",
        ),
        ("[solver]\nmax_iter = 1\n", r"did not converge.*max_iter = 1"),
        (
            '[[shocks]]\ntype = "tariff"\nop = "add"\nsector = "Services"\nvalue = 5\n',
            r"shocks\[0\]\.sector.*no international trade in 'demo' \(Services\)",
        ),
        ("[solver]\ntol = -1\n", r"solver\.tol.*-1"),
        ('[solver]\nmethod = "newton"\n', r"solver\.method.*'newton'"),
        ("[solver]\nmax_itr = 5\n", r"unknown field 'solver\.max_itr'.*max_iter"),
        ('[baseline]\ndeficits = "half"\n', r"baseline\.deficits.*'half'"),
    ],
)
def test_bad_input_exit_2(tmp_path, capsys, body, message):
    import re

    rc = main(["run", str(_scenario(tmp_path, body)), "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert re.search(message, " ".join(err.split()), re.S), err
    assert "Traceback" not in err


def test_wrong_dataset_for_the_model(tmp_path, capsys):
    rc = main(["run", str(_scenario(tmp_path, "", dataset="wiod44")), "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2 and "multi-sector data set" in err


def test_checksum_mismatch_exit_2(tmp_path, capsys, monkeypatch):
    require_dataset("cp2015")
    from kaifang.data import mirror_dir

    bad = tmp_path / "mirror" / "cp2015"
    shutil.copytree(mirror_dir() / "cp2015", bad)
    with (bad / "T.txt").open("a") as fh:
        fh.write("1.0\n")
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    rc = main(["run", str(NAFTA), "--no-save"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2
    assert "checksum mismatch" in err and "T.txt" in err and "kaifang data fetch cp2015" in err


def test_unavailable_data_points_to_demo_and_mirror(tmp_path, capsys, monkeypatch):
    import pooch

    def offline(*a, **k):
        raise ConnectionError("no network")

    monkeypatch.setattr(pooch, "retrieve", offline)
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "empty"))
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    rc = main(["run", str(NAFTA), "--no-save"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 2
    assert "scenarios/demo-tariff.toml" in err and "KAIFANG_DATA_MIRROR" in err
