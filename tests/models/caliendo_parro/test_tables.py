"""Caliendo-Parro on worlds built from input-output tables (WIOD 2013 2011, ICIO, WIOD 2016, own files).

Why the numbers are right: equilibrium invariants on the real 2011 world (a zero shock changes
nothing; trade balance and labour-market clearing recomputed here from the solution's flows); two
closed forms -- the one-sector, no-input-output restriction reproduces the Arkolakis, Costinot and
Rodriguez-Clare (2012) formula and the one-sector structural gravity model solved by its own
solver; an exact invariance -- merging regions that are exact copies of each other leaves every
other region's results unchanged; and consistency -- the same table read from a user's long-format
file gives the same answers as from the registered data set.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from helpers import require_dataset
from io_tables import random_table, write_icio_csv, write_wiod2016_rdata
from kaifang.baseline import InputOutputTable, TableSpec, aggregate, from_table, input_output_table, to_table
from kaifang.models import run_scenario
from kaifang.models.caliendo_parro import solve
from kaifang.models.caliendo_parro.runner import load_baseline
from kaifang.scenario import parse_scenario


def _residuals(e):
    """Trade balance and labour-market clearing, recomputed from the solution's flows."""
    b = e.baseline
    n = b.n_regions
    x = e.shares * e.expenditure[:, None, :] / (1 + e.tariff_new)
    dom = np.array([x[k, k].sum() for k in range(n)])
    imports, exports = x.sum(axis=(1, 2)) - dom, x.sum(axis=(0, 2)) - dom
    wage_bill = e.w_hat * b.value_added
    labour = (b.gamma_va * x.sum(axis=0)).sum(axis=1)
    return (
        float(np.max(np.abs(imports - e.deficit_new - exports) / wage_bill)),
        float(np.max(np.abs(wage_bill - labour) / wage_bill)),
    )


@pytest.fixture(scope="module")
def wiod():
    require_dataset("wiod2013")
    b0, _ = load_baseline("wiod2013")
    e0 = solve(b0, b0.tariff, None, np.zeros(b0.n_regions))
    return b0, e0.to_baseline()


def test_the_2011_world(wiod):
    b0, _ = wiod
    assert b0.n_regions == 41 and b0.n_sectors == 35 and b0.year == 2011
    assert "ROU" in b0.regions and "ROM" not in b0.regions  # ISO 3166 code
    assert b0.tradable[16:34].all()  # services are traded
    assert b0.provenance["tariffs"].startswith("zero: the input-output table records no tariffs")
    assert b0.provenance["corrections"]["negative_final_cells"] == 43


def test_the_data_is_an_equilibrium_with_its_deficits(wiod):
    b0, _ = wiod
    e = solve(b0, b0.tariff, None, b0.deficit)
    np.testing.assert_allclose(e.w_hat, 1.0, atol=1e-10)
    np.testing.assert_allclose(e.p_hat, 1.0, atol=1e-10)


def test_zero_shock_changes_nothing(wiod):
    _, b1 = wiod
    e = solve(b1, b1.tariff, None, np.zeros(b1.n_regions))
    np.testing.assert_allclose(e.w_hat, 1.0, atol=1e-9)
    np.testing.assert_allclose(e.p_hat, 1.0, atol=1e-9)
    np.testing.assert_allclose(e.flows, b1.flows, rtol=1e-8, atol=1e-12 * b1.flows.max())


def test_tariff_and_embargo_equilibria_clear(wiod):
    _, b1 = wiod
    n = b1.n_regions
    usa, chn = b1.regions.index("USA"), b1.regions.index("CHN")
    tau = b1.tariff.copy()
    tau[usa, chn, :16] = 0.25
    tau[chn, usa, :16] = 0.25
    e = solve(b1, tau, None, np.zeros(n))
    tb, lm = _residuals(e)
    assert tb <= 1e-8 and lm <= 1e-8
    d_hat = np.ones_like(tau)
    d_hat[usa, chn, 16:] = d_hat[chn, usa, 16:] = 1e4  # services embargo
    e2 = solve(b1, b1.tariff, d_hat, np.zeros(n))
    tb, lm = _residuals(e2)
    assert tb <= 1e-8 and lm <= 1e-8


