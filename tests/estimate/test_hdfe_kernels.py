"""The compiled loops of the PPML engine against plain numpy, one thread and several.

The engine picks unrolled sweep kernels by column count (1-16) and dimension count (2, 3),
a general loop otherwise, and may split the sweeps and the one-pass row kernels over threads
(the count depends on the problem size and the machine's load). Every branch is checked here
on small random problems, whatever the machine's size, so the answers cannot depend on which
branch or how many threads a fit happens to use.
"""

from __future__ import annotations

import numpy as np
import pytest

from hdfe_reference import sweep_reference
from kaifang.estimate.hdfe import _kernels as K
from kaifang.estimate.hdfe._demean import FEStructure


def _problem(n: int, dims: int, m: int, seed: int = 0, codes_dtype=None):
    rng = np.random.default_rng(seed)
    sizes = [7, 11, 13, 5][:dims]
    codes = [rng.integers(0, s, n) for s in sizes]
    codes[0][: sizes[0]] = np.arange(sizes[0])  # every group present
    for c, s in zip(codes[1:], sizes[1:], strict=True):
        c[:s] = np.arange(s)
    # sort by the last dimension, so runs of one group occur (the run-summing branch)
    order = np.argsort(codes[-1], kind="stable")
    codes = [c[order] for c in codes]
    fe = FEStructure.from_codes(codes)
    if codes_dtype is not None:  # the uint32 codes of problems with more than 65,535 groups
        fe = FEStructure(cg=fe.cg.astype(codes_dtype), bounds=fe.bounds)
    w = rng.uniform(0.5, 2.0, n)
    V = np.ascontiguousarray(rng.normal(size=(n, m)))
    alpha = rng.normal(size=(fe.n_groups, m))
    return fe, w, V, alpha


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("m", [1, 2, 5, 9, 16, 17])
@pytest.mark.parametrize("threads", [1, 2])
def test_sweep_matches_numpy(dims, m, threads):
    fe, w, V, alpha = _problem(3_000, dims, m, seed=dims * 100 + m)
    S, inv_w = K.group_sums_and_inverse_weights(fe.cg, w, V, fe.n_groups, threads)
    out = np.empty_like(alpha)
    acc = np.empty_like(alpha)
    change = K.gauss_seidel_sweep(fe.cg, w, S, inv_w, fe.bounds, alpha, out, acc, threads)
    ref = sweep_reference(fe, w, S, inv_w, alpha)
    np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-11)
    # the same pass reports fixest's stopping rule: largest |a_in - a_out| / (0.1 + |a_out|) per column
    np.testing.assert_allclose(change, (np.abs(alpha - ref) / (0.1 + np.abs(ref))).max(axis=0), rtol=1e-9)


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_row_kernels_match_numpy_with_any_thread_count(threads, dims):
    fe, w, V, alpha = _problem(5_000, dims, 5, seed=7)
    rng = np.random.default_rng(8)
    cg = fe.cg.astype(np.int64)
    resid = V - sum(alpha[cg[d]] for d in range(dims))
    # group sums and inverse weights
    S, inv_w = K.group_sums_and_inverse_weights(fe.cg, w, V, fe.n_groups, threads)
    S_ref = np.zeros((fe.n_groups, 5))
    sw = np.zeros(fe.n_groups)
    for d in range(dims):
        np.add.at(S_ref, cg[d], w[:, None] * V)
        np.add.at(sw, cg[d], w)
    np.testing.assert_allclose(S, S_ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(inv_w, 1.0 / sw, rtol=1e-12)
    # weighted Gram matrix of the residualised columns
    gram = K.weighted_resid_gram(fe.cg, w, V, alpha, threads)
    np.testing.assert_allclose(gram, (resid * w[:, None]).T @ resid, rtol=1e-11)
    # score X~' W r~
    alpha_r = np.ascontiguousarray(alpha[:, 0])
    alpha_x = np.ascontiguousarray(alpha[:, 1:])
    g = K.weighted_resid_score(fe.cg, w, V, alpha_r, alpha_x, threads)
    np.testing.assert_allclose(g, (resid[:, 1:] * (w * resid[:, 0])[:, None]).sum(axis=0), rtol=1e-11)
    # the same score once the regressors' columns are partialled out in place
    Vx = V.copy()
    K.residualise_columns(fe.cg, Vx, alpha_x, 1, threads)
    np.testing.assert_allclose(Vx[:, 1:], resid[:, 1:], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(Vx[:, 0], V[:, 0])
    g2 = K.weighted_score_partialled(fe.cg, w, Vx, alpha_r, threads)
    np.testing.assert_allclose(g2, (resid[:, 1:] * (w * resid[:, 0])[:, None]).sum(axis=0), rtol=1e-11)
    # Poisson pieces: working residual, deviance, step, log-likelihood
    y = np.where(rng.random(5_000) < 0.3, 0.0, rng.gamma(2.0, 3.0, 5_000))
    eta = rng.normal(1.0, 0.5, 5_000)
    ylogy = K.ylogy_minus_y(y)
    mu = np.exp(eta)
    dev_ref = 2.0 * np.sum(
        w * (np.where(y > 0, y * np.log(np.where(y > 0, y, 1.0)), 0.0) - y * eta - (y - mu))
    )
    W = np.empty(5_000)
    r = np.empty(5_000)
    assert K.poisson_working_residual(y, ylogy, eta, w, W, r, threads) == pytest.approx(dev_ref, rel=1e-12)
    np.testing.assert_allclose(W, w * mu, rtol=1e-14)
    np.testing.assert_allclose(r, (y - mu) / mu, rtol=1e-12, atol=1e-14)
    assert K.poisson_deviance(y, ylogy, eta, w, threads) == pytest.approx(dev_ref, rel=1e-12)
    dbeta = rng.normal(size=4)
    dfe = rng.normal(size=fe.n_groups) * 0.1
    eta_new = eta + 0.5 * (V[:, 1:] @ dbeta + sum(dfe[cg[d]] for d in range(dims)))
    mu_new = np.exp(eta_new)
    e = eta.copy()
    Wn = np.empty(5_000)
    rn = np.empty(5_000)
    dev, S_r, inv_r = K.step_and_deviance(
        e, V, dbeta, fe.cg, dfe, 0.5, y, ylogy, w, Wn, rn, True, threads, fe.n_groups
    )
    np.testing.assert_allclose(e, eta_new, rtol=1e-13, atol=1e-14)
    # the same pass sums W r and W by group for the next step
    Wr_ref = np.zeros(fe.n_groups)
    sW_ref = np.zeros(fe.n_groups)
    for d in range(dims):
        np.add.at(Wr_ref, cg[d], w * mu_new * (y - mu_new) / mu_new)
        np.add.at(sW_ref, cg[d], w * mu_new)
    np.testing.assert_allclose(S_r[:, 0], Wr_ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(inv_r, 1.0 / sW_ref, rtol=1e-12)
    e2 = eta.copy()
    dev2, none_s, none_inv = K.step_and_deviance(
        e2, V, dbeta, fe.cg, dfe, 0.5, y, ylogy, w, Wn, rn, False, threads
    )
    assert dev2 == pytest.approx(dev, rel=1e-12) and none_s is None and none_inv is None
    assert dev == pytest.approx(K.poisson_deviance(y, ylogy, eta_new, w, 1), rel=1e-12)
    np.testing.assert_allclose(Wn, w * mu_new, rtol=1e-13)
    np.testing.assert_allclose(rn, (y - mu_new) / mu_new, rtol=1e-12, atol=1e-14)
    from scipy.special import gammaln

    ll_ref = np.sum(w * (y * eta - mu - gammaln(y + 1.0)))
    assert K.poisson_loglik(y, eta, w, threads) == pytest.approx(ll_ref, rel=1e-12)


def test_unweighted_fits_use_read_only_broadcasts_and_match_explicit_ones():
    """Absent weights and offsets are broadcasts of 1 and 0 inside the engine (no (n,) arrays);
    the estimate must equal the fit with explicit unit weights and a zero offset."""
    from kaifang.estimate.hdfe import ppml_hdfe
    from kaifang.estimate.synthetic import gravity_panel

    d = gravity_panel(8_000, n_years=5, seed=3, zero_share=0.2).data
    args = (
        d["trade"].to_numpy(),
        d[["rta", "ln_tariff", "x1", "x2"]].to_numpy(),
        [d[f].to_numpy() for f in ("exp_year", "imp_year", "pair")],
    )
    a = ppml_hdfe(*args, cluster=d["pair"].to_numpy())
    b = ppml_hdfe(*args, cluster=d["pair"].to_numpy(), weights=np.ones(len(d)), offset=np.zeros(len(d)))
    np.testing.assert_allclose(a.coef, b.coef, rtol=1e-12)
    np.testing.assert_allclose(a.se, b.se, rtol=1e-10)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)


def test_log_factorial_matches_scipy_on_both_branches():
    """``log y!`` of the log-likelihood: ``math.lgamma`` below 10, the Stirling series above
    (truncated after the ``y^-11`` term, error below 1e-15 relative); reference
    ``scipy.special.gammaln(y + 1)``, to 1e-14 relative (1e-14 absolute near ``log y! = 0``)."""
    from scipy.special import gammaln

    y = np.concatenate([np.linspace(0.0, 40.0, 4_001), np.geomspace(9.5, 1e12, 2_000), [10.0, 1e15]])
    ylogy = K.ylogy_minus_y(y)
    got = np.array([K._log_factorial(a, b) for a, b in zip(y, ylogy, strict=True)])
    np.testing.assert_allclose(got, gammaln(y + 1.0), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("weighted", [False, True])
def test_loglik_constant_matches_scipy(weighted):
    """``sum w (y log y - y - log y!)``, the fit-independent part of the log-likelihood (the
    recurrence below 10, the Stirling series above); reference ``scipy.special.gammaln``."""
    from scipy.special import gammaln

    rng = np.random.default_rng(7)
    y = np.concatenate(
        [np.linspace(0.0, 40.0, 4_001), np.geomspace(9.5, 1e4, 2_000), [0.0, 1e-12, 9.999999, 10.0]]
    )
    y = rng.permutation(y)
    w = rng.uniform(0.5, 2.0, y.shape[0]) if weighted else np.broadcast_to(1.0, y.shape)
    ylogy = K.ylogy_minus_y(y)
    ref = float(np.sum(w * (ylogy - gammaln(y + 1.0))))
    assert K.poisson_loglik_constant(y, ylogy, w) == pytest.approx(ref, rel=1e-12)
    work = (np.full(y.shape[0], np.nan), np.full(y.shape[0], np.nan))
    assert K.poisson_loglik_constant(y, ylogy, w, work=work) == pytest.approx(ref, rel=1e-12)
    # row by row, up to 1e12: the log y! it implies, y log y - y minus the row's value, to
    # 1e-14 of scipy's (1e-14 absolute near log y! = 0)
    yb = np.concatenate([y[::3], np.geomspace(1e4, 1e12, 300)])
    yl = K.ylogy_minus_y(yb)
    one = np.ones(1)
    got = np.array([K.poisson_loglik_constant(yb[i : i + 1], yl[i : i + 1], one) for i in range(yb.shape[0])])
    np.testing.assert_allclose(yl - got, gammaln(yb + 1.0), rtol=1e-14, atol=1e-14)


def test_fit_loglik_is_the_poisson_loglik_at_the_estimate():
    """The fit's log-likelihood (the constant minus half the deviance) against the direct sum
    ``sum w (y eta - exp(eta) - log y!)`` at the fitted ``eta`` (scipy's ``gammaln``)."""
    from scipy.special import gammaln

    from kaifang.estimate.hdfe import ppml_hdfe
    from kaifang.estimate.synthetic import gravity_panel

    d = gravity_panel(8_000, n_years=5, seed=5, zero_share=0.3).data
    rng = np.random.default_rng(1)
    for weights in (None, rng.uniform(0.5, 2.0, len(d))):
        fit = ppml_hdfe(
            d["trade"].to_numpy(),
            d[["rta", "ln_tariff", "x1", "x2"]].to_numpy(),
            [d[f].to_numpy() for f in ("exp_year", "imp_year", "pair")],
            weights=weights,
        )
        s = fit.sample
        y = d["trade"].to_numpy()[s]
        w = np.ones(s.sum()) if weights is None else weights[s]
        eta = fit.eta[s]
        ref = float(np.sum(w * (y * eta - np.exp(eta) - gammaln(y + 1.0))))
        assert fit.loglik == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("dims", [1, 2, 3, 4])
def test_fe_sum_matches_numpy(dims):
    """``sum_d fe[g_d(i)]`` (the linear predictor of the fixed effects): the three-dimension
    loop and the general one against a numpy gather, on both code widths."""
    fe, _, _, alpha = _problem(3_000, dims, 1, seed=90 + dims)
    a = alpha[:, 0].copy()
    ref = a[fe.cg.astype(np.int64)].sum(axis=0)
    np.testing.assert_allclose(K.fe_sum(fe.cg, a), ref, rtol=1e-14, atol=1e-14)
    wide = FEStructure(cg=fe.cg.astype(np.uint32), bounds=fe.bounds)
    np.testing.assert_allclose(K.fe_sum(wide.cg, a), ref, rtol=1e-14, atol=1e-14)


def test_code_width_follows_the_number_of_groups():
    """uint16 codes up to 65,535 groups in all, uint32 beyond (no wraparound of the indices)."""
    small = FEStructure.from_codes([np.arange(65_000), np.zeros(65_000, dtype=np.int64)])
    assert small.cg.dtype == np.uint16 and small.n_groups == 65_001
    big = FEStructure.from_codes([np.arange(65_535), np.zeros(65_535, dtype=np.int64)])
    assert big.cg.dtype == np.uint32 and big.n_groups == 65_536
    assert int(big.cg[1].max()) == 65_535  # the last group's global index, not wrapped to 0


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m", [1, 5, 17])
def test_uint32_codes_give_the_same_kernels_as_uint16(m, threads):
    """The same sweep, Gram, score and step results with uint32 codes as with uint16 ones."""
    fe16, w, V, alpha = _problem(3_000, 3, m, seed=40 + m)
    fe32 = FEStructure(cg=fe16.cg.astype(np.uint32), bounds=fe16.bounds)
    assert fe16.cg.dtype == np.uint16
    outs = []
    for fe in (fe16, fe32):
        S, inv_w = K.group_sums_and_inverse_weights(fe.cg, w, V, fe.n_groups, threads)
        out = np.empty_like(alpha)
        change = K.gauss_seidel_sweep(
            fe.cg, w, S, inv_w, fe.bounds, alpha, out, np.empty_like(alpha), threads
        )
        gram = K.weighted_resid_gram(fe.cg, w, V, alpha, threads)
        res = [S, inv_w, out, change, gram]
        if m > 1:
            a_r = np.ascontiguousarray(alpha[:, 0])
            a_x = np.ascontiguousarray(alpha[:, 1:])
            res.append(K.weighted_resid_score(fe.cg, w, V, a_r, a_x, threads))
        outs.append(res)
    ref = sweep_reference(fe16, w, *outs[0][:2], alpha)
    np.testing.assert_allclose(outs[1][2], ref, rtol=1e-10, atol=1e-12)
    for a, b in zip(outs[0], outs[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def _ipf_reference(fe: FEStructure, base, sy, A_in):
    """One sweep of iterative proportional fitting written with numpy: each dimension in turn."""
    A = A_in.copy()
    cg = fe.cg.astype(np.int64)
    for d in range(fe.n_dims):
        prod = base * np.prod([A[cg[e]] for e in range(fe.n_dims) if e != d], axis=0)
        acc = np.zeros_like(A)
        np.add.at(acc, cg[d], prod)
        lo, hi = fe.bounds[d], fe.bounds[d + 1]
        A[lo:hi] = sy[lo:hi] / acc[lo:hi]
    return A


@pytest.mark.parametrize("dims", [2, 3, 4])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_ipf_sweep_and_covariance_pass_match_numpy(dims, threads):
    fe, w, V, alpha = _problem(4_000, dims, 4, seed=60 + dims)
    rng = np.random.default_rng(61)
    # iterative proportional fitting (the fixed-effects start)
    base = rng.uniform(0.5, 2.0, 4_000)
    sy = rng.uniform(1.0, 3.0, fe.n_groups)
    A_in = rng.uniform(0.5, 1.5, fe.n_groups)
    A_out = np.empty_like(A_in)
    acc = np.empty_like(A_in)
    if threads > 1:
        K.ipf_sweep_par(fe.cg, base, sy, fe.bounds, A_in, A_out, acc, threads)
    else:
        K.ipf_sweep(fe.cg, base, sy, fe.bounds, A_in, A_out, acc)
    np.testing.assert_allclose(A_out, _ipf_reference(fe, base, sy, A_in), rtol=1e-12)
    # the covariance pass: X~, H = X~' W X~, mu = exp(eta) and the scores w (y - mu) x~ in place of X
    cg = fe.cg.astype(np.int64)
    Xt_ref = V - sum(alpha[cg[d]] for d in range(dims))
    y = rng.gamma(2.0, 3.0, 4_000)
    eta = rng.normal(1.0, 0.5, 4_000)
    X = V.copy()
    mu = np.empty(4_000)
    H = K.residualise_gram_and_scores(fe.cg, X, alpha, w, w, y, eta, mu, threads)
    np.testing.assert_allclose(mu, np.exp(eta), rtol=1e-15)
    np.testing.assert_allclose(H, (Xt_ref * w[:, None]).T @ Xt_ref, rtol=1e-11)
    np.testing.assert_allclose(X, Xt_ref * (w * (y - mu))[:, None], rtol=1e-11, atol=1e-13)
