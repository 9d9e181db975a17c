"""Batched Caliendo–Parro solves and elasticity bands.

Why the numbers are right: a batched solve must give, member by member, what the one-at-a-time
solver gives for that member (the same equations; checked to 1e-10 on random small worlds with
random elasticities, tariffs, trade costs and deficits), and the uncertainty bands must collapse
to the point result when the elasticities' standard errors go to zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cp_worlds import random_world
from kaifang.errors import ConvergenceError, ScenarioError, UserInputError
from kaifang.models.caliendo_parro import SolverSettings, solve
from kaifang.models.caliendo_parro.batch import solve_batch
from kaifang.models.caliendo_parro.uncertainty import theta_draws

PROP = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIGHT = SolverSettings(tol=1e-13)


def _international(flows):
    n = flows.shape[0]
    dom = np.array([flows[k, k].sum() for k in range(n)])
    return flows.sum(axis=(1, 2)) - dom, flows.sum(axis=(0, 2)) - dom


def _assert_member_equals_single(be, b, e):
    rel = lambda a, c: np.max(np.abs(a / c - 1))  # noqa: E731
    assert rel(be.w_hat[b], e.w_hat) < 1e-10
    assert rel(be.p_hat[b], e.p_hat) < 1e-10
    assert rel(be.c_hat[b], e.c_hat) < 1e-10
    assert rel(be.expenditure[b], e.expenditure) < 1e-10
    assert rel(be.income[b], e.income) < 1e-10
    imports, exports = _international(e.flows)
    # trade is a difference (all sales less domestic sales): compare it on the scale of the sales
    scale = 1e-10 * e.flows.sum(axis=(0, 2)).max()
    np.testing.assert_allclose(be.imports[b], imports, rtol=1e-10, atol=scale)
    np.testing.assert_allclose(be.exports[b], exports, rtol=1e-10, atol=scale)
    np.testing.assert_allclose(be.tariff_revenue[b], e.tariff_revenue, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(be.member(b).shares, e.shares, rtol=1e-9, atol=1e-13)


@PROP
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 3), st.integers(1, 4))
def test_batched_elasticities_equal_one_at_a_time(seed, n, j, members):
    w = random_world(seed, n, j)
    rng = np.random.default_rng(seed)
    theta = w.theta[None] * rng.uniform(0.5, 1.5, size=(members, j))
    tau = w.tariff.copy()
    tau[0, 1] += rng.uniform(0, 0.4, size=j)
    deficits = np.zeros(n)
    be = solve_batch(w, tau, None, deficits, TIGHT, theta=theta)
    for b in range(members):
        e = solve(w.replace(theta=theta[b]), tau, None, deficits, TIGHT)
        _assert_member_equals_single(be, b, e)


@PROP
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 3))
def test_batched_shock_sets_equal_one_at_a_time(seed, n, j):
    """Members differ in tariffs, iceberg costs (domestic ones too) and deficits."""
    w = random_world(seed, n, j)
    rng = np.random.default_rng(seed + 1)
    members = 3
    off = ~np.eye(n, dtype=bool)[:, :, None]
    tau = np.stack([w.tariff + off * rng.uniform(-0.05, 0.3) for _ in range(members)])
    d_hat = np.exp(rng.normal(0, 0.2, size=(members, n, n, j)))
    d_hat[0] = 1.0
    va = w.value_added
    deficits = np.stack([np.zeros(n), w.deficit, 0.5 * (w.deficit - w.deficit.sum() * va / va.sum())])
    be = solve_batch(w, np.maximum(tau, 0), d_hat, deficits, TIGHT)
    for b in range(members):
        e = solve(w, np.maximum(tau[b], 0), d_hat[b], deficits[b], TIGHT)
        _assert_member_equals_single(be, b, e)


def test_chunks_and_warm_start_give_the_same_answer():
    w = random_world(5, 4, 3)
    theta = w.theta[None] * np.linspace(0.6, 1.4, 7)[:, None]
    whole = solve_batch(w, w.tariff * 1.5, None, None, TIGHT, theta=theta)
    tiny_budget = solve_batch(w, w.tariff * 1.5, None, None, TIGHT, theta=theta, max_memory=1.0e5)
    np.testing.assert_allclose(tiny_budget.w_hat, whole.w_hat, rtol=1e-12)
    warm = solve_batch(
        w, w.tariff * 1.5, None, None, TIGHT, theta=theta, start=(whole.w_hat, whole.p_hat, whole.expenditure)
    )
    assert warm.iterations.max() <= 2  # started at the solution
    np.testing.assert_allclose(warm.real_income, whole.real_income, rtol=1e-12)


def test_a_member_the_batch_cannot_solve_is_solved_alone(monkeypatch):
    from kaifang.models import _solver
    from kaifang.models.caliendo_parro import batch

    w = random_world(2, 3, 2)
    theta = w.theta[None] * np.array([[1.0], [1.2], [0.8]])
    real = _solver.anderson_batch

    def failing_member_1(g, x0, **kw):
        out = real(g, x0, **kw)
        converged = out.converged.copy()
        converged[1] = False
        return _solver.BatchFixedPointResult(out.x, converged, out.iterations, out.residual, 0.0, out.method)

    monkeypatch.setattr(batch, "anderson_batch", failing_member_1)
    be = solve_batch(w, w.tariff * 2, None, None, TIGHT, theta=theta)
    assert be.solved_alone == (1,)
    _assert_member_equals_single(be, 1, solve(w.replace(theta=theta[1]), w.tariff * 2, None, None, TIGHT))


def test_bad_batches_are_refused():
    w = random_world(1, 3, 2)
    with pytest.raises(UserInputError, match="disagree on the number of members"):
        solve_batch(w, np.stack([w.tariff] * 2), None, None, theta=np.stack([w.theta] * 3))
    with pytest.raises(UserInputError, match="finite and positive"):
        solve_batch(w, w.tariff, theta=np.stack([w.theta, -w.theta]))
    with pytest.raises(UserInputError, match=r"needs about .* GB, more than the memory budget"):
        solve_batch(w, w.tariff, theta=np.stack([w.theta] * 2), max_memory=10.0)


def test_non_convergence_is_an_error_naming_the_member():
    w = random_world(1, 3, 2)
    with pytest.raises(ConvergenceError, match="batch member 0 did not converge"):
        solve_batch(w, w.tariff * 3, None, None, SolverSettings(max_iter=2), theta=w.theta[None])


def test_draws_have_the_stated_mean_and_spread():
    theta = np.array([2.0, 8.0])
    draws = theta_draws(theta, np.array([0.4, 0.8]), 200_000, seed=3)
    assert (draws > 0).all()
    np.testing.assert_allclose(draws.mean(axis=0), theta, rtol=5e-3)
    np.testing.assert_allclose(draws.std(axis=0), [0.4, 0.8], rtol=1e-2)
    np.testing.assert_array_equal(theta_draws(theta, np.zeros(2), 5, seed=1), np.tile(theta, (5, 1)))


# ----------------------------------------------------------------- scenarios with [uncertainty]
DEMO = """
name = "demo-bands"
model = "caliendo_parro"
dataset = "demo"
[[shocks]]
type = "tariff"
op = "add"
importer = "XAA"
exporter = "XBB"
value = 25
{extra}
[uncertainty]
{unc}
"""


def _run(unc, extra=""):
    import kaifang

    return kaifang.run(kaifang.parse_scenario(DEMO.format(unc=unc, extra=extra)))


def test_bands_collapse_to_the_point_result_as_standard_errors_vanish():
    point = _run("draws = 0").regions.set_index("region")
    widths = []
    for cv in (0.3, 0.03, 0.0):
        r = _run(f"draws = 40\nseed = 2\ncv = {cv}").regions.set_index("region")
        widths.append(float((r["real_wage_pct_hi"] - r["real_wage_pct_lo"]).max()))
        if cv == 0.0:
            # every draw is the point elasticities: the band is the point run's result
            for col in ("real_wage_pct", "wage_pct", "price_index_pct", "exports_pct", "imports_pct"):
                np.testing.assert_allclose(r[f"{col}_lo"], point[col], rtol=1e-7, atol=1e-9)
                np.testing.assert_allclose(r[f"{col}_hi"], point[col], rtol=1e-7, atol=1e-9)
            for col in ("welfare_pct_lo", "welfare_pct_hi"):  # welfare_pct is the exact real-income change
                np.testing.assert_allclose(r[col], point["welfare_pct"], rtol=1e-7, atol=1e-9)
    assert widths[0] > widths[1] > widths[2] == pytest.approx(0.0, abs=1e-9)


def test_bands_are_recorded_with_their_draws():
    r = _run("draws = 12\nseed = 5\nlevel = 0.9\n[uncertainty.se]\nMetals = 0.5")
    unc = r.diagnostics["uncertainty"]
    assert unc["draws"] == 12 and unc["failed_draws"] == 0 and unc["level"] == 0.9
    assert unc["standard_errors"]["Metals"] == 0.5
    assert set(r.tables["draws"]["draw"]) == set(range(12))
    assert len(r.tables["theta_draws"]) == 12 * len(unc["standard_errors"])
    lo, hi = r.regions["welfare_pct_lo"], r.regions["welfare_pct_hi"]
    assert (lo <= hi).all()


@pytest.mark.parametrize(
    ("unc", "message"),
    [
        ("draws = 10\n[uncertainty.se]\nMetalz = 1.0", r"names sector .Metalz..*Did you mean"),
        ("draws = 1000000", r"uncertainty.draws"),
        ('draws = "10"', r"uncertainty.draws"),
        ("draws = 10\nseed = -1", r"uncertainty.seed"),
        ("draws = 10\nlevel = 1.5", r"uncertainty.level"),
        ("draws = 10\nspread = 2", r"unknown field 'uncertainty.spread'"),
    ],
)
def test_bad_uncertainty_sections(unc, message):
    with pytest.raises(ScenarioError, match=message):
        _run(unc)


def test_other_models_refuse_the_section():
    import kaifang

    text = """
