"""Every decomposition against a naive dense implementation written from the formulas.

The naive one (``naive.py``) uses explicit inverses, explicit blocks and loops over every
country the formulas sum over; it shares no code with kaifang.valuechains. Tables: random
3 x 2 and 4 x 3 worlds, balanced and unbalanced (gross output off the row sums by up to 0.5%,
as in a rounded published table), with negative inventory changes and a zero-output industry.
"""

from __future__ import annotations

import numpy as np
import pytest
from gvc_naive import Naive
from gvc_worlds import random_table

from kaifang import valuechains as vc

CASES = [
    dict(seed=1, G=3, N=2),
    dict(seed=2, G=4, N=3, balanced=False),
    dict(seed=3, G=4, N=3, inventories=True),
    dict(seed=4, G=3, N=3, balanced=False, inventories=True, zero_output=True),
    dict(seed=5, G=2, N=2, sparse=0.5),
]


def naive_of(t):
    return Naive(np.asarray(t.Z), np.asarray(t.final_by_region), np.asarray(t.x), t.n_regions, t.n_sectors)


def close(a, b, scale):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-11 * scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_wwz_all_sixteen_terms(case):
    t = random_table(**case)
    ref = naive_of(t)
    scale = float(t.x.max())
    got = vc.wwz_array(t).values
    close(got, ref.wwz(), scale)
    w = vc.wwz(t, by="sector")
    close(w["DViX_Fsr"].to_numpy(), ref.dvix().ravel(), scale)
    G = t.n_regions
    texp = np.array([[ref.Esr[s][r] for r in range(G)] for s in range(G)]).transpose(0, 2, 1)
    close(w["texp"].to_numpy(), texp.ravel(), scale)
    pair = vc.wwz(t, by="pair")
    close(pair[list(vc.WWZ_TERMS)].to_numpy(), ref.wwz().sum(axis=1).reshape(-1, 16), scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_kww_nine_terms_closed_form(case):
    t = random_table(**case)
    ref = naive_of(t).kww()
    got = vc.kww(t, fdc="closed")
    for name in vc.KWW_TERMS:
        close(got[name].to_numpy(), ref[name], float(t.x.max()))


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_kww_residual_fdc_adds_to_gross_exports(case):
    t = random_table(**case)
    ref = naive_of(t)
    ge = np.array([e.sum() for e in ref.E])
    got = vc.kww(t)
    first8 = sum(ref.kww()[k] for k in vc.KWW_TERMS[:8])
    close(got["FDC"].to_numpy(), ge - first8, float(t.x.max()))
    close(got["texp"].to_numpy(), ge, float(t.x.max()))


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_leontief_origin_matrix_and_country_blocks(case):
    t = random_table(**case)
    ref = naive_of(t)
    H = ref.hiy_matrix()
    scale = float(t.x.max())
    close(vc.origin_matrix(t).values.reshape(H.shape), H, scale)
    long = vc.leontief(t, by="sector")
    close(long["value"].to_numpy(), H.ravel(), scale)
    G, N = t.n_regions, t.n_sectors
    hc = H.reshape(G, N, G, N).sum(axis=(1, 3))
    close(vc.leontief(t, by="country")["value"].to_numpy(), hc.ravel(), scale)


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{k}{v}" for k, v in c.items()))
def test_indicators_from_the_naive_terms(case):
    t = random_table(**case)
    ref = naive_of(t)
    k = ref.kww()
    G, N = t.n_regions, t.n_sectors
    H = ref.hiy_matrix().reshape(G, N, G, N).sum(axis=(1, 3))  # [source, using]
    ge = np.array([e.sum() for e in ref.E])
    vax = k["DVA_FIN"] + k["DVA_INT"] + k["DVA_INTrex"]
    vs = np.array([sum(H[u, s] for u in range(G) if u != s) for s in range(G)])
    vs1 = np.array([sum(H[s, r] for r in range(G) if r != s) for s in range(G)])
    dvx = k["DVA_INTrex"]
    got = vc.indicators(t)
    scale = float(t.x.max())
    close(got["vax"].to_numpy(), vax, scale)
    close(got["vax_ratio"].to_numpy(), vax / ge, 1.0)
    close(got["dva"].to_numpy(), vax + k["RDV_FIN"] + k["RDV_INT"], scale)
    close(got["dc"].to_numpy(), np.diag(H), scale)
    close(got["fva_share"].to_numpy(), vs / ge, 1.0)
    close(got["dvx_share"].to_numpy(), dvx / ge, 1.0)
    close(got["dvx_hiy"].to_numpy(), vs1, scale)
    close(got["gvc_participation"].to_numpy(), dvx / ge + vs / ge, 1.0)
    close(got["gvc_position"].to_numpy(), np.log(1 + dvx / ge) - np.log(1 + vs / ge), 1.0)
    # by sector: WWZ terms summed over importers, HIY by exporting industry
    w = ref.wwz().sum(axis=2)  # [s, i, term]
    sec = vc.indicators(t, by="sector")
    E = np.concatenate(ref.E)
    close(sec["gross_exports"].to_numpy(), E, scale)
    close(sec["vax"].to_numpy(), w[..., :5].sum(-1).ravel(), scale)
    close(sec["dvx"].to_numpy(), w[..., 3:5].sum(-1).ravel(), scale)
    close(sec["fva"].to_numpy(), np.concatenate(ref.f) * E, scale)
