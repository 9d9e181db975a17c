"""The accounting identities of the decompositions on the real WIOD 2013-release table for 2011.

WIOD is published in integer millions, so its rows add up to gross output only to rounding
(d = x - Z1 - Y1 reaches 108 in one cell). With the table's own output the identities that need
a balanced table hold up to terms linear in d, which the test computes independently (its own
inverse, blocks and multipliers) and compares; with output set to the row sums
(``InputOutputTable.balanced``) they hold exactly (to 1e-8 million USD here).

Published reference points (decompr 6.8.0 on the same table, as documented in the project's
value-chain notes, ``docs/valuechains.md``): the WWZ gap sums to -0.14% of world intermediate
exports and reaches -99 in one cell; a cell with exports of 2 shows texpdiff = -0.0037 (rounded
to 4 decimals); the residual FDC exceeds its closed form by up to 9% of FDC (RUS) and 0.35% of
gross exports (EST); KWW terms 1-6 and the HIY domestic content differ by up to 0.25% of gross
exports.
"""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from kaifang import valuechains as vc

pytestmark = pytest.mark.data

KWW_FROM_WWZ = {
    "DVA_FIN": ["DVA_FIN"],
    "DVA_INT": ["DVA_INT", "DVA_INTrexI1"],
    "DVA_INTrex": ["DVA_INTrexF", "DVA_INTrexI2"],
    "RDV_FIN": ["RDV_FIN", "RDV_FIN2"],
    "RDV_INT": ["RDV_INT"],
    "DDC": ["DDC_FIN", "DDC_INT"],
    "FVA_FIN": ["OVA_FIN", "MVA_FIN"],
    "FVA_INT": ["OVA_INT", "MVA_INT"],
    "FDC": ["ODC", "MDC"],
}


@pytest.fixture(scope="module")
def wiod():
    require_dataset("wiod2013")
    from kaifang.baseline import InputOutputTable
    from kaifang.data.wiod2013 import read_wiod2013

    return InputOutputTable.from_raw(read_wiod2013(2011))


class Independent:
    """The pieces the gap formulas need, computed here without kaifang.valuechains."""

    def __init__(self, t):
        G, N = t.n_regions, t.n_sectors
        n = G * N
        x = np.asarray(t.x)
        safe = np.where(x > 0, x, 1.0)
        A = np.where(x[None, :] > 0, np.asarray(t.Z) / safe[None, :], 0.0)
        c = np.where(x > 0, (x - np.asarray(t.Z).sum(axis=0)) / safe, 0.0)
        B = np.linalg.inv(np.eye(n) - A)
        self.G, self.N, self.A = G, N, A
        self.d = np.asarray(t.row_gap)
        self.Bd = B @ self.d
        A4 = A.reshape(G, N, G, N)
        self.L = np.stack([np.linalg.inv(np.eye(N) - A4[s, :, s, :]) for s in range(G)])
        cg = c.reshape(G, N)
        self.l = np.einsum("sj,sji->si", cg, self.L)
        VB = (c[:, None] * B).reshape(G, N, G, N).sum(axis=1)  # [t, s, i]
        self.f = np.stack([VB[np.arange(G) != s, s].sum(axis=0) for s in range(G)])
        self.Ld = np.einsum("rij,rj->ri", self.L, self.d.reshape(G, N))

    def wwz_gap(self):
        """-l_s # (A_sr (B d)_r) - f_s # (A_sr L_rr d_r), ``[s, i, r]`` (zero for r = s)."""
        G, N = self.G, self.N
        A4 = self.A.reshape(G, N, G, N)
        Bd = self.Bd.reshape(G, N)
        out = np.zeros((G, N, G))
        for s in range(G):
            for r in range(G):
                if r != s:
                    out[s, :, r] = -self.l[s] * (A4[s, :, r, :] @ Bd[r]) - self.f[s] * (
                        A4[s, :, r, :] @ self.Ld[r]
                    )
        return out


@pytest.fixture(scope="module")
def decomposed(wiod):
    system = vc.prepare(wiod)
    return {
        "system": system,
        "kww": vc.kww(system).set_index("country"),
        "kww_closed": vc.kww(system, fdc="closed").set_index("country"),
        "wwz": vc.wwz(system, by="sector"),
        "ind": vc.indicators(system).set_index("country"),
        "indep": Independent(wiod),
    }


def test_table_is_the_rounded_2011_table(wiod):
    # sanity on the input, as documented for the release: 22 zero-output industries, the row gap
    # reaches 108 and sums to +59,212.
    assert (wiod.x == 0).sum() == 22
    assert np.abs(wiod.row_gap).max() == 108
    assert wiod.row_gap.sum() == pytest.approx(59212)


def test_I1_leontief_shares_of_every_exporting_industry_sum_to_one(wiod, decomposed):
    h = vc.origin_matrix(decomposed["system"]).sum(dim=("source", "source_sector")).values.ravel()
    exports = decomposed["system"].exports.ravel()
    live = wiod.x > 0
    np.testing.assert_allclose(h[live], exports[live], rtol=1e-10, atol=1e-7)
    ind = decomposed["ind"]
    np.testing.assert_allclose(ind["dc"] + ind["fva"], ind["gross_exports"], rtol=1e-12)


