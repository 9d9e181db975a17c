"""Value chains of a Caliendo–Parro world: the rebuilt table keeps what the model determines,
a zero shock changes nothing, and the rebuilt counterfactual satisfies every identity.

The expected values are the model's own equilibrium quantities (flows x'_{nij}, gross output,
income, value added), read from the solver's :class:`Equilibrium`, not from the rebuild.
"""

from __future__ import annotations

import numpy as np
import pytest

from cp_worlds import random_world
from helpers import require_dataset
from kaifang import valuechains as vc
from kaifang.baseline.multisector import from_raw
from kaifang.data.demo import generate
from kaifang.models.caliendo_parro import solve
from kaifang.valuechains.counterfactual import compare, table_from_equilibrium, table_from_world


def demo_equilibrium(tariffs: bool = True):
    b0 = from_raw(generate())
    if not tariffs:
        b0 = b0.replace(tariff=np.zeros_like(b0.tariff))
    return solve(b0, b0.tariff, None, np.zeros(b0.n_regions))


def sector_exports(t) -> np.ndarray:
    """E_{s,r} of the table as ``(importer r, exporter s, sector j)``, like the model's flows."""
    g, n = t.n_regions, t.n_sectors
    e = vc.prepare(t).exports_to.reshape(g, n, g)  # [s, j, r]
    return e.transpose(2, 0, 1)


def test_rebuild_keeps_flows_output_and_income_of_the_equilibrium():
    e0 = demo_equilibrium()
    t = table_from_equilibrium(e0, balance=False)
    n = e0.baseline.n_regions
    flows = e0.flows.copy()
    flows[np.arange(n), np.arange(n)] = 0.0
    # bilateral sector exports at producer prices = the model's flows (goods-market clearing)
    np.testing.assert_allclose(sector_exports(t), flows, rtol=1e-8, atol=1e-9 * flows.max())
    # gross output kept; rows add up to it to the accuracy of the equilibrium
    np.testing.assert_allclose(t.x, e0.gross_output.ravel(), rtol=1e-12)
    assert np.abs(t.row_gap).max() < 1e-8 * t.x.max()
    # input spending at buyer prices over all origins = gamma_{n,jk} Y'_{nk}
    g, J = n, e0.baseline.n_sectors
    buyer = (t.Z.reshape(g, J, g, J) * (1 + e0.tariff_new).transpose(1, 2, 0)[:, :, :, None]).sum(axis=0)
    buyer = buyer.transpose(1, 0, 2)  # [n, j, k]
    gamma = e0.baseline.gamma_io  # [n, j, k]
    np.testing.assert_allclose(buyer, gamma * e0.gross_output[:, None, :], rtol=1e-10, atol=1e-6)


def test_without_tariffs_value_added_and_final_demand_are_the_models():
    e0 = demo_equilibrium(tariffs=False)
    t = table_from_equilibrium(e0, balance=False)
    b = e0.baseline
    np.testing.assert_allclose(t.value_added, (b.gamma_va * e0.gross_output).ravel(), rtol=1e-8)
    # each country's final spending: I'_n = w-hat VA + D' (no tariff revenue)
    np.testing.assert_allclose(t.final_by_region.sum(axis=0), e0.income, rtol=1e-9)
    np.testing.assert_allclose(
        t.value_added.reshape(n := b.n_regions, -1).sum(axis=1), e0.value_added, rtol=1e-8
    )
    assert n == 5


