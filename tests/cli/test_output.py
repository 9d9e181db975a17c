"""What `kaifang run`, `runs show` and `compare` print: nothing cut, everything named."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from kaifang.cli import main
from kaifang.results import RunResult
from kaifang.store import ResultsStore

OUTCOMES = [
    "welfare_pct",
    "terms_of_trade_pct",
    "volume_of_trade_pct",
    "real_wage_pct",
    "exports_pct",
    "imports_pct",
    "real_income_pct",
    "wage_pct",
    "price_index_pct",
    "tariff_revenue_pct",
    "technical_efficiency_pct",
]


def wide_result(name: str = "wide", shift: float = 0.0, seed: int = 7) -> RunResult:
    """11 outcome columns of numbers with many digits, an interval pair, a summary table."""
    rng = np.random.default_rng(seed)
    regions = pd.DataFrame({"region": [f"R{i:02d}" for i in range(12)]})
    for j, c in enumerate(OUTCOMES):
        regions[c] = rng.normal(scale=10 ** (j % 4), size=12) - 0.123456 + shift
    regions["welfare_pct_lo"] = regions["welfare_pct"] - 1.5
    regions["welfare_pct_hi"] = regions["welfare_pct"] + 2.25
    averages = pd.DataFrame({"group": ["R00", "others (average)"], "welfare_pct": [0.5, -0.25]})
    sectors = pd.DataFrame(
        {"region": ["R00", "R01"], "sector": ["goods", "goods"], "output_pct": [1.0, np.nan]}
    )
    return RunResult(
        model="caliendo_parro",
        scenario=name,
        regions=regions,
        tables={"averages": averages, "sectors": sectors},
        diagnostics={
            "converged": True,
            "iterations": 43,
            "residual": 9.969092218398146e-11,
            "solve_seconds": 0.07276245899993228,
        },
        provenance={"dataset": "demo"},
    )


@pytest.fixture
def narrow(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def solve_as(monkeypatch):
    """`kaifang run` returns the given result instead of solving (the printing is tested)."""
    import kaifang.models

    chosen: dict[str, RunResult] = {}

    def fake(run, progress=None):
        sc = run.scenario
        return chosen.get(sc.name) or wide_result(sc.name)

    monkeypatch.setattr(kaifang.models, "solve_prepared", fake)
    return chosen


def _scenario(tmp_path, name: str = "wide"):
    f = tmp_path / f"{name}.toml"
    f.write_text(f'name = "{name}"\nmodel = "caliendo_parro"\ndataset = "demo"\n')
    return f


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d[\d,]*\.\d+", text)


def test_numbers_are_never_cut_in_80_columns(tmp_path, capsys, narrow, solve_as):
    res = wide_result()
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store", "--columns", "all"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    printed = set(_numbers(out))
    for c in OUTCOMES:
        for v in res.regions[c]:
            assert f"{v:,.3f}" in printed, (c, v)


def test_default_columns_name_those_left_out(tmp_path, capsys, narrow, solve_as):
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "not shown: price_index_pct, tariff_revenue_pct, technical_efficiency_pct" in out
    assert "more columns in the saved results" not in out


def test_intervals_are_shown_with_their_column(tmp_path, capsys, solve_as):
    res = wide_result()
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "welfare_pct [lo, hi]" in " ".join(out.split()).replace("_ ", "_")
    w = res.regions.loc[0, "welfare_pct"]
    assert f"{w:,.3f} [{w - 1.5:,.3f}, {w + 2.25:,.3f}]" in out
    assert "welfare_pct_lo" not in out


def test_diagnostics_are_formatted(tmp_path, capsys, solve_as):
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "diagnostics: converged, 43 iterations, residual 9.97e-11, solve 0.07 s" in out
    assert "9.969092218398146e-11" not in out and "0.07276245899993228" not in out


def test_summary_table_is_printed_after_the_main_table(tmp_path, capsys, solve_as):
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "averages" in out and "others (average)" in out and "-0.250" in out
    assert out.index("R11") < out.index("others (average)")


def test_regions_sort_top(tmp_path, capsys, solve_as):
    res = wide_result()
    f = str(_scenario(tmp_path))
    assert main(["run", f, "--no-save", "--no-store", "--regions", "R03,r07", "--regions", "R01"]) == 0
    out = capsys.readouterr().out
    shown = re.findall(r"\bR\d\d\b", out.split("averages")[0])
    assert sorted(set(shown)) == ["R01", "R03", "R07"]
    assert "3 of 12 rows" in out
    assert main(["run", f, "--no-save", "--no-store", "--sort", "-real_wage_pct", "--top", "3"]) == 0
    out = capsys.readouterr().out.split("averages")[0]
    expected = list(res.regions.sort_values("real_wage_pct", ascending=False)["region"][:3])
    assert re.findall(r"\bR\d\d\b", out)[:3] == expected
    assert main(["run", f, "--no-save", "--no-store", "--top", "2"]) == 0  # the 2 largest welfare changes
    out = capsys.readouterr().out.split("averages")[0]
    assert re.findall(r"\bR\d\d\b", out)[:2] == list(res.regions.nlargest(2, "welfare_pct")["region"])
    assert main(["run", f, "--no-save", "--no-store", "--sort", "welfare_pct:asc", "--top", "1"]) == 0
    out = capsys.readouterr().out.split("averages")[0]
    assert re.findall(r"\bR\d\d\b", out)[0] == res.regions.nsmallest(1, "welfare_pct")["region"].iloc[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--regions", "XYZ"], r"--regions 'XYZ': not a region of this table nor a built-in country group"),
        (["--sort", "welfar_pct"], r"--sort 'welfar_pct': no column 'welfar_pct'.*welfare_pct"),
        (["--sort", "welfare_pct:down"], r"must be asc or desc"),
        (["--top", "0"], r"--top 0: give a positive number"),
        (["--columns", "wage"], r"--columns 'wage': no such column"),
        (["--table", "sector"], r"--table 'sector': this run has no such table.*sectors"),
    ],
)
def test_bad_table_options_exit_2(tmp_path, capsys, solve_as, args, message):
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store", *args]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert re.search(message, err), err


def test_runs_show_prints_any_table(tmp_path, capsys, solve_as):
    store = tmp_path / "st.duckdb"
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--store", str(store)]) == 0
    rid = ResultsStore(store).run_ids()[0]
    capsys.readouterr()
    assert main(["runs", "show", rid, "--store", str(store), "--table", "sectors"]) == 0
    out = capsys.readouterr().out
    assert "output_pct" in out and "goods" in out and "1.000" in out and "—" in out
    assert (
        main(["runs", "show", rid, "--store", str(store), "--regions", "R02", "--columns", "wage_pct"]) == 0
    )
    out = capsys.readouterr().out
    w = ResultsStore(store).get(rid).regions.set_index("region").loc["R02", "wage_pct"]
    assert f"{w:,.3f}" in out and "welfare_pct " not in out.split("averages")[0]


def test_compare_headers_tell_runs_apart(tmp_path, capsys, narrow, solve_as):
    long_a = "a-scenario-with-a-rather-long-name-version-1"
    long_b = "a-scenario-with-a-rather-long-name-version-2"
    solve_as[long_a] = wide_result(long_a)
    solve_as[long_b] = wide_result(long_b, shift=1.0)
    fa, fb = _scenario(tmp_path, long_a), _scenario(tmp_path, long_b)
    assert main(["compare", str(fa), str(fb), "--no-store", "-o", "welfare_pct", "-o", "real_wage_pct"]) == 0
    out = capsys.readouterr().out
    assert "…" not in out and max(len(x) for x in out.splitlines()) <= 80
    header = out.split("┡")[0]
    assert re.search(r"welfare_pct\s*┃\s*welfare_pct\s*┃", header) and header.count("real_wage_") == 2
    assert re.search(r"┃\s*A\s*┃\s*B\s*┃\s*A\s*┃\s*B\s*┃", header)  # a key per run under each outcome
    flat = " ".join(out.split())
    assert f"A: {long_a}" in flat and f"B: {long_b}" in flat
    wa = solve_as[long_a].regions["welfare_pct"]
    wb = solve_as[long_b].regions["welfare_pct"]
    printed = set(_numbers(out))
    assert all(f"{v:,.3f}" in printed for v in [*wa, *wb])


def test_compare_sort_top_regions(tmp_path, capsys, solve_as):
    solve_as["a"] = wide_result("a")
    solve_as["b"] = wide_result("b", seed=8)
    fa, fb = _scenario(tmp_path, "a"), _scenario(tmp_path, "b")
    args = ["compare", str(fa), str(fb), "--no-store", "-o", "welfare_pct"]
    assert main([*args, "--sort", "-welfare_pct", "--top", "2"]) == 0
    out = capsys.readouterr().out
    assert re.findall(r"\bR\d\d\b", out) == list(solve_as["a"].regions.nlargest(2, "welfare_pct")["region"])
    assert main([*args, "--regions", "R05"]) == 0
    assert re.findall(r"\bR\d\d\b", capsys.readouterr().out) == ["R05"]
    assert main([*args, "--sort", "welfare_pct@B:asc", "--top", "1"]) == 0  # by the second run's values
    smallest_b = solve_as["b"].regions.nsmallest(1, "welfare_pct")["region"].iloc[0]
    assert smallest_b != solve_as["a"].regions.nsmallest(1, "welfare_pct")["region"].iloc[0]
    assert re.findall(r"\bR\d\d\b", capsys.readouterr().out) == [smallest_b]


def test_control_characters_in_names_are_escaped(tmp_path, capsys):
    from kaifang.scenario import parse_scenario

    store = ResultsStore(tmp_path / "st.duckdb")
    sc = parse_scenario('name = "ok"\nmodel = "caliendo_parro"\ndataset = "demo"\n')
    rid = store.add(wide_result("evil\x1b[2J\x00name\u202e"), sc)
    assert main(["runs", "list", "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "\x00" not in out and "\u202e" not in out
    assert "\\x1b[2J\\x00name\\u202e" in " ".join(out.split()).replace(" ", "")
    assert main(["runs", "show", rid, "--store", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out


def test_no_trade_cells_print_as_no_trade(capsys):
    """The demo's Services sector has no international trade: its export and import changes
    print as 'no trade', and the flag itself is not listed as a column."""
    from kaifang.cli import main

    assert main(["run", "scenarios/demo-tariff.toml", "--no-save", "--no-store", "--table", "sectors"]) == 0
    out = capsys.readouterr().out
    services = [line for line in out.splitlines() if "Services" in line]
    assert services and all(line.count("no trade") == 2 for line in services)
    assert "no_trade" not in out


def test_a_table_world_says_its_baseline_has_no_tariffs(tmp_path, capsys, solve_as):
    """Runs on input-output tables (no tariffs recorded) say so under the table."""
    res = wide_result()
    solve_as["wide"] = RunResult(
        model=res.model,
        scenario=res.scenario,
        regions=res.regions,
        diagnostics=res.diagnostics,
        provenance={**res.provenance, "baseline_tariffs": "zero: the input-output table records no tariffs"},
    )
    assert main(["run", str(_scenario(tmp_path)), "--no-save", "--no-store"]) == 0
    assert "baseline tariffs: zero: the input-output table records no tariffs" in capsys.readouterr().out