def test_I2_wwz_final_goods_terms_add_to_final_exports(decomposed):
    assert decomposed["wwz"]["texpfddiff"].abs().max() < 1e-7


def test_I3_wwz_gap_is_the_rounding_term(decomposed):
    w = decomposed["wwz"]
    gap = decomposed["indep"].wwz_gap().ravel()
    np.testing.assert_allclose(w["texpdiff"].to_numpy(), gap, atol=1e-7)
    # decompr's figures on this table
    assert w["texpdiff"].sum() / w["texpint"].sum() == pytest.approx(-0.0014, abs=0.00005)
    assert round(float(w["texpdiff"].min())) == -99
    first = w[(w["exporter"] == "AUS") & (w["sector"] == "c1") & (w["importer"] == "AUT")].iloc[0]
    assert first["texp"] == 2 and round(first["texpdiff"], 4) == -0.0037


def test_I4_wwz_terms_sum_to_kww_terms(decomposed):
    w = decomposed["wwz"].groupby("exporter", observed=True).sum(numeric_only=True)
    k = decomposed["kww_closed"]
    scale = float(k["texp"].max())
    for kww_name, wwz_names in KWW_FROM_WWZ.items():
        np.testing.assert_allclose(
            w[wwz_names].sum(axis=1).to_numpy(), k[kww_name].to_numpy(), atol=1e-11 * scale
        )


def test_I5_kww_totals(decomposed):
    k, kc = decomposed["kww"], decomposed["kww_closed"]
    terms = list(vc.KWW_TERMS)
    np.testing.assert_allclose(k[terms].sum(axis=1), k["texp"], rtol=1e-13, atol=1e-7)
    gap = decomposed["indep"].wwz_gap().sum(axis=(1, 2))
    np.testing.assert_allclose(kc[terms].sum(axis=1) - kc["texp"], gap, atol=1e-6)
    over = k["FDC"] - kc["FDC"]
    share_fdc, share_ge = (over / k["FDC"]).abs(), (over / k["texp"]).abs()
    assert share_fdc.idxmax() == "RUS" and share_fdc.max() == pytest.approx(0.09, abs=0.005)
    assert share_ge.idxmax() == "EST" and share_ge.max() == pytest.approx(0.0035, abs=0.0001)


def test_I6_kww_against_hiy(decomposed):
    kc, ind, indep = decomposed["kww_closed"], decomposed["ind"], decomposed["indep"]
    G, N = indep.G, indep.N
    A4 = indep.A.reshape(G, N, G, N)
    Bd = indep.Bd.reshape(G, N)
    dom_gap = np.array(
        [-sum(indep.l[s] @ (A4[s, :, r, :] @ Bd[r]) for r in range(G) if r != s) for s in range(G)]
    )
    for_gap = np.array(
        [-sum(indep.f[s] @ (A4[s, :, r, :] @ indep.Ld[r]) for r in range(G) if r != s) for s in range(G)]
    )
    np.testing.assert_allclose(kc[list(vc.KWW_TERMS[:6])].sum(axis=1) - ind["dc"], dom_gap, atol=1e-6)
    np.testing.assert_allclose(kc[list(vc.KWW_TERMS[6:])].sum(axis=1) - ind["fva"], for_gap, atol=1e-6)
    rel = ((kc[list(vc.KWW_TERMS[:6])].sum(axis=1) - ind["dc"]) / ind["gross_exports"]).abs()
    assert rel.max() == pytest.approx(0.0025, abs=0.0001)


def test_I7_no_exports_to_oneself(decomposed):
    w = decomposed["wwz"]
    own = w[w["exporter"] == w["importer"]]
    assert len(own) == 41 * 35
    assert (own[list(vc.WWZ_TERMS)].to_numpy() == 0).all()


def test_balanced_table_every_identity_exact(wiod):
    system = vc.prepare(wiod.balanced())
    w = vc.wwz(system, by="sector")
    assert w["texpdiff"].abs().max() < 1e-8
    assert w["texpintdiff"].abs().max() < 1e-8
    k = vc.kww(system, fdc="closed").set_index("country")
    ind = vc.indicators(system).set_index("country")
    terms = list(vc.KWW_TERMS)
    np.testing.assert_allclose(k[terms].sum(axis=1), k["texp"], atol=1e-8)
    np.testing.assert_allclose(k[terms[:6]].sum(axis=1), ind["dc"], atol=1e-8)
    np.testing.assert_allclose(k[terms[6:]].sum(axis=1), ind["fva"], atol=1e-8)
    wk = w.groupby("exporter", observed=True).sum(numeric_only=True)
    for kww_name, wwz_names in KWW_FROM_WWZ.items():
        np.testing.assert_allclose(wk[wwz_names].sum(axis=1).to_numpy(), k[kww_name].to_numpy(), atol=1e-8)