def _one_sector_no_io(table: InputOutputTable, theta: float):
    one = aggregate(table, sectors={"all": list(table.sectors)})
    w, _ = from_table(one, np.array([theta]))
    w = w.replace(
        gamma_io=np.zeros_like(w.gamma_io), gamma_va=np.ones_like(w.gamma_va), alpha=np.ones_like(w.alpha)
    )
    e0 = solve(w, w.tariff, None, np.zeros(w.n_regions))
    return e0.to_baseline()


def test_one_sector_no_io_restriction_is_acr_and_gravity():
    """On the real 2011 table collapsed to one sector without input-output links: the exact welfare
    change equals (pi'_nn/pi_nn)^(-1/theta) (ACR 2012, eq. 1), and equals the welfare change of
    the one-sector structural gravity model (sigma - 1 = theta) solved by kaifang's gravity solver."""
    require_dataset("wiod2013")
    from kaifang.models.gravity.solver import solve_gravity

    table = input_output_table(TableSpec("wiod2013", year=2011))
    theta = 5.0
    b = _one_sector_no_io(table, theta)
    n = b.n_regions
    rng = np.random.default_rng(3)
    d_hat = np.exp(rng.uniform(-0.2, 0.2, size=(n, n, 1)))
    d_hat[np.arange(n), np.arange(n)] = 1.0
    e = solve(b, b.tariff, d_hat, np.zeros(n))
    dom = np.arange(n)
    acr = (e.shares[dom, dom, 0] / b.shares[dom, dom, 0]) ** (-1.0 / theta)
    np.testing.assert_allclose(e.real_income, acr, rtol=1e-10)
    X = b.flows[:, :, 0].T  # exporter x importer, domestic on the diagonal
    B = d_hat[:, :, 0].T ** (-theta)  # partial effect (t'/t)^(1 - sigma)
    g = solve_gravity(X, B, theta + 1.0, imbalance="multiplicative", normalisation="world_output", tol=1e-14)
    welfare = g.full.E_hat / g.full.P_hat ** (1.0 / (-theta))
    np.testing.assert_allclose(e.real_income, welfare, rtol=1e-8)


def _split_first_region(t: InputOutputTable) -> InputOutputTable:
    """The table with its first region split into two exact halves (R0a, R0b) that trade with each
    other as each does with itself: every flow out of R0 and every flow into R0 is halved (so a flow
    from R0 to itself is quartered), with ``H`` the (new, old) 0-1/2 split matrix,
    ``Z' = (H (x) I) Z (H (x) I)'``."""
    g, n, k = t.n_regions, t.n_sectors, len(t.fd_categories)
    H = np.zeros((g + 1, g))
    H[0, 0] = H[1, 0] = 0.5
    H[2:, 1:] = np.eye(g - 1)
    Zs = np.einsum("ag,gnhm,ch->ancm", H, t.Z.reshape(g, n, g, n), H)
    Ys = np.einsum("ag,gnhk,ch->anck", H, t.Y.reshape(g, n, g, k), H)
    return InputOutputTable.from_arrays(
        Zs.reshape((g + 1) * n, (g + 1) * n),
        Ys.reshape((g + 1) * n, (g + 1) * k),
        regions=("R0a", "R0b", *t.regions[1:]),
        sectors=t.sectors,
        fd_categories=t.fd_categories,
    )


