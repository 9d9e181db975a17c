"""The ims2025 runner through the command line: JSON output, policies, and bad input (exit 2)."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.cli import main

pytestmark = pytest.mark.data


@pytest.fixture(autouse=True)
def _needs_data():
    require_dataset("liberation2025")


HEAD = """\
name = "t"
model = "ims2025"
dataset = "liberation2025"
"""

USTR_SHOCK = """
[[shocks]]
type = "tariff"
op = "set"
importer = "USA"
exporter = "all"
sector = "goods"
from_table = "ustr2025"
"""

COLUMNS = [
    "region",
    "welfare_pct",
    "deficit_pct",
    "exports_to_gdp_pct",
    "imports_to_gdp_pct",
    "employment_pct",
    "cpi_pct",
    "tariff_revenue_share",
]


def _run(tmp_path: Path, text: str, capsys) -> tuple[int, str, str]:
    f = tmp_path / "s.toml"
    f.write_text(textwrap.dedent(text))
    rc = main(["run", str(f), "--json", "--no-save"])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_ustr_json_document(scenarios_dir, capsys):
    rc = main(["run", str(scenarios_dir / "liberation-day-ustr.toml"), "--json", "--no-save"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["regions"][0]) == COLUMNS
    assert len(doc["regions"]) == 194
    d = doc["diagnostics"]
    assert d["converged"] and d["residual"] <= 1e-10 and d["solve_seconds"] > 0 and d["iterations"] >= 1
    p = doc["provenance"]
    for key in (
        "dataset",
        "files",
        "scenario_sha256",
        "scenario_text",
        "parameters",
        "solver",
        "kaifang_version",
    ):
        assert key in p
    assert p["dataset"] == "liberation2025" and len(p["files"]) == 4
    usa = next(r for r in doc["regions"] if r["region"] == "USA")
    assert usa["welfare_pct"] == pytest.approx(1.13, abs=0.005)  # Table 1, case 1
    assert usa["tariff_revenue_share"] > 0
    # every model states its welfare measure; this one is the paper's exact W_hat
    assert "W_hat_i = delta_i E_hat_i/P_hat_i" in d["welfare_measure"]
    assert "exact" in d["welfare_measure"]


def test_averages_table_is_the_spending_weighted_mean(scenarios_dir):
    """tables["averages"]: rows USA, CHN, non-US; the non-US row is the mean over the 193 other
    economies weighted by baseline spending E_i = sum_j X_ji (own sales built from GDP),
    recomputed here from the regions table and the calibrated flows."""
    import kaifang

    res = kaifang.run(scenarios_dir / "liberation-day-reciprocal-retaliation.toml")
    avg = res.tables["averages"]
    assert list(avg.columns) == ["group", "welfare_pct", "deficit_pct", "employment_pct", "cpi_pct"]
    assert list(avg["group"]) == ["USA", "CHN", "non-US"]
    from kaifang.baseline.ims2025 import one_sector_baseline

    base = one_sector_baseline()
    E = base["flows"].sum("exporter").values  # flows[importer, exporter]
    reg = res.regions.set_index("region")
    others = [c for c in reg.index if c != "USA"]
    w = E[[list(reg.index).index(c) for c in others]]
    for col in ("welfare_pct", "deficit_pct", "employment_pct", "cpi_pct"):
        v = reg.loc[others, col].to_numpy()
        assert float(avg.loc[2, col]) == pytest.approx(float((v * w).sum() / w.sum()), rel=1e-12)
        assert float(avg.loc[0, col]) == reg.loc["USA", col]
        assert float(avg.loc[1, col]) == reg.loc["CHN", col]


def test_zero_tariff_scenario_changes_nothing(tmp_path, capsys):
    rc, out, _ = _run(
        tmp_path,
        HEAD + '[[shocks]]\ntype = "tariff"\nop = "set"\nimporter = "USA"\nsector = "goods"\nvalue = 0\n',
        capsys,
    )
    assert rc == 0
    doc = json.loads(out)
    for r in doc["regions"]:
        for c in COLUMNS[1:]:
            assert r[c] == pytest.approx(0.0, abs=1e-9), (r["region"], c)


def test_eu_and_china_retaliate_optimally_others_do_not(tmp_path, capsys):
    """A coalition (a user-defined EU group + China) retaliates optimally, others do not."""
    eu = ["AUT", "BEL", "DEU", "FRA", "ITA", "NLD", "ESP", "POL", "SWE"]
    text = (
        HEAD
        + f"[groups]\nEU = {json.dumps(eu)}\n"
        + USTR_SHOCK
        + '\n[[policy.retaliation]]\nkind = "optimal"\nagainst = "USA"\nby = ["EU", "CHN"]\n'
    )
    rc, out, _ = _run(tmp_path, text, capsys)
    assert rc == 0
    doc = json.loads(out)
    tariffs = {(r["importer"], r["exporter"]) for r in _tariffs(doc, tmp_path)}
    assert {("CHN", "USA"), ("DEU", "USA")} <= tariffs
    assert ("JPN", "USA") not in tariffs and ("CAN", "USA") not in tariffs
    entry = doc["provenance"]["parameters"]["policy_rates"]["retaliation[0]"]
    assert entry["kind"] == "optimal" and entry["against"] == "USA" and entry["members"] == len(eu) + 1
    assert len(entry["rates"]) == 1 and 0 < entry["rates"][0] < 1  # members share one nu, so one phi


def _tariffs(doc, tmp_path):
    import kaifang

    res = kaifang.run(tmp_path / "s.toml")
    return res.tables["tariffs"].to_dict(orient="records")


def _user_tariffs(tmp_path: Path, lines: list[str]) -> str:
    (tmp_path / "mine.csv").write_text("applied_tariff\n" + "\n".join(lines) + "\n")
    return HEAD + '[baseline]\ntariff_file = "mine.csv"\n' + USTR_SHOCK


def test_user_tariff_file_is_used(tmp_path, capsys):
    rc, out, _ = _run(tmp_path, _user_tariffs(tmp_path, ["0"] * 194), capsys)
    assert rc == 0
    doc = json.loads(out)
    # the floor still applies: 10 % on everyone
    assert any("mine.csv" in k for k in doc["provenance"]["files"])


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["0.1"] * 193, r"mine.csv: the tariff file has 193 value\(s\), expected 194"),
        (["0.1"] * 5 + ["-0.2"] + ["0.1"] * 188, r"mine.csv: the tariff on ARG \(row 7\) is -0.2, negative"),
    ],
    ids=["wrong_length", "negative_rate"],
)
def test_bad_tariff_file_exit_2(tmp_path, capsys, lines, message):
    rc, _, err = _run(tmp_path, _user_tariffs(tmp_path, lines), capsys)
    assert rc == 2
    assert "Traceback" not in err
    import re

    assert re.search(message, " ".join(err.split())), err


def test_missing_tariff_file_exit_2(tmp_path, capsys):
    rc, _, err = _run(tmp_path, HEAD + '[baseline]\ntariff_file = "nowhere.csv"\n' + USTR_SHOCK, capsys)
    assert rc == 2
    assert "nowhere.csv" in err and "does not exist" in err


def test_missing_data_file_exit_2(tmp_path, capsys, monkeypatch):
    """A data file in neither mirror nor cache, and no download possible: exit 2 with the fix."""
    from kaifang.data import locate

    mirror = tmp_path / "mirror" / "liberation2025"
    mirror.mkdir(parents=True)
    for name in ("country_labels.csv", "trade_cepii.csv", "tariffs.csv"):  # gdp.csv missing
        shutil.copy(locate("liberation2025", name), mirror / name)
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    import pooch

    monkeypatch.setattr(pooch, "retrieve", no_network)
    rc, _, err = _run(tmp_path, HEAD + USTR_SHOCK, capsys)
    assert rc == 2
    assert "gdp.csv" in err and "kaifang data fetch liberation2025" in " ".join(err.split())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[[policy.retaliation]]\nkind = "optimal"\nagainst = "USX"\n', r"unknown region 'USX'.*'USA'"),
        ('[policy]\noptimal_tariff = "Chnia"\n', r"policy.optimal_tariff.*unknown region 'Chnia'"),
        ('[[policy.retaliation]]\nkind = "tit-for-tat"\nagainst = "USA"\n', r"policy.retaliation\[0\].kind"),
        ('[parameters]\npass_through = "partial"\n', r"parameters.pass_through.*'complete' or 'incomplete'"),
        (
            '[policy]\noptimal_tariff = "USA"\noptimal_tariff_denominator = "gdp"\n',
            r"policy.optimal_tariff_denominator.*'spending' or 'income'",
        ),
        (
            '[policy]\noptimal_tariff_denominator = "income"\n',
            r"'policy.optimal_tariff_denominator' has value 'income' but no 'policy.optimal_tariff'",
        ),
        ('[parameters]\nrevenue = "lump_sum"\n', r"unknown field 'parameters.revenue'.*revenue_use"),
        ("[solver]\nmax_iterations = 1\n", r"did not converge.*after 1 iteration"),
        ('[[shocks]]\ntype = "iceberg"\nvalue = -10\n', r"iceberg shock; the ims2025 model has tariffs only"),
        (
            '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "USA"\nsector = "services"\nvalue = 5\n',
            r"unknown sector 'services'.*goods",
        ),
    ],
    ids=[
        "unknown_target",
        "unknown_optimal",
        "bad_kind",
        "bad_pass_through",
        "bad_denominator",
        "denominator_without_optimal_tariff",
        "unknown_field",
        "non_convergent",
        "iceberg",
        "bad_sector",
    ],
)
def test_bad_scenario_exit_2(tmp_path, capsys, extra, message):
    import re

    rc, _, err = _run(tmp_path, HEAD + USTR_SHOCK + "\n" + extra, capsys)
    assert rc == 2, err
    assert "Traceback" not in err
    assert re.search(message, " ".join(err.split()), re.S), err


def test_wrong_dataset_exit_2(tmp_path, capsys):
    rc, _, err = _run(tmp_path, HEAD.replace("liberation2025", "cp2015"), capsys)
    assert rc == 2 and "runs on dataset = 'liberation2025'" in " ".join(err.split())


def test_policy_order_optimal_tariff_then_reciprocal(tmp_path, capsys):
    """Reciprocal retaliation mirrors the optimal US tariff when both are asked for."""
    import kaifang

    text = (
        HEAD
        + '[policy]\noptimal_tariff = "USA"\n[[policy.retaliation]]\nkind = "reciprocal"\nagainst = "USA"\n'
    )
    (tmp_path / "s.toml").write_text(text)
    res = kaifang.run(tmp_path / "s.toml")
    tab = res.tables["tariffs"]
    into_us = tab[tab.importer == "USA"].tariff.to_numpy()
    from_us = tab[tab.exporter == "USA"].tariff.to_numpy()
    assert len(into_us) == 193 and len(from_us) == 193
    np.testing.assert_allclose(from_us, into_us[0])
    np.testing.assert_allclose(into_us, res.provenance["parameters"]["policy_rates"]["optimal_tariff[USA]"])
