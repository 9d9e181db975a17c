"""Published numbers used by the ims2025 tests (sources in README.md of this folder).

Ignatenko, Lashkaripour, Macedoni and Simonovska (2025), "Making America Great Again? The
Economic Impacts of Liberation Day Tariffs", Journal of International Economics 157, 104138.
Percent changes. The tables print welfare and employment with two decimals and the deficit and
consumer prices with one, so a reproduction must lie within half a unit of the last digit:
0.005 and 0.05 percentage points.
"""

#: Half a unit of the last printed digit, by column.
TOLERANCE = {"welfare_pct": 0.005, "deficit_pct": 0.05, "employment_pct": 0.005, "cpi_pct": 0.05}

#: (nu_nonUS, nu_US) that the authors' replication code (MATLAB) calibrates on these data, 6 decimals.
NU_AUTHORS = (0.114335, 0.270471)
NU_DECIMALS = 6

#: Abstract: "The optimal tariff is 19%" (whole percent; tolerance half a point).
OPTIMAL_TARIFF_ABSTRACT = 0.19

#: Table 1, USA welfare: case 1 USTR tariffs + income-tax relief, case 2 + lump-sum rebate,
#: case 3 optimal US tariff + income-tax relief; no retaliation.
TABLE1_USA_WELFARE = {"ustr": 1.13, "lump_sum": -0.01, "optimal_us_tariff": 1.79}

_COLS = ("welfare_pct", "deficit_pct", "employment_pct", "cpi_pct")


def _rows(usa, chn, non_us):
    return {g: dict(zip(_COLS, v, strict=True)) for g, v in (("USA", usa), ("CHN", chn), ("non-US", non_us))}


#: Table 2 (retaliation), rows USA, CHN and the non-US average weighted by baseline spending E_i;
#: columns welfare, deficit, employment, consumer prices. Case (1) USTR tariffs + reciprocal
#: retaliation; (3) USTR tariffs + optimal retaliation; (4) optimal US tariff + optimal retaliation.
TABLE2 = {
    "reciprocal_retaliation": _rows(
        (-0.36, -26.7, -0.18, 7.5), (-0.82, 6.2, -0.16, -3.7), (-0.46, 19.8, -0.13, -2.7)
    ),
    "optimal_retaliation": _rows(
        (-0.75, -29.0, -0.32, 6.0), (-0.65, 6.3, -0.13, -3.3), (-0.43, 22.4, -0.13, -2.2)
    ),
    "optimal_tariff_optimal_retaliation": _rows(
        (-0.32, -28.4, -0.20, 4.2), (-0.36, 4.2, -0.08, -2.1), (-0.39, 25.1, -0.13, -1.5)
    ),
}

#: Table 8 (US-China trade wars; 10 % both ways between the USA and everyone, China at the USTR
#: rate or at 108 % both ways), welfare of the USA and China.
TABLE8_WELFARE = {
    "us_china_trade_war": {"USA": -0.09, "CHN": -0.67},
    "us_china_trade_war_108": {"USA": -0.29, "CHN": -0.79},
}

#: Table 9 (variants), USA welfare, as reported for the authors' replication package by the
#: public port github.com/JoeLoera/liberation-day-replication (python_output/REPLICATION_NOTES.md).
TABLE9_USA_WELFARE = {"incomplete_pass_through": 1.36, "eaton_kortum": 1.24}