def test_merging_exact_copies_leaves_the_others_unchanged():
    t = random_table(11, 4, 3)
    split = _split_first_region(t)
    merged = aggregate(split, regions={"R0": ["R0a", "R0b"], "R1": "R1", "R2": "R2", "R3": "R3"})
    np.testing.assert_allclose(merged.Z, t.Z, rtol=1e-12)  # the construction undoes exactly
    theta = np.array([4.0, 6.0, 8.0])
    results = []
    for table in (split, merged):
        w, _ = from_table(table, theta)
        b1 = solve(w, w.tariff, None, np.zeros(w.n_regions)).to_baseline()
        n = b1.n_regions
        r1, r2, r3 = (b1.regions.index(r) for r in ("R1", "R2", "R3"))
        tau = b1.tariff.copy()
        tau[r1, r2] = 0.15  # R1 taxes R2, R3 pays more to reach R1
        d_hat = np.ones_like(tau)
        d_hat[r1, r3] = 1.1
        e = solve(b1, tau, d_hat, np.zeros(n))
        results.append(
            {r: (e.real_income[b1.regions.index(r)], e.w_hat[b1.regions.index(r)]) for r in b1.regions}
        )
    split_res, merged_res = results
    for r in ("R1", "R2", "R3"):
        np.testing.assert_allclose(split_res[r], merged_res[r], rtol=1e-10)
    np.testing.assert_allclose(split_res["R0a"], merged_res["R0"], rtol=1e-10)
    np.testing.assert_allclose(split_res["R0b"], merged_res["R0"], rtol=1e-10)


SHOCKS = """
[[shocks]]
type = "tariff"
op = "set"
importer = "USA"
exporter = "CHN"
sector = "{sector}"
value = 20
mirror = true
"""


def _scenario(dataset, baseline="", sector="goods", extra="", source="<string>"):
    text = (
        f'name = "t-{dataset}"\ndescription = "test"\nmodel = "caliendo_parro"\ndataset = "{dataset}"\n'
        f"{extra}\n[baseline]\n{baseline}\n" + SHOCKS.format(sector=sector)
    )
    return parse_scenario(text, source=source)


def test_the_same_shocks_run_on_every_table_data_set(tmp_path):
    """One scenario, five data sets: ICIO and WIOD 2016 fixture files, a user's long-format file,
    and (when in the mirror) wiod2013 and cp2015; each solves and records its world."""
    icio = tmp_path / "ICIO2023_2020.csv"
    write_icio_csv(icio)
    w16 = tmp_path / "WIOT2014_October16_ROW.RData"
    write_wiod2016_rdata(w16, regions=("AUS", "CHN", "USA", "ROW"))
    from kaifang.data.usertable import write_long_table

    t = random_table(7, 3, 2, regions=("CHN", "USA", "ROW"), sectors=("goods", "services"))
    own = write_long_table(
        tmp_path / "own.parquet",
        t.Z,
        t.Y,
        regions=t.regions,
        sectors=t.sectors,
        fd_categories=t.fd_categories,
    )
    runs = [
        _scenario("icio", f'file = "{icio}"'),
        _scenario("wiod2016", f'file = "{w16}"'),
        _scenario("mrio", f'file = "{own}"', sector="goods", extra="[parameters]\ntheta_default = 5.0"),
    ]
    for sc in runs:
        res = run_scenario(sc)
        assert res.diagnostics["converged"] and set(res.regions["region"]) >= {"USA", "CHN"}
        prov = res.provenance
        assert prov["world"]["tariffs"].startswith("zero")
        assert prov["world"]["theta"]["source"]
        json.dumps(res.to_document(), allow_nan=False)


