"""Command-line basics: exit codes and messages for user mistakes, never a traceback."""

from __future__ import annotations

from kaifang.cli import main


def test_missing_scenario_file_exit_2(tmp_path, capsys):
    rc = main(["run", str(tmp_path / "nope.toml"), "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "does not exist" in err and "Traceback" not in err


def test_malformed_toml_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text('name = "x"\nmodel = \n')
    rc = main(["run", str(f), "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "bad.toml" in err and "not valid TOML" in err and "line 2" in err


def test_unknown_field_suggests(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('name = "x"\nmodel = "caliendo_parro"\ndataset = "demo"\nshockz = []\n')
    rc = main(["run", str(f), "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "shockz" in err and "shocks" in err


def test_unknown_model_suggests(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text('name = "x"\nmodel = "caliendo-parro"\ndataset = "demo"\n')
    rc = main(["run", str(f), "--no-save"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "caliendo_parro" in err


def test_data_list_json(capsys):
    import json

    assert main(["data", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in doc["datasets"]} >= {"cp2015", "agtpa", "wiod44", "liberation2025", "demo"}


def test_data_list_shows_licence_and_source(capsys, monkeypatch):
    import json

    from kaifang.data import DATASETS

    assert main(["data", "list", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for d in doc["datasets"]:
        assert d["licence"], d["name"]
        ds = DATASETS[d["name"]]
        assert d["licence"] == ds.licence and d["homepage"] == ds.homepage
        if not ds.synthetic and ds.access != "user_file":  # a user's own table has no source address
            assert d["homepage"].startswith("https://"), d["name"]
    by_name = {d["name"]: d for d in doc["datasets"]}
    assert by_name["agtpa"]["licence"].startswith("CC BY 4.0")  # the tradepolicy package's DESCRIPTION
    assert by_name["wiod44"]["licence"].startswith("GPL-3")  # the GEGravity package's DESCRIPTION
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "licence" in out and "…" not in out
    for d in doc["datasets"]:
        if d["homepage"]:
            assert d["homepage"] in out  # the source address is printed whole