name = "x"
model = "ims2025"
dataset = "liberation2025"
[uncertainty]
draws = 10
"""
    with pytest.raises(ScenarioError, match="supported by the caliendo_parro model only"):
        kaifang.run(kaifang.parse_scenario(text))


def test_failed_draws_are_counted_and_reported(monkeypatch):
    from kaifang.models.caliendo_parro import uncertainty

    real = uncertainty.solve_batch

    def flaky(b0, tariff, d_hat, deficits, settings, *, theta, **kw):
        if theta.shape[0] > 1 or np.allclose(theta, flaky.bad):  # the batch, and one draw alone
            raise ConvergenceError("did not converge (test)")
        return real(b0, tariff, d_hat, deficits, settings, theta=theta, **kw)

    monkeypatch.setattr(uncertainty, "solve_batch", flaky)
    # the fourth draw's elasticities for the demo world (same seed and default spread as the run)
    from kaifang.baseline import from_raw
    from kaifang.data.demo import generate

    theta0 = from_raw(generate()).theta
    flaky.bad = uncertainty.theta_draws(theta0, 0.2 * theta0, 6, seed=9)[3]
    r = _run("draws = 6\nseed = 9")
    unc = r.diagnostics["uncertainty"]
    assert unc["failed_draws"] == 1 and unc["failed_draw_ids"] == [3]
    assert 3 not in set(r.tables["draws"]["draw"]) and len(set(r.tables["draws"]["draw"])) == 5
    assert r.tables["theta_draws"].query("draw == 3")["failed"].all()


@PROP
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 3))
def test_batched_embargo_equals_one_at_a_time(seed, n, j):
    """An embargo that cuts region 0 off (both directions), with elasticity draws: member by
    member what solve() gives with the same embargo (zero trade exactly, own numeraire)."""
    w = random_world(seed, n, j, deficits="zero")
    rng = np.random.default_rng(seed)
    theta = w.theta[None] * rng.uniform(0.5, 1.5, size=(3, j))
    emb = np.zeros((n, n, j), dtype=bool)
    emb[0, 1:] = emb[1:, 0] = True
    tau = w.tariff * 1.2
    be = solve_batch(w, tau, None, np.zeros(n), TIGHT, theta=theta, embargo=emb)
    for b in range(3):
        e = solve(w.replace(theta=theta[b]), tau, None, np.zeros(n), TIGHT, embargo=emb)
        for name in ("w_hat", "p_hat", "c_hat", "expenditure", "income", "real_income"):
            np.testing.assert_allclose(getattr(be, name)[b], getattr(e, name), rtol=1e-10, err_msg=name)
        imports, exports = _international(e.flows)
        scale = w.value_added.sum()
        np.testing.assert_allclose(be.imports[b], imports, rtol=1e-10, atol=1e-14 * scale)
        np.testing.assert_allclose(be.exports[b], exports, rtol=1e-10, atol=1e-14 * scale)
        assert abs(be.imports[b, 0]) <= 1e-14 * scale and abs(be.exports[b, 0]) <= 1e-14 * scale
        np.testing.assert_allclose(be.member(b).shares, e.shares, rtol=1e-9, atol=1e-13)