def test_user_file_gives_the_same_answers_as_the_data_set(tmp_path):
    require_dataset("wiod2013")
    from kaifang.data.usertable import write_long_table

    spec_regions = 'regions = { USA = "USA", CHN = "CHN", EU = "EU@2011", JPN = "JPN" }'
    table = input_output_table(
        TableSpec(
            "wiod2013", year=2011, regions={"USA": ["USA"], "CHN": ["CHN"], "EU": _eu(), "JPN": ["JPN"]}
        )
    )
    path = write_long_table(
        tmp_path / "wiod_agg.csv",
        table.Z,
        table.Y,
        regions=table.regions,
        sectors=table.sectors,
        fd_categories=table.fd_categories,
        x=table.x,
    )
    a = run_scenario(_scenario("wiod2013", f"year = 2011\n{spec_regions}"))
    b = run_scenario(_scenario("mrio", f'file = "{path}"'))
    np.testing.assert_allclose(
        a.regions.set_index("region")["welfare_pct"],  # the exact real-income change
        b.regions.set_index("region")["welfare_pct"],
        rtol=1e-9,
    )


def _eu():
    from kaifang.scenario.groups import group_members

    return list(group_members("EU@2011"))


def test_aggregation_and_overrides_are_recorded(tmp_path):
    require_dataset("wiod2013")
    sc = _scenario(
        "wiod2013",
        'regions = { EU27 = "EU@2011", USA = "USA", CHN = "CHN" }\nsectors = { electronics = "c14", services = "services" }',
        extra="[parameters]\ntheta = { electronics = 6.5 }",
    )
    res = run_scenario(sc)
    assert list(res.regions["region"]) == ["EU27", "USA", "CHN", "ROW"]
    agg = res.provenance["world"]["aggregation"]
    assert agg["regions"]["EU27"][0] == "AUT" and "RoW" in agg["regions"]["ROW"]
    assert agg["sectors"]["other"][:2] == ["c1", "c2"]
    theta = res.provenance["parameters"]["theta"]
    assert theta["electronics"] == 6.5 and theta["services"] == pytest.approx(8.22)
    # the "goods" selector covers the merged goods sectors
    assert res.diagnostics["shocked_cells"] == 2 * 2  # electronics and other, both directions


def test_tariff_table_for_a_table_data_set(tmp_path):
    require_dataset("wiod2013")
    import pandas as pd

    p = tmp_path / "tariffs.csv"
    pd.DataFrame(
        {
            "importer": ["USA", "CHN", "ROM"],
            "exporter": ["CHN", "USA", "DEU"],
            "sector": ["c14", "c14", "c1"],
            "rate": [5.0, 10.0, 2.0],
        }
    ).to_csv(p, index=False)
    b, _ = load_baseline("wiod2013", _settings(tariff_file=str(p)))
    usa, chn, rou = (b.regions.index(r) for r in ("USA", "CHN", "ROU"))
    assert b.tariff[usa, chn, 13] == 0.05 and b.tariff[chn, usa, 13] == 0.10 and b.tariff[rou, 9, 0] == 0.02
    assert b.provenance["tariffs"]["cells"] == 3
    cut = _scenario("wiod2013", f'tariff_file = "{p}"', sector="c14")
    res = run_scenario(cut)
    assert res.diagnostics["converged"]


def _settings(**kw):
    from kaifang.models.caliendo_parro.runner import BaselineSettings

    return BaselineSettings(**kw)


@pytest.mark.parametrize(
    ("baseline", "extra", "message"),
    [
        ('regions = { EU = "EU@2011", DE = ["DEU"] }', "", r"region 'DEU' is put into both 'EU' and 'DE'"),
        ('regions = { X = ["USA", "Germny"] }', "", r"baseline.regions.X': unknown region 'Germny'"),
        ('sectors = { s = ["c14", "c99"] }', "", r"baseline.sectors.s': unknown sector 'c99'\. Did you mean"),
        ("year = 2014", "", r"data set 'wiod2013' has no year 2014; it covers 1995-2011"),
        (
            "",
            "[parameters]\ntheta = { c144 = 2.0 }",
            r"parameters.theta.c144': unknown sector 'c144'\. Did you mean 'c14'",
        ),
        ('tariff_file = "nope.csv"', "", r"nope.csv: no such file \(tariff table\)"),
    ],
)
def test_bad_baseline_input_exits_2(tmp_path, capsys, baseline, extra, message):
    require_dataset("wiod2013")
    from kaifang.cli import main

    sc = tmp_path / "bad.toml"
    sc.write_text(
        f'name = "bad"\nmodel = "caliendo_parro"\ndataset = "wiod2013"\n{extra}\n[baseline]\n{baseline}\n'
        + SHOCKS.format(sector="goods")
    )
    assert main(["run", str(sc), "--no-save", "--no-store"]) == 2
    err = capsys.readouterr().err.replace("\n", " ")
    import re

    assert re.search(message, err), err
    assert "Traceback" not in err