def test_zero_shock_rebuilds_the_baseline_and_changes_no_indicator():
    e0 = demo_equilibrium()
    b1 = e0.to_baseline()
    e1 = solve(b1, b1.tariff, None, np.zeros(b1.n_regions))
    before, after = table_from_world(b1), table_from_equilibrium(e1)
    np.testing.assert_allclose(after.Z, before.Z, rtol=1e-8, atol=1e-9 * before.Z.max())
    np.testing.assert_allclose(after.Y, before.Y, rtol=1e-8, atol=1e-9 * before.Y.max())
    tables = compare(before, after)
    for name in ("value_chains", "value_chains_sectors"):
        df = tables[name]
        change = df[df["stage"] == "change"].select_dtypes("number")
        base = df[df["stage"] == "baseline"].select_dtypes("number")
        # shares of sectors that export nothing are undefined in both worlds alike
        assert (change.isna().to_numpy() == base.isna().to_numpy()).all()
        change = change.fillna(0.0)
        scale = df[df["stage"] == "baseline"].select_dtypes("number").abs().max()
        assert (change.abs() <= 1e-7 * scale.clip(lower=1.0)).all().all(), name
    origin = tables["value_added_origin"]
    assert origin["change_share"].abs().max() < 1e-9


def rebuilt_counterfactual():
    e0 = demo_equilibrium()
    b1 = e0.to_baseline()
    tariff = b1.tariff.copy()
    tariff[0, 1, :3] += 0.25  # XAA on XBB's goods
    tariff[1, 0, :3] += 0.25  # and back
    return table_from_equilibrium(solve(b1, tariff, None, np.zeros(b1.n_regions)))


def test_rebuilt_counterfactual_satisfies_every_identity():
    t = rebuilt_counterfactual()
    scale = float(t.x.max())
    w = vc.wwz(t, by="sector")
    assert w["texpdiff"].abs().max() < 1e-9 * scale  # I3 (balanced rows)
    assert w["texpfddiff"].abs().max() < 1e-9 * scale  # I2
    k = vc.kww(t, fdc="closed")
    np.testing.assert_allclose(k[list(vc.KWW_TERMS)].sum(axis=1), k["texp"], rtol=1e-10)  # I5
    ind = vc.indicators(t)
    np.testing.assert_allclose(ind["dc"] + ind["fva"], ind["gross_exports"], rtol=1e-12)  # I1
    np.testing.assert_allclose(k[list(vc.KWW_TERMS[:6])].sum(axis=1), ind["dc"], rtol=1e-10)  # I6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_worlds_rebuild_their_flows(seed):
    world = random_world(seed, 4, 3)
    t = table_from_world(world)
    flows = world.flows.copy()
    flows[np.arange(4), np.arange(4)] = 0.0
    np.testing.assert_allclose(sector_exports(t), flows, rtol=1e-7, atol=1e-9 * flows.max())


def test_compare_refuses_tables_with_different_labels():
    t = rebuilt_counterfactual()
    other = t.replace(regions=tuple(reversed(t.regions)))
    with pytest.raises(ValueError, match="same regions and sectors"):
        compare(t, other)


@pytest.mark.data
def test_nafta_counterfactual_on_cp2015_identities_and_direction():
    require_dataset("cp2015")
    from kaifang.models import run_scenario
    from kaifang.scenario import load_scenario

    sc = load_scenario("scenarios/cp2015-nafta.toml")
    sc = sc.model_copy(update={"output": {"value_chains": True}})
    res = run_scenario(sc)
    v = res.tables["value_chains"].set_index(["region", "stage"])
    # levels and shares agree: change = counterfactual - baseline, shares = levels / exports
    for r in ("MEX", "USA", "CAN"):
        assert v.loc[(r, "change"), "fva"] == pytest.approx(
            v.loc[(r, "counterfactual"), "fva"] - v.loc[(r, "baseline"), "fva"]
        )
        for stage in ("baseline", "counterfactual"):
            row = v.loc[(r, stage)]
            assert row["fva_share"] == pytest.approx(row["fva"] / row["gross_exports"])
            assert row["dc"] + row["fva"] == pytest.approx(row["gross_exports"], rel=1e-10)
    # NAFTA's tariff cuts make Mexico's exports use more imported (US) inputs
    assert v.loc[("MEX", "change"), "fva_share"] > 0
    o = res.tables["value_added_origin"].set_index(["exporter", "source"])
    assert o.loc[("MEX", "USA"), "change_share"] > 0
    assert set(res.diagnostics["value_chains"]["focus"]) == {"CAN", "MEX", "USA"}
