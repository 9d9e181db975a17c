"""The paper's published numbers: Tables 1, 2, 8 and 9 and the optimal tariff of the abstract.

Source: Ignatenko, Lashkaripour, Macedoni and Simonovska (2025), "Making America Great Again?
The Economic Impacts of Liberation Day Tariffs", Journal of International Economics. The values
and their sources are in ``tests/reference/ims2025.py`` and ``tests/reference/README.md``; the
tolerance is half a unit of the last printed digit (0.005 pp for two decimals, 0.05 pp for one).
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.models.ims2025 import ModelSettings, build_economy, outcome_arrays, solve
from kaifang.models.ims2025.policy import optimal_tariff, optimal_tariff_rate
from reference import ims2025 as pub

pytestmark = pytest.mark.data

ROUNDING = pub.TOLERANCE["welfare_pct"]  # two decimals


@pytest.fixture(autouse=True)
def _needs_data():
    require_dataset("liberation2025")


@pytest.mark.parametrize(
    ("revenue_use", "optimal", "case"),
    [
        ("income_tax_relief", False, "ustr"),  # Table 1, case 1
        ("lump_sum", False, "lump_sum"),  # Table 1, case 2
        ("income_tax_relief", True, "optimal_us_tariff"),  # Table 1, case 3
    ],
)
def test_table1_usa_welfare(cal, ustr, revenue_use, optimal, case):
    econ = build_economy(cal, ModelSettings(revenue_use=revenue_use))
    t = optimal_tariff(0 * ustr, econ, cal.us) if optimal else ustr
    sol = solve(econ, t)
    welfare = outcome_arrays(econ, sol.eq)["welfare_pct"][cal.us]
    assert welfare == pytest.approx(pub.TABLE1_USA_WELFARE[case], abs=ROUNDING)


def test_scenario_files_reproduce_table1(scenarios_dir):
    """The shipped scenario files give the same USA welfare as Table 1 (cases 1-3)."""
    import kaifang

    for name, case in [
        ("liberation-day-ustr.toml", "ustr"),
        ("liberation-day-lump-sum.toml", "lump_sum"),
        ("liberation-day-optimal-us-tariff.toml", "optimal_us_tariff"),
    ]:
        res = kaifang.run(scenarios_dir / name)
        usa = res.regions.set_index("region").loc["USA", "welfare_pct"]
        assert usa == pytest.approx(pub.TABLE1_USA_WELFARE[case], abs=ROUNDING), name
        assert res.diagnostics["converged"] and res.diagnostics["residual"] <= 1e-10


def _check_averages(res, published: dict[str, dict[str, float]], name: str) -> None:
    avg = res.tables["averages"].set_index("group")
    assert list(avg.index) == ["USA", "CHN", "non-US"], name
    for group, row in published.items():
        for col, value in row.items():
            got = float(avg.loc[group, col])
            assert got == pytest.approx(value, abs=pub.TOLERANCE[col]), (name, group, col, got, value)


@pytest.mark.parametrize(
    ("scenario", "case"),
    [
        ("liberation-day-reciprocal-retaliation.toml", "reciprocal_retaliation"),  # case (1)
        ("liberation-day-optimal-retaliation.toml", "optimal_retaliation"),  # case (3)
        (
            "liberation-day-optimal-tariff-optimal-retaliation.toml",
            "optimal_tariff_optimal_retaliation",
        ),  # (4)
    ],
    ids=["case1_reciprocal", "case3_optimal_retaliation", "case4_optimal_tariff_and_retaliation"],
)
def test_table2_scenarios(scenarios_dir, scenario, case):
    """Table 2: welfare, deficit, employment and CPI of the USA, China and the non-US average
    (weighted by E_i), each to the table's rounding."""
    import kaifang

    res = kaifang.run(scenarios_dir / scenario)
    assert res.diagnostics["converged"] and res.diagnostics["residual"] <= 1e-10
    _check_averages(res, pub.TABLE2[case], scenario)


@pytest.mark.parametrize(
    ("scenario", "case"),
    [
        ("liberation-day-us-china-trade-war.toml", "us_china_trade_war"),
        ("liberation-day-us-china-trade-war-108.toml", "us_china_trade_war_108"),
    ],
    ids=["china_at_ustr_rate", "china_at_108"],
)
def test_table8_us_china_trade_wars(scenarios_dir, scenario, case):
    """Table 8: welfare of the USA and China in the two US-China trade wars."""
    import kaifang

    res = kaifang.run(scenarios_dir / scenario)
    welfare = res.regions.set_index("region")["welfare_pct"]
    for region, value in pub.TABLE8_WELFARE[case].items():
        assert float(welfare[region]) == pytest.approx(value, abs=ROUNDING), (scenario, region)


@pytest.mark.parametrize(
    ("scenario", "china"),
    [("liberation-day-us-china-trade-war.toml", 0.54), ("liberation-day-us-china-trade-war-108.toml", 1.08)],
)
def test_table8_scenarios_apply_the_cases_tariffs(scenarios_dir, data, scenario, china):
    """The Table 8 files set 10 % both ways between the USA and everyone, China at its own rate
    both ways (0.54 is the USTR rate on China in tariffs.csv), and nothing else."""
    import kaifang

    assert data.tariffs[data.index("CHN")] == pytest.approx(0.54)
    tab = kaifang.run(scenarios_dir / scenario).tables["tariffs"]
    pairs = {(r.importer, r.exporter): r.tariff for r in tab.itertuples()}
    others = [c for c in data.regions if c not in ("USA", "CHN")]
    expected = {("USA", c): 0.10 for c in others} | {(c, "USA"): 0.10 for c in others}
    expected |= {("USA", "CHN"): china, ("CHN", "USA"): china}
    assert pairs.keys() == expected.keys()
    np.testing.assert_allclose([pairs[k] for k in expected], list(expected.values()), rtol=0, atol=1e-12)


def test_optimal_tariff_of_the_abstract_needs_income_in_delta(econ, cal):
    """The abstract's "19 %" is the rate with income in delta's denominator (18.5 %); Table 1's
    formula (spending) gives 21.8 %, which does not round to 19."""
    income = optimal_tariff_rate(econ, cal.us, "income")
    spending = optimal_tariff_rate(econ, cal.us)
    assert income == pytest.approx(pub.OPTIMAL_TARIFF_ABSTRACT, abs=0.005)
    assert abs(spending - pub.OPTIMAL_TARIFF_ABSTRACT) > 0.005


@pytest.mark.parametrize(
    ("settings", "case"),
    [
        (ModelSettings(pass_through="incomplete"), "incomplete_pass_through"),
        (ModelSettings(variant="eaton_kortum"), "eaton_kortum"),
    ],
    ids=["incomplete_pass_through", "eaton_kortum"],
)
def test_table9_variants_usa_welfare(cal, ustr, settings, case):
    econ = build_economy(cal, settings)
    welfare = outcome_arrays(econ, solve(econ, ustr).eq)["welfare_pct"][cal.us]
    assert welfare == pytest.approx(pub.TABLE9_USA_WELFARE[case], abs=ROUNDING)