def test_a_data_set_without_a_multisector_world_is_refused():
    sc = _scenario("agtpa")
    from kaifang.errors import ScenarioError

    with pytest.raises(
        ScenarioError,
        match=r"needs a multi-sector data set \(a multisector world\), which 'agtpa' does not provide; data sets that do: cp2015, wiod2013, icio, wiod2016, mrio, demo",
    ):
        run_scenario(sc)


def test_write_back_of_a_counterfactual_is_consistent(wiod):
    """The counterfactual world's table (for value chains): rows = output, columns = inputs + VA."""
    _, b1 = wiod
    usa, chn = b1.regions.index("USA"), b1.regions.index("CHN")
    tau = b1.tariff.copy()
    tau[usa, chn, :16] = 0.25
    e = solve(b1, tau, None, np.zeros(b1.n_regions), settings=None)
    t = to_table(e.to_baseline())
    np.testing.assert_allclose(t.x, e.gross_output.reshape(-1), rtol=1e-8)


@pytest.mark.data
def test_selections_name_the_aggregate_that_holds_a_merged_country():
    """After [baseline.regions] merges France into EU, naming France is refused with 'EU' as the
    fix, and a group whose members were all merged says where they went."""
    require_dataset("wiod2013")
    from kaifang.errors import KaifangWarning, ScenarioError

    agg = '[baseline]\nyear = 2011\n[baseline.regions]\nEU = "EU@2011"\nUSA = "USA"\nCHN = "CHN"\n'

    def sc(exporter: str):
        return parse_scenario(
            f'name = "t"\nmodel = "caliendo_parro"\ndataset = "wiod2013"\n{agg}'
            f'[[shocks]]\ntype = "tariff"\nop = "set"\nimporter = "USA"\nexporter = "{exporter}"\nvalue = 10\n'
        )

    with pytest.raises(ScenarioError, match=r"'FRA'.*\[baseline.regions\] merged it into 'EU'; name 'EU'"):
        run_scenario(sc("FRA"))
    with pytest.warns(KaifangWarning, match=r"group 'EU@2004'.*merged its members into 'EU'"):
        run_scenario(sc("EU@2004"))


def _own_table(path, seed, regions):
    """A random table written as a user's long-format file at ``path``."""
    from kaifang.data.usertable import write_long_table

    t = random_table(seed, len(regions), 2, regions=regions, sectors=("goods", "services"))
    return write_long_table(
        path, t.Z, t.Y, regions=t.regions, sectors=t.sectors, fd_categories=t.fd_categories
    )


def _count_builds(monkeypatch, name):
    """The specs ``kaifang.baseline.worlds.<name>`` builds from, while it still builds them."""
    from kaifang.baseline import worlds

    builds = []
    real = getattr(worlds, name)
    monkeypatch.setattr(worlds, name, lambda spec, resolve=None: builds.append(spec) or real(spec, resolve))
    return builds, real


