"""Hand-checkable worlds: every expected number below is worked out in the comments.

1. Two countries (H, F) x two industries (1 raw, 2 manufacturing) with a production chain
   H1 -> F2 -> H2 (home value added leaves, is processed abroad and comes back).
2. A world with no intermediate trade: all exports are domestic value added in final goods.
3. Processing trade: U sells parts to M, which assembles them and sells the product to D.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from kaifang import valuechains as vc
from kaifang.baseline import InputOutputTable

# ---------------------------------------------------------------------------- world 1
# Positions: H1 = 0, H2 = 1, F1 = 2, F2 = 3.
#   H1: output 100, no inputs; sells 30 to H2, 50 to F2 (intermediate export), 20 final at home.
#   H2: output 250, inputs 30 from H1 and 80 from F2 (value added 140); final 150 at home and
#       100 exported to F.
#   F1: output 40, no inputs; final 40 at home.
#   F2: output 200, inputs 50 from H1 (value added 150); sells 80 to H2, 60 final at home, 60
#       final exported to H.
# Every row sums to its output (the table balances).
#
# Coefficients: A[H1, H2] = 30/250 = 0.12, A[F2, H2] = 80/250 = 0.32, A[H1, F2] = 50/200 = 0.25;
# c = (1, 140/250 = 0.56, 1, 150/200 = 0.75). The chain has no loop back into itself, so
# B = I + A + A^2 with (A^2)[H1, H2] = 0.25 * 0.32 = 0.08.
# Value-added multipliers per unit of output:
#   H1: all home (1); F2: 0.25 home (H) + 0.75 F; H2: 0.56 + 0.12 + 0.32 * 0.25 = 0.76 H and
#   0.32 * 0.75 = 0.24 F. Domestic rounds only: l_H = c_H' L_HH with L_HH = [[1, .12], [0, 1]]:
#   l_H = (1, 0.68); l_F = c_F = (1, 0.75).
# Exports: H: 50 intermediate (H1 -> F2) + 100 final (H2 -> F) = 150;
#          F: 80 intermediate (F2 -> H2) + 60 final (F2 -> H) = 140.


def chain_world() -> InputOutputTable:
    Z = np.zeros((4, 4))
    Z[0, 1], Z[0, 3], Z[3, 1] = 30.0, 50.0, 80.0
    Y = np.zeros((4, 2))  # destination H, destination F
    Y[0, 0] = 20.0
    Y[1] = (150.0, 100.0)
    Y[2, 1] = 40.0
    Y[3] = (60.0, 60.0)
    return InputOutputTable.from_arrays(Z, Y, regions=("H", "F"), sectors=("1", "2"))


def test_chain_world_kww_by_hand():
    k = vc.kww(chain_world()).set_index("country")
    # H: DVA_FIN = 0.76 * 100; DVA_INT: F2's final use at home (60) carries 0.25 of H value
    # added = 15; RDV_FIN: F2's final exports to H (60) carry 15 of H value added;
    # RDV_INT = c_H' B_HF A_FH L_HH Y_HH = 0.25 * 0.32 * 150 = 12 (L_HH Y_HH = (38, 150));
    # DDC = 0.25 * 0.32 * (L_HH E_H)_H2 = 0.25 * 0.32 * 100 = 8; FVA_FIN = 0.24 * 100 = 24;
    # FVA_INT, FDC: H1 (the only intermediate exporter) has no foreign content -> 0.
    h = dict(
        DVA_FIN=76, DVA_INT=15, DVA_INTrex=0, RDV_FIN=15, RDV_INT=12, DDC=8, FVA_FIN=24, FVA_INT=0, FDC=0
    )
    # F: DVA_FIN = 0.75 * 60 = 45; DVA_INT: H2's home final use (150) needs 0.32 of F2 output
    # per unit, 0.75 of it F value added: 0.24 * 150 = 36; RDV_FIN = 0.24 * 100 = 24 (H2's final
    # exports to F); RDV_INT, DDC: H1 uses no F inputs -> 0; FVA_FIN = 0.25 * 60 = 15;
    # FVA_INT = f(F2) * A[F2, H2] * (L_HH Y_HH)_H2 = 0.25 * 0.32 * 150 = 12;
    # FDC = 0.25 * 0.32 * (L_HH E_H)_H2 = 0.25 * 0.32 * 100 = 8.
    f = dict(
        DVA_FIN=45, DVA_INT=36, DVA_INTrex=0, RDV_FIN=24, RDV_INT=0, DDC=0, FVA_FIN=15, FVA_INT=12, FDC=8
    )
    for name in vc.KWW_TERMS:
        assert k.loc["H", name] == pytest.approx(h[name], abs=1e-9), name
        assert k.loc["F", name] == pytest.approx(f[name], abs=1e-9), name
    assert k.loc["H", "texp"] == 150 and k.loc["F", "texp"] == 140


def test_chain_world_wwz_by_hand():
    w = vc.wwz(chain_world(), by="sector").set_index(["exporter", "sector", "importer"])
    expect = {
        # H1 -> F (50 of intermediates):
        #   DVA_INT = l_H1 * A[H1,F2] * (B_FF Y_FF)_F2 = 1 * 0.25 * 60 = 15 (B_FF = I);
        #   RDV_INT = 0.25 * (B_FH Y_HH)_F2 = 0.25 * 0.32 * 150 = 12;
        #   RDV_FIN = 0.25 * Y[F2 -> H] = 15; DDC_FIN = 0.25 * (B_FH F_H)_F2 = 0.25 * 0.32 * 100 = 8;
        #   DDC_INT = (m_HH - l_H)(H1) * 50 = (1 - 1) * 50 = 0.
        ("H", "1", "F"): dict(DVA_INT=15, RDV_INT=12, RDV_FIN=15, DDC_FIN=8),
        # H2 -> F (100 final): DVA_FIN = 0.76 * 100, MVA_FIN = 0.24 * 100 (F is the importer).
        ("H", "2", "F"): dict(DVA_FIN=76, MVA_FIN=24),
        # F2 -> H (80 intermediate + 60 final): DVA_FIN = 0.75 * 60 = 45; MVA_FIN = 0.25 * 60 = 15;
        #   DVA_INT = l_F2 * 0.32 * (B_HH Y_HH)_H2 = 0.75 * 0.32 * 150 = 36;
        #   RDV_FIN = 0.75 * 0.32 * (B_HH Y_HF)_H2 = 0.75 * 0.32 * 100 = 24;
        #   MVA_INT = m_HF(F2) * 0.32 * (L_HH Y_HH)_H2 = 0.25 * 0.32 * 150 = 12;
        #   MDC = 0.25 * 0.32 * (L_HH E_H)_H2 = 0.25 * 0.32 * 100 = 8.
        ("F", "2", "H"): dict(DVA_FIN=45, MVA_FIN=15, DVA_INT=36, RDV_FIN=24, MVA_INT=12, MDC=8),
    }
    for row, terms in expect.items():
        for name in vc.WWZ_TERMS:
            assert w.loc[row, name] == pytest.approx(terms.get(name, 0.0), abs=1e-9), (row, name)
        assert w.loc[row, "texp"] == pytest.approx(sum(terms.values()))
    # F1 exports nothing; r = s rows are zero
    assert (w.loc[("F", "1", "H"), list(vc.WWZ_TERMS)] == 0).all()
    assert (w.xs("H", level="importer").loc["H", list(vc.WWZ_TERMS)].to_numpy() == 0).all()


def test_chain_world_leontief_and_indicators_by_hand():
    t = chain_world()
    lc = vc.leontief(t).set_index(["source", "using"])["value"]
    # H's exports: H1 50 (all H) + H2 100 (76 H, 24 F) -> 126 H, 24 F; F's exports: F2 140
    # (0.75 F, 0.25 H) -> 105 F, 35 H.
    assert lc[("H", "H")] == pytest.approx(126) and lc[("F", "H")] == pytest.approx(24)
    assert lc[("F", "F")] == pytest.approx(105) and lc[("H", "F")] == pytest.approx(35)
    ind = vc.indicators(t).set_index("country")
    # H: VAX = 76 + 15 + 0 = 91; DVA = 91 + 15 + 12 = 118; DC = 126; VS = 24; VS1 = 35; no third
    # country, so DVX = 0.
    assert ind.loc["H", "vax_ratio"] == pytest.approx(91 / 150)
    assert ind.loc["H", "dva_share"] == pytest.approx(118 / 150)
    assert ind.loc["H", "dc_share"] == pytest.approx(126 / 150)
    assert ind.loc["H", "fva_share"] == pytest.approx(24 / 150)
    assert ind.loc["H", "dvx_hiy"] == pytest.approx(35)
    assert ind.loc["H", "gvc_participation"] == pytest.approx(0.16)
    assert ind.loc["H", "gvc_position"] == pytest.approx(-math.log(1.16))
    # F: VAX = 45 + 36 = 81, DVA = 81 + 24 = 105 = DC (no returned value added in double counting)
    assert ind.loc["F", "vax"] == pytest.approx(81) and ind.loc["F", "dva"] == pytest.approx(105)
    assert ind.loc["F", "fva_share"] == pytest.approx(0.25)


# ---------------------------------------------------------------------------- world 2
def test_no_intermediate_trade_all_exports_are_domestic_value_added_in_final_goods():
    # Two countries with domestic intermediate use only; every export is a final good.
    Z = np.zeros((4, 4))
    Z[0, 1], Z[1, 0], Z[2, 3], Z[3, 3] = 10.0, 5.0, 7.0, 4.0  # within-country blocks only
    Y = np.array([[30.0, 12.0], [40.0, 8.0], [6.0, 50.0], [9.0, 35.0]])
    t = InputOutputTable.from_arrays(Z, Y, regions=("A", "B"), sectors=("g", "s"))
    k = vc.kww(t).set_index("country")
    ge = {"A": 20.0, "B": 15.0}  # final exports: A 12 + 8; B 6 + 9
    for c in ("A", "B"):
        assert k.loc[c, "texp"] == ge[c]
        assert k.loc[c, "DVA_FIN"] == pytest.approx(ge[c], rel=1e-12)
        for name in vc.KWW_TERMS[1:]:
            assert k.loc[c, name] == pytest.approx(0.0, abs=1e-12), name
    ind = vc.indicators(t).set_index("country")
    np.testing.assert_allclose(ind["vax_ratio"], 1.0, rtol=1e-12)
    np.testing.assert_allclose(ind["fva_share"], 0.0, atol=1e-12)
    np.testing.assert_allclose(ind["gvc_participation"], 0.0, atol=1e-12)
    lc = vc.leontief(t).set_index(["source", "using"])["value"]
    assert lc[("A", "B")] == pytest.approx(0.0, abs=1e-12) and lc[("B", "A")] == pytest.approx(0.0, abs=1e-12)


# ---------------------------------------------------------------------------- world 3
def processing_world() -> InputOutputTable:
    # One industry each. U: output 60, all value added, sold to M as parts. M: buys 60 of parts,
    # adds 40, sells its output of 100 to D as a final good. D: output 50, all value added,
    # consumed at home.
    Z = np.zeros((3, 3))
    Z[0, 1] = 60.0
    Y = np.zeros((3, 3))  # destinations U, M, D
    Y[1, 2] = 100.0
    Y[2, 2] = 50.0
    return InputOutputTable.from_arrays(Z, Y, regions=("U", "M", "D"), sectors=("goods",))


def test_processing_trade_by_hand():
    t = processing_world()
    k = vc.kww(t).set_index("country")
    # U's 60 of parts are absorbed in D, a third country: all of it is DVA_INTrex.
    assert k.loc["U", "DVA_INTrex"] == pytest.approx(60)
    # M's 100 of final exports: 40 own value added, 60 from U.
    assert k.loc["M", "DVA_FIN"] == pytest.approx(40) and k.loc["M", "FVA_FIN"] == pytest.approx(60)
    for c, keep in (("U", "DVA_INTrex"), ("M", ("DVA_FIN", "FVA_FIN"))):
        for name in vc.KWW_TERMS:
            if name not in keep:
                assert k.loc[c, name] == pytest.approx(0.0, abs=1e-12), (c, name)
    assert (k.loc["D", list(vc.KWW_TERMS)] == 0).all()
    # WWZ: U -> M is re-exported by M in final goods to D: DVA_INTrexF = 1 * 0.6 * 100 = 60.
    w = vc.wwz(t, by="pair").set_index(["exporter", "importer"])
    assert w.loc[("U", "M"), "DVA_INTrexF"] == pytest.approx(60)
    assert w.loc[("M", "D"), "DVA_FIN"] == pytest.approx(40)
    assert w.loc[("M", "D"), "OVA_FIN"] == pytest.approx(60)  # U is a third country for M -> D
    # Leontief: U's value added in M's exports 60, M's own 40.
    lc = vc.leontief(t).set_index(["source", "using"])["value"]
    assert lc[("U", "M")] == pytest.approx(60) and lc[("M", "M")] == pytest.approx(40)
    assert lc[("U", "U")] == pytest.approx(60)
    ind = vc.indicators(t).set_index("country")
    # U: forward participation 1 (all exports re-exported), backward 0; M: backward 0.6.
    assert ind.loc["U", "gvc_forward"] == pytest.approx(1.0) and ind.loc["U", "gvc_backward"] == 0
    assert ind.loc["M", "gvc_backward"] == pytest.approx(0.6) and ind.loc["M", "gvc_forward"] == 0
    assert ind.loc["M", "gvc_position"] == pytest.approx(-math.log(1.6))
    assert ind.loc["U", "gvc_position"] == pytest.approx(math.log(2.0))
    # D exports nothing: its shares are undefined (NaN), not zero.
    assert math.isnan(ind.loc["D", "vax_ratio"])
    assert ind.loc["U", "dvx_hiy"] == pytest.approx(60)  # U's value added in M's exports
