"""``kaifang estimate FILE``: exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import require_dataset
from kaifang.cli import main

ROOT = Path(__file__).resolve().parents[2]

SPEC = """
dataset = "agtpa"
file = "agtpa_applications.csv.gz"
years = [2006]
depvar = "trade"
regressors = ["ln_dist", "cntg", "intl_border"]
fixed_effects = ["exporter", "importer"]
"""


def test_estimate_prints_json_with_coefficients_and_diagnostics(tmp_path, capsys):
    require_dataset("agtpa")
    f = tmp_path / "borders.toml"
    f.write_text(SPEC)
    fe = tmp_path / "fe.csv"
    assert main(["estimate", str(f), "--json", "--fixed-effects", str(fe)]) == 0
    doc = json.loads(capsys.readouterr().out)
    terms = {c["term"]: c for c in doc["coefficients"]}
    assert (
        terms["intl_border"]["estimate"] == -2.4744 or abs(terms["intl_border"]["estimate"] + 2.47445) < 1e-4
    )
    assert doc["diagnostics"]["nobs"] == 69 * 69
    assert doc["fixed_effects"] == {"exporter": 69, "importer": 69}
    assert fe.read_text().startswith("dimension,label,value")


def test_estimate_table_output(tmp_path, capsys):
    require_dataset("agtpa")
    f = tmp_path / "borders.toml"
    f.write_text(SPEC)
    assert main(["estimate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "intl_border" in out and "observations 4761" in out


def test_misspelled_column_exits_2_listing_columns(tmp_path, capsys):
    require_dataset("agtpa")
    f = tmp_path / "bad.toml"
    f.write_text(SPEC.replace('"cntg"', '"contig"'))
    assert main(["estimate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "'contig'" in err and "Available columns" in err and "cntg" in err


def test_unknown_field_and_missing_file_exit_2(tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_text(SPEC + 'clusterr = "pair_id"\n')
    assert main(["estimate", str(f)]) == 2
    assert "unknown field 'clusterr'" in capsys.readouterr().err
    assert main(["estimate", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_shipped_specs_validate():
    from kaifang.estimate import load_spec

    for p in sorted((ROOT / "estimations").glob("*.toml")):
        spec = load_spec(p)
        assert spec.dataset == "agtpa"