def test_a_world_is_built_once_and_each_caller_gets_its_own_copy(tmp_path, monkeypatch):
    """A sweep's points (and a run's validation and solve) share one build of their world; a
    caller's change to its copy reaches nobody else, and a changed file is built again."""
    from kaifang.baseline import worlds

    own = _own_table(tmp_path / "own.parquet", 11, ("CHN", "USA", "ROW"))
    builds, real = _count_builds(monkeypatch, "_table_world")
    spec = TableSpec("mrio", file=str(own), theta_default=5.0)
    a, _ = worlds.multisector_world(spec)
    fresh, _ = real(spec, None)  # built here, not by the cache
    a.flows[0, 0, 0] = -1.0
    b, _ = worlds.multisector_world(spec)
    assert len(builds) == 1
    np.testing.assert_array_equal(b.flows, fresh.flows)
    np.testing.assert_array_equal(b.gamma_io, fresh.gamma_io)
    assert b.provenance == fresh.provenance
    worlds.multisector_world(TableSpec("mrio", file=str(own), theta_default=6.0))  # another theta
    assert len(builds) == 2
    _own_table(own, 12, ("CHN", "USA", "ROW"))
    st = own.stat()  # an edit a second later (file times are coarse)
    os.utime(own, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    c, _ = worlds.multisector_world(spec)
    assert len(builds) == 3 and not np.array_equal(c.flows, b.flows)


def test_an_aggregated_world_is_built_once_per_grouping(tmp_path, monkeypatch):
    """A world that merges regions is kept under its groups as resolved on the table's labels:
    the same members (however they are named) share one build, other members get their own,
    and the kept world is the one a fresh build gives."""
    from kaifang.baseline import worlds

    own = _own_table(tmp_path / "own.parquet", 13, ("CHN", "USA", "JPN", "ROW"))
    builds, real = _count_builds(monkeypatch, "_table_world")
    spec = TableSpec(
        "mrio", file=str(own), theta_default=5.0, regions={"ASIA": ["CHN", "JPN"], "USA": ["USA"]}
    )
    a, _ = worlds.multisector_world(spec)
    b, _ = worlds.multisector_world(spec)
    assert len(builds) == 1 and a is not b
    fresh, _ = real(spec, None)
    np.testing.assert_array_equal(b.flows, fresh.flows)
    assert b.regions == fresh.regions == ("ASIA", "USA", "ROW") and b.provenance == fresh.provenance

    # a scenario's own group naming the same members: the same world
    def resolve(selector, labels, what, fld):
        return ["CHN", "JPN"] if selector == "my-asia" else list(selector)

    named = TableSpec("mrio", file=str(own), theta_default=5.0, regions={"ASIA": "my-asia", "USA": ["USA"]})
    worlds.multisector_world(named, resolve=resolve)
    assert len(builds) == 1
    # other members, another rest label, merged sectors: each its own build
    other = TableSpec("mrio", file=str(own), theta_default=5.0, regions={"ASIA": ["CHN"], "USA": ["USA"]})
    c, _ = worlds.multisector_world(other)
    assert len(builds) == 2 and c.regions == ("ASIA", "USA", "ROW") and not np.array_equal(c.flows, b.flows)
    worlds.multisector_world(replace_spec(spec, rest_region="OTHER"))
    assert len(builds) == 3
    worlds.multisector_world(replace_spec(spec, sectors={"all": ["goods", "services"]}))
    assert len(builds) == 4


def replace_spec(spec, **changes):
    from dataclasses import replace

    return replace(spec, **changes)


def test_the_demo_world_is_built_once_per_theta(monkeypatch):
    from kaifang.baseline import worlds

    builds, real = _count_builds(monkeypatch, "_raw_world")
    a, _ = worlds.multisector_world(TableSpec("demo"))
    b, _ = worlds.multisector_world(TableSpec("demo"))
    assert len(builds) == 1 and a is not b and a.flows is not b.flows
    np.testing.assert_array_equal(a.flows, real(TableSpec("demo"))[0].flows)
    c, _ = worlds.multisector_world(TableSpec("demo", theta={a.sectors[0]: 9.0}))
    assert len(builds) == 2 and c.theta[0] == 9.0 and b.theta[0] != 9.0
