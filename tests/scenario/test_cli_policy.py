"""Scenario mistakes on the command line: clear message, exit code 2; compare; reproducibility."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from helpers import require_dataset
from kaifang.cli import main
from kaifang.models import run_scenario
from kaifang.scenario import load_scenario
from kaifang.store import ResultsStore

HEAD = 'name = "t"\nmodel = "caliendo_parro"\ndataset = "cp2015"\n'


def _run(tmp_path, body: str, capsys, head: str = HEAD, *extra: str) -> tuple[int, str]:
    f = tmp_path / "s.toml"
    f.write_text(head + body)
    rc = main(["run", str(f), "--no-save", "--no-store", *extra])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="ASAEN"\nvalue=5\n',
            "unknown region 'ASAEN'.*ASEAN",
        ),
        (
            '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="Vietnam"\nvalue=5\n',
            "VNM.*not a separate region.*ROW",
        ),
        (
            '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="EU@1950"\nvalue=5\n',
            "no members in 1950",
        ),
        ('[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter=[]\nvalue=5\n', "empty list"),
        (  # a shock whose group has no member in the data set changes nothing: an error with --strict
            '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="MENA"\nvalue=5\n',
            r"shocks\[0\] changes nothing.*group 'MENA' has no member that is a region",
        ),
        (
            '[[shocks]]\ntype="ntb"\nimporter="CHN"\nsector="servics"\nvalue=-5\n',
            "unknown sector 'servics'.*'services'",
        ),
        (
            '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nvalue=10\n'
            '[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nexporter="CHN"\nvalue=20\n',
            r"shocks\[0\] and shocks\[1\] both set the tariff",
        ),
        ('[[shocks]]\ntype="tariff"\nop="set"\nimporter="USA"\nvalue=9000\n', "at most 2000 percent"),
        (
            '[[shocks]]\ntype="productivity"\nregion="CHN"\nvalue=-100\n',
            r"shocks\[0\]\.value' has value -100.*valid range: -100 < value <= 1000",
        ),
        (
            '[[shocks]]\ntype="agreement"\nmembers="NAFTA"\nestimate=0.3\n',
            "model 'caliendo_parro' does not apply",
        ),
        (
            '[groups]\nMINE = ["USA", "Atlantis"]\n[[shocks]]\ntype="embargo"\nimporter="MINE"\nexporter="CHN"\n',
            "unknown member 'Atlantis'",
        ),
    ],
)
def test_bad_scenarios_exit_2(tmp_path, capsys, body, pattern):
    require_dataset("cp2015")
    rc, err = _run(tmp_path, body, capsys, HEAD, "--strict")
    assert rc == 2, err
    assert "s.toml" in err and "Traceback" not in err
    assert __import__("re").search(pattern, err.replace("\n", " ")), err


def test_group_members_in_row_warn_on_cli_and_in_provenance(tmp_path, capsys):
    require_dataset("cp2015")
    f = tmp_path / "s.toml"
    f.write_text(
        HEAD + '[[shocks]]\ntype="tariff"\nop="add"\nimporter="USA"\nexporter="EU"\nvalue=5\nsector="goods"\n'
    )
    assert main(["run", str(f), "--no-save", "--json"]) == 0
    out, err = capsys.readouterr()
    assert "warning:" in err and "group 'EU'" in err and "BEL (Belgium)" in err
    doc = json.loads(out.strip().splitlines()[-1])
    g = doc["provenance"]["groups"]["EU"]
    assert "BEL" in g["absent"] and g["absent_in"] == "ROW" and "DEU" in g["present"]


def test_compare_runs_and_files(tmp_path, capsys, scenarios_dir):
    require_dataset("cp2015")
    a = scenarios_dir / "cp2015-us-china-tariff-war.toml"
    b = scenarios_dir / "cp2015-china-halves-mfn.toml"
    assert main(["run", str(a), "--no-save"]) == 0
    rid = ResultsStore().run_ids()[0]
    capsys.readouterr()
    assert main(["compare", rid, str(b), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["scenario"] for r in doc["runs"]] == ["cp2015-us-china-tariff-war", "cp2015-china-halves-mfn"]
    assert doc["runs"][0]["run_id"] == rid and doc["runs"][1]["run_id"]  # the file's run was stored
    assert "welfare_pct" in doc["outcomes"]
    assert all("exact change in real income" in r["welfare_measure"] for r in doc["runs"])
    assert doc["warnings"] == []  # both runs measure welfare the same way
    t = pd.DataFrame(doc["table"])
    assert len(t) == 2 * 31 and set(t["run"]) == {r["label"] for r in doc["runs"]}
    # the table holds each run's own numbers
    stored = ResultsStore().get(rid).regions.set_index("region")["welfare_pct"]
    mine = t[t["run"] == rid].set_index("region")["welfare_pct"]
    pd.testing.assert_series_equal(mine.sort_index(), stored.sort_index(), check_names=False)
    assert main(["compare", rid, str(b), "--no-store"]) == 0
    assert "welfare_pct: exact change in real income" in capsys.readouterr().out
    assert main(["compare", rid, str(b), "--no-store", "--outcome", "real_wage_pct"]) == 0
    assert "real_wage_pct" in capsys.readouterr().out
    assert main(["compare", rid, "--outcome", "welfare"]) == 2
    assert "welfare_pct" in capsys.readouterr().err


def test_compare_unknown_id_exit_2(capsys):
    assert main(["compare", "261128-000000-zzzz"]) == 2
    assert "no run" in capsys.readouterr().err


def test_reproducible_bit_for_bit(scenarios_dir):
    """Same scenario and data: identical tables, diagnostics counts and scenario hash."""
    require_dataset("cp2015")
    path = scenarios_dir / "cp2015-china-joins-cptpp.toml"
    with pytest.warns(Warning):  # CPTPP members in ROW (KaifangWarning)
        r1 = run_scenario(load_scenario(path))
    with pytest.warns(Warning):
        r2 = run_scenario(load_scenario(path))
    pd.testing.assert_frame_equal(r1.regions, r2.regions, check_exact=True)
    assert list(r1.tables) == list(r2.tables)
    for k in r1.tables:
        pd.testing.assert_frame_equal(r1.tables[k], r2.tables[k], check_exact=True)
    assert r1.provenance["scenario_sha256"] == r2.provenance["scenario_sha256"]
    assert r1.provenance["files"] == r2.provenance["files"]
    assert r1.diagnostics["iterations"] == r2.diagnostics["iterations"]
    # and through the store
    store = ResultsStore()
    i1, i2 = store.add(r1, load_scenario(path)), store.add(r2, load_scenario(path))
    pd.testing.assert_frame_equal(store.get(i1).regions, store.get(i2).regions, check_exact=True)
    assert store.list().set_index("run_id").loc[[i1, i2], "scenario_sha256"].nunique() == 1


def test_groups_commands(capsys):
    assert main(["groups", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = {g["name"] for g in doc["groups"]}
    assert {
        "EU",
        "ASEAN",
        "CPTPP",
        "RCEP",
        "USMCA",
        "BRICS",
        "G7",
        "G20",
        "MENA",
        "LAC",
        "SSA",
        "LLDC",
        "OECD",
    } <= names
    assert main(["groups", "show", "EU@2004", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["members"]) == 25
    assert main(["groups", "show", "EU@1950"]) == 2
    assert "no members in 1950" in capsys.readouterr().err
    assert main(["groups", "show", "ASAEN"]) == 2
    assert "ASEAN" in capsys.readouterr().err


def test_groups_show_on_dataset(capsys):
    require_dataset("cp2015")
    assert main(["groups", "show", "CPTPP", "--dataset", "cp2015", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc["absent"]) == {"BRN", "MYS", "PER", "SGP", "VNM"} and doc["absent_in"] == "ROW"
