"""Estimation specifications that read the user's own CSV or Parquet file (``[data] file``)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from kaifang.cli import main
from kaifang.errors import DataError, DataUnavailableError, ScenarioError
from kaifang.estimate import load_spec, ppml, run_spec
from kaifang.estimate.synthetic import gravity_panel

SPEC = """
name = "own-panel"
depvar = "trade"
regressors = ["rta", "ln_tariff"]
fixed_effects = ["exporter#year", "importer#year", "pair"]
cluster = "pair"

[data]
file = "{file}"
"""


@pytest.fixture(scope="module")
def panel() -> tuple[pd.DataFrame, dict[str, float]]:
    g = gravity_panel(6_000, n_years=5, seed=21, zero_share=0.2)
    d = g.data[["exporter", "importer", "year", "pair", "trade", "rta", "ln_tariff"]].copy()
    # labels as a user's file has them: country codes as text
    d["exporter"] = "c" + d["exporter"].astype(str)
    d["importer"] = "c" + d["importer"].astype(str)
    return d, g.coef


def _write(folder, name, frame):
    path = folder / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, sep="\t" if name.endswith(".tsv") else ",")
    return path


@pytest.mark.parametrize("name", ["mypanel.csv", "mypanel.csv.gz", "mypanel.parquet", "mypanel.tsv"])
def test_spec_reads_the_file_relative_to_itself(tmp_path, monkeypatch, panel, name):
    d, truth = panel
    data_dir = tmp_path / "project" / "data"
    data_dir.mkdir(parents=True)
    _write(data_dir, name, d)
    spec_file = tmp_path / "project" / "own.toml"
    spec_file.write_text(SPEC.format(file=f"data/{name}"))
    monkeypatch.chdir(tmp_path)  # the path resolves from the spec's folder, not the working folder
    spec = load_spec(spec_file)
    est = run_spec(spec, source=str(spec_file))
    # the same model estimated on the table in memory: reading the file changes nothing
    ref = ppml(d, "trade", ["rta", "ln_tariff"], ["exporter#year", "importer#year", "pair"], cluster="pair")
    np.testing.assert_allclose(est.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(est.se.to_numpy(), ref.se.to_numpy(), rtol=1e-8)
    assert est.nobs == ref.nobs
    # and the panel's true coefficients are recovered (seeded draw, 4 standard errors)
    for k in ("rta", "ln_tariff"):
        assert abs(est[k] - truth[k]) < 4 * est.se[k], k


def test_columns_of_other_names_are_mapped(tmp_path, panel):
    d, _ = panel
    own = d.rename(columns={"exporter": "iso_o", "importer": "iso_d", "trade": "flow", "year": "t"})
    _write(tmp_path, "panel.csv", own)
    f = tmp_path / "own.toml"
    f.write_text(
        SPEC.format(file="panel.csv") + 'exporter = "iso_o"\nimporter = "iso_d"\ntrade = "flow"\nyear = "t"\n'
    )
    est = run_spec(load_spec(f), source=str(f))
    ref = ppml(d, "trade", ["rta", "ln_tariff"], ["exporter#year", "importer#year", "pair"], cluster="pair")
    np.testing.assert_allclose(est.coef.to_numpy(), ref.coef.to_numpy(), rtol=1e-10)


def test_missing_file_names_the_spec_field_value_and_a_close_name(tmp_path, panel):
    _write(tmp_path, "mypanel.csv", panel[0])
    f = tmp_path / "own.toml"
    f.write_text(SPEC.format(file="mypanle.csv"))
    with pytest.raises(
        DataUnavailableError,
        match=r"own\.toml: field 'data\.file' has value 'mypanle\.csv', but there is no such file .*"
        r"Did you mean 'mypanel\.csv'",
    ):
        load_spec(f)


def test_unknown_column_names_the_field_and_suggests_the_closest(tmp_path, panel):
    _write(tmp_path, "mypanel.csv", panel[0])
    f = tmp_path / "own.toml"
    f.write_text(SPEC.format(file="mypanel.csv").replace('"ln_tariff"', '"ln_tarif"'))
    with pytest.raises(
        DataError,
        match=r"own\.toml \(data file .*mypanel\.csv\): field 'regressors' names column 'ln_tarif', "
        r"which is not in the data\. Did you mean 'ln_tariff'\?.*Available columns: exporter, importer",
    ):
        run_spec(load_spec(f), source=str(f))


def test_text_regressor_names_field_column_and_value(tmp_path, panel):
    d = panel[0].copy()
    d["rta"] = np.where(np.arange(len(d)) == 7, "yes", d["rta"].astype(str))
    _write(tmp_path, "mypanel.csv", d)
    f = tmp_path / "own.toml"
    f.write_text(SPEC.format(file="mypanel.csv"))
    with pytest.raises(
        DataError,
        match=r"field 'regressors' names column 'rta', which must be numeric but holds text values; "
        r"e\.g\. 'yes' in row 7",
    ):
        run_spec(load_spec(f), source=str(f))


def test_mapping_to_a_missing_column_names_the_data_field(tmp_path, panel):
    _write(tmp_path, "mypanel.csv", panel[0])
    f = tmp_path / "own.toml"
    f.write_text(SPEC.format(file="mypanel.csv") + 'exporter = "iso_o"\n')
    with pytest.raises(
        DataError,
        match=r"the data have no exporter column 'iso_o'\..*field 'data\.exporter' has value 'iso_o', "
        r"which is not a column of the file",
    ):
        run_spec(load_spec(f), source=str(f))


def test_unknown_format_unreadable_file_and_conflicting_sources(tmp_path, panel):
    (tmp_path / "mypanel.xlsx").write_bytes(b"not a spreadsheet")
    f = tmp_path / "own.toml"
    f.write_text(SPEC.format(file="mypanel.xlsx"))
    with pytest.raises(
        DataError, match=r"field 'data\.file' names the data file .*whose format is not known"
    ):
        run_spec(load_spec(f), source=str(f))
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 but not really")
    f.write_text(SPEC.format(file="broken.parquet"))
    with pytest.raises(DataError, match=r"broken\.parquet', which cannot be read as PARQUET"):
        run_spec(load_spec(f), source=str(f))
    _write(tmp_path, "mypanel.csv", panel[0])
    f.write_text('dataset = "agtpa"\n' + SPEC.format(file="mypanel.csv"))
    with pytest.raises(ScenarioError, match=r"give either a registered data set .* or a data file"):
        load_spec(f)
    f.write_text(SPEC.format(file="mypanel.csv") + 'sep = ";"\n')
    with pytest.raises(ScenarioError, match=r"unknown field 'data\.sep'"):
        load_spec(f)


def test_cli_reads_the_file_and_exits_2_on_a_bad_column(tmp_path, panel, capsys):
    _write(tmp_path, "mypanel.parquet", panel[0])
    f = tmp_path / "own.toml"
    f.write_text(SPEC.format(file="mypanel.parquet"))
    cwd = os.getcwd()
    assert main(["estimate", str(f)]) == 0
    out = capsys.readouterr().out
    assert "own-panel" in out and "ln_tariff" in out
    f.write_text(SPEC.format(file="mypanel.parquet").replace('"pair"]', '"pairs"]'))
    assert main(["estimate", str(f)]) == 2
    err = capsys.readouterr().err
    assert "field 'fixed_effects' names column 'pairs'" in err and "Did you mean 'pair'" in err
    assert "Traceback" not in err
    assert os.getcwd() == cwd
