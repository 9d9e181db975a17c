"""Welfare in the Caliendo–Parro (2015) model: the exact change and its decomposition.

**Welfare** of region n is real income W_n = I_n / P_n, with income I_n = w_n L_n + R_n + D_n
(value added, tariff revenue, the trade deficit) and the consumer price index
P_n = prod_j P_{nj}^{alpha_{nj}} of the Cobb–Douglas final demand. Preferences are homothetic,
so the equivalent variation of a counterfactual in percent of baseline income is the exact
change 100 (W-hat_n - 1) = 100 ((I'_n / I_n) / P-hat_n - 1) (:attr:`Equilibrium.real_income`).

**Its total differential.** At any equilibrium, with imports M_{nij} of n from i at producer
prices, exports E_{nij} = M_{inj}, input costs c_{nj}, tariffs tau_{nij}, iceberg costs d_{nij}
(productivity enters as a cost factor 1/A_{ij} on every delivery of producers i, j) and
deficits D_n, the equilibrium conditions (expenditure, input costs, price indices, labour-market
clearing) give exactly

    I_n d ln W_n = sum_{i,j} [E_{nij} d ln c_{nj} - M_{nij} d ln c_{ij}]          terms of trade
                 + sum_{i,j} tau_{nij} (dM_{nij} - M_{nij} d ln c_{ij})            volume of trade
                 - sum_{i,j} (1 + tau_{nij}) M_{nij} d ln d_{nij}                  technical efficiency
                 + sum_{i,j} (1 + tau_{nij}) M_{nij} d ln A_{ij}                   productivity
                 + dD_n                                                            deficit

(Caliendo and Parro 2015, section 4 and their appendix, for the first three; the deficit and
productivity terms follow from the same steps with I_n = w_n L_n + R_n + D_n and a cost factor
1/A). Evaluated once with baseline levels and counterfactual changes this is the paper's
first-order decomposition (:func:`decompose`, their Table 2 for NAFTA), which is far from the
exact change for large shocks.

**Integrated along the path of the shock** (:func:`integrate`), the parts add up to the exact
change. The shock moves from the baseline (s = 0) to the counterfactual (s = 1) along
:class:`ShockPath`; the equilibrium is solved at the points s = k / K of uniform grids (each
solve warm-started from its solved neighbours). Each part is integrated with the weight
omega_n(s) = (W_n(s) / W_n(0)) / I_n(s), so that d W_n / W_n(0) = omega_n I_n d ln W_n and the
parts are in percent of *baseline* real income and sum to W-hat_n - 1:

* terms of trade, volume of trade and deficit by the trapezoidal rule (levels of the two ends
  of a step averaged, exact changes of ln c, omega tau M and D over it), the volume of trade
  written as omega tau dM = d(omega tau M) - tau M d omega - omega (1 + tau) M d ln(1 + tau);
* the remaining integrals of the buyer-price flows omega (1 + tau) M against d ln(1 + tau),
  d ln d and d ln A (all proportional to d phi along the path) with the flows taken linear,
  between the nodes, in the power of the share multiplier kappa-hat^{-theta} that the share
  follows: exact for a flow that falls in proportion to it (an embargo), the trapezoid where
  the path is log-linear.

Both rules are symmetric in the two ends of a step, so their error is a series in even powers
of 1/K, and the estimates for several K are extrapolated to K = infinity by Richardson
extrapolation (as in Romberg integration; GEMPACK, the solver of GTAP and of its welfare
decomposition, extrapolates multi-step solutions over step counts in the same way). What is left, the exact change minus the sum of the
parts, is the residual; a residual above :data:`RESIDUAL_WARNING` is warned about.

Bilateral (sum over j) and sectoral (sum over i) contributions are the terms of these sums.
Axis order ``(n, i, j)`` = (importer, exporter, sector) as in :mod:`.equations`.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from kaifang.errors import ConvergenceError, KaifangWarning
from kaifang.models.caliendo_parro.solver import Equilibrium, SolverSettings, solve

__all__ = [
    "WELFARE_MEASURE",
    "IntegratedWelfare",
    "ShockPath",
    "WelfareDecomposition",
    "decompose",
    "integrate",
    "technical_efficiency",
    "terms_of_trade",
    "volume_of_trade",
    "welfare_diagnostics",
]

#: Largest residual (fraction of baseline income) of the decomposition that passes without a warning.
RESIDUAL_WARNING = 1e-4

#: The definition of ``welfare_pct`` as stated in a run's ``diagnostics.welfare_measure``.
WELFARE_MEASURE = (
    "welfare_pct is the exact change in real income, 100 (I'/I / P-hat - 1) with income I = value "
    "added + tariff revenue + deficit and the Cobb-Douglas consumer price index P (the equivalent "
    "variation in percent of baseline income); its parts (terms of trade, volume of trade, technical "
    "efficiency, productivity, deficit) are the Caliendo-Parro (2015) decomposition integrated along "
    "the shock's path and add up to it but for welfare_residual_pct; welfare_first_order_pct is the "
    "paper's first-order measure."
)


# --------------------------------------------------------------------------- first order (the paper's)
def terms_of_trade(flows: np.ndarray, c_hat: np.ndarray, income: np.ndarray) -> np.ndarray:
    """ToT_{nij} = [E_{nij}(c-hat_{nj} - 1) - M_{nij}(c-hat_{ij} - 1)] / I_n, ``(N, N, J)``.

    ``flows[n, i, j]`` = M_{nij} (imports of n from i at producer prices); E_{nij} = M_{inj}.
    """
    exports = flows.transpose(1, 0, 2)
    tot = exports * (c_hat[:, None, :] - 1.0) - flows * (c_hat[None, :, :] - 1.0)
    return tot / income[:, None, None]


def volume_of_trade(
    flows: np.ndarray, flows_new: np.ndarray, tariff: np.ndarray, c_hat: np.ndarray, income: np.ndarray
) -> np.ndarray:
    """VoT_{nij} = tau_{nij} (M'_{nij} - c-hat_{ij} M_{nij}) / I_n, ``(N, N, J)``."""
    return tariff * (flows_new - c_hat[None, :, :] * flows) / income[:, None, None]


def technical_efficiency(
    flows: np.ndarray, tariff: np.ndarray, d_hat: np.ndarray, income: np.ndarray
) -> np.ndarray:
    """-M_{nij}(1 + tau_{nij})(d-hat_{nij} - 1) / I_n: the iceberg-cost term, ``(N, N, J)``."""
    return -flows * (1.0 + tariff) * (d_hat - 1.0) / income[:, None, None]


@dataclass(frozen=True)
class WelfareDecomposition:
    """The paper's first-order decomposition, as fractions (not percent), each ``(N, N, J)``.

    ``efficiency`` includes productivity shocks (a cost factor on every delivery); ``deficit``
    is the change of the deficit over baseline income, ``(N,)``, zero when deficits are fixed.
    """

    tot: np.ndarray
    vot: np.ndarray
    efficiency: np.ndarray
    deficit: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """First-order welfare change by region: sum of all terms, ``(N,)``."""
        return (self.tot + self.vot + self.efficiency).sum(axis=(1, 2)) + self.deficit


def decompose(e: Equilibrium) -> WelfareDecomposition:
    """The first-order decomposition of Caliendo and Parro (2015) of ``e`` against its baseline.

    Terms of trade and volume of trade (their Table 2), technical efficiency for iceberg and
    productivity changes, and the deficit change (D' - D) / I. Accurate only to first order in
    the shock; :func:`integrate` gives parts that add up to the exact change.
    """
    b = e.baseline
    income = b.income
    return WelfareDecomposition(
        tot=terms_of_trade(b.flows, e.c_hat, income),
        vot=volume_of_trade(b.flows, e.flows, b.tariff, e.c_hat, income),
        efficiency=technical_efficiency(b.flows, b.tariff, e.d_hat, income),
        deficit=(e.deficit_new - b.deficit) / income,
    )


# --------------------------------------------------------------------------- the path of a shock
#: A cell's path is shaped (see :class:`ShockPath`) where its trade share falls by more than this
#: many log points between the baseline and the counterfactual ...
SHAPE_MIN_FALL = 5.0
#: ... and by at least this fraction of the log fall of its share multiplier kappa-hat^{-theta}.
SHAPE_MIN_RATIO = 0.8


@dataclass(frozen=True, eq=False)
class ShockPath:
    """The path of a shock from the baseline (s = 0) to the counterfactual (s = 1).

    Per cell (n, i, j), trade costs kappa = (1 + tau) d move together: the log changes of the
    tariff factor 1 + tau and of the cost factor d (iceberg costs and productivity) are the same
    fraction phi(s) of their total changes, phi(0) = 0 and phi(1) = 1. By default the path is
    log-linear, phi(s) = s. Where trade costs rise and the cell's trade share pi_{nij} collapses
    in the counterfactual, by b = ln(pi / pi') > :data:`SHAPE_MIN_FALL` log points and nearly as
    much as its share multiplier m = kappa-hat^{-theta_j} (b >= :data:`SHAPE_MIN_RATIO`
    ln(1 / m(1)), as under an embargo: the exporter does not absorb the cost), the path is
    shaped so that m^{b / a}, which the share follows, falls *linearly* from 1 to e^{-b}:

        phi(s) = -ln(1 - s (1 - e^{-b})) / b.

    A log-linear path would instead cut such a flow within the first percent of the path (an
    embargo multiplies the cost by 10^4, the multiplier by 10^{-4 theta}). Where the exporter
    absorbs much of the cost by lower costs of its own (near autarky, when it loses all its
    markets), the log-linear path is kept: along it those costs then fall evenly. Deficits move
    linearly, D(s) = D + s (D' - D).

    Parameters
    ----------
    e
        The counterfactual; its baseline is the start of the path.
    """

    e: Equilibrium
    log_tariff: np.ndarray = field(init=False)
    log_d: np.ndarray = field(init=False)
    a: np.ndarray = field(init=False)
    shaped: np.ndarray = field(init=False)
    share_fall: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        b = self.e.baseline
        lt = np.log1p(self.e.tariff_new) - np.log1p(b.tariff)
        ld = np.log(self.e.d_hat)
        a = b.theta * (lt + ld)  # -ln m(1)
        pi0, pi1 = b.shares, self.e.shares
        with np.errstate(divide="ignore", invalid="ignore"):
            fall = np.log(pi0) - np.log(pi1)
        fall = np.where(pi0 > 0, np.where(pi1 > 0, fall, a), 0.0)  # a flow that vanished: its multiplier
        shaped = (a > 0) & (fall > SHAPE_MIN_FALL) & (fall >= SHAPE_MIN_RATIO * a)
        for name, v in (
            ("log_tariff", lt),
            ("log_d", ld),
            ("a", a),
            ("shaped", shaped),
            ("share_fall", np.where(shaped, fall, 0.0)),
        ):
            object.__setattr__(self, name, v)

    def phi(self, s: float) -> np.ndarray:
        """Fraction phi(s) of the log change of trade costs reached at s, ``(N, N, J)``."""
        if s >= 1.0:
            return np.ones(self.a.shape)
        out = np.full(self.a.shape, float(s))
        k = self.shaped
        f = self.share_fall[k]
        out[k] = -np.log1p(s * np.expm1(-f)) / f
        return out

    def at(self, s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tariffs, iceberg changes (relative to the baseline) and deficits at s."""
        if s >= 1.0:
            return self.e.tariff_new, self.e.d_hat, self.e.deficit_new
        b = self.e.baseline
        phi = self.phi(s)
        tariff = np.expm1(np.log1p(b.tariff) + phi * self.log_tariff)
        n = b.n_regions
        tariff[np.arange(n), np.arange(n)] = 0.0
        d_hat = np.exp(phi * self.log_d)
        deficit = b.deficit + s * (self.e.deficit_new - b.deficit)
        return tariff, d_hat, deficit


# --------------------------------------------------------------------------- integration
@dataclass(frozen=True, eq=False)
class IntegratedWelfare:
    """The exact welfare change and its parts integrated along the path of the shock.

    All values are fractions of baseline real income (not percent).

    Attributes
    ----------
    exact
        W-hat_n - 1, ``(N,)``.
    tot, vot, efficiency, productivity
        Terms of trade, volume of trade, technical efficiency (iceberg, ntb and embargo
        changes) and productivity contributions by cell, ``(N, N, J)``.
    deficit
        Contribution of the change in the deficit, ``(N,)``.
    steps, extrapolation
        The step counts and how their estimates were combined (``"richardson"`` or ``"none"``).
    residual_by_steps
        Largest absolute residual (exact minus the sum of the parts) of each step count's own
        estimate, before extrapolation.
    solves, iterations, seconds
        Equilibria solved along the path, their solver iterations, and the wall time.
    """

    exact: np.ndarray
    tot: np.ndarray
    vot: np.ndarray
    efficiency: np.ndarray
    productivity: np.ndarray
    deficit: np.ndarray
    steps: tuple[int, ...]
    extrapolation: str
    residual_by_steps: dict[int, float]
    solves: int
    iterations: int
    seconds: float

    @property
    def total(self) -> np.ndarray:
        """Sum of the parts by region, ``(N,)``."""
        cells = self.tot + self.vot + self.efficiency + self.productivity
        return cells.sum(axis=(1, 2)) + self.deficit

    @property
    def residual(self) -> np.ndarray:
        """Exact change minus the sum of the parts, ``(N,)``."""
        return self.exact - self.total


@dataclass(frozen=True, eq=False)
class _Node:
    """What the integration rules need from the equilibrium at one point s of the path."""

    omega: np.ndarray  # (W(s)/W(0)) / I(s), (N,)
    flows: np.ndarray  # M, (N, N, J)
    log_c: np.ndarray  # ln c-hat, (N, J)
    tariff: np.ndarray  # tau(s), (N, N, J)
    deficit: np.ndarray  # D(s), (N,)
    phi: np.ndarray  # phi(s), (N, N, J)
    buyer: np.ndarray  # G = omega_n (1 + tau) M, buyer-price flows per unit of income, (N, N, J)


def _node(e: Equilibrium | None, path: ShockPath, s: float) -> _Node:
    if e is None:  # the baseline itself
        b = path.e.baseline
        log_c = np.zeros((b.n_regions, b.n_sectors))
        omega = 1.0 / b.income
        flows, tariff, deficit = b.flows, b.tariff, b.deficit
    else:
        flows, tariff, deficit = e.flows, e.tariff_new, e.deficit_new
        log_c = np.log(e.c_hat)
        omega = e.real_income / e.income
    buyer = omega[:, None, None] * (1.0 + tariff) * flows
    return _Node(omega, flows, log_c, tariff, deficit, path.phi(s), buyer)


def _far_weight(ell: np.ndarray) -> np.ndarray:
    """1/ell - 1/(e^ell - 1): the weight of the far end when a quantity linear in m is integrated
    over d ln m, with ell = ln(m_z / m_a); 1/2 at ell = 0, always in (0, 1)."""
    small = np.abs(ell) < 1e-4
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = 1.0 / ell - 1.0 / np.expm1(ell)
    return np.where(small, 0.5 - ell / 12.0, w)


def _flow_integral(ga: np.ndarray, gz: np.ndarray, dphi: np.ndarray, ell: np.ndarray) -> np.ndarray:
    """Integral over phi of the flows G across one step; ell is the step's change of ln m^{b/a}.

    G is taken to be linear in m^{b/a} (which the share follows on a shaped path, see
    :class:`ShockPath`) between the two ends: exact for a flow that falls in proportion to it,
    as under an embargo until the flow vanishes, the trapezoid where it does not move
    (ell = 0, the log-linear path), and always a weighted mean of the two end values times
    dphi. Symmetric in the two ends.
    """
    far = _far_weight(ell)
    return dphi * ((1.0 - far) * ga + far * gz)


def _step(a: _Node, z: _Node, path: ShockPath) -> tuple[np.ndarray, ...]:
    """Contributions of one step from node ``a`` to node ``z`` (fractions of baseline real income).

    Terms of trade and volume of trade by the trapezoidal rule with the exact changes of
    ln c-hat, omega and omega tau M over the step, the volume of trade written as
    omega tau dM = d(omega tau M) - tau M d omega - omega (1 + tau) M d ln(1 + tau) so that no
    weight is the tariff itself (which rises steeply at the end of the path of a large tariff).
    The remaining integral, of the buyer-price flows G = omega (1 + tau) M over phi (its
    products with the whole path's log changes of 1 + tau, of the iceberg factor and of
    productivity are the remaining parts), by :func:`_flow_integral`. Returns terms of trade,
    volume of trade without that integral, the integral, and the deficit part.
    """
    wa, wz = a.omega[:, None, None], z.omega[:, None, None]
    dlc = z.log_c - a.log_c
    wm = 0.5 * (wa * a.flows + wz * z.flows)  # omega_n M_{nij}
    we = 0.5 * (wa * a.flows.transpose(1, 0, 2) + wz * z.flows.transpose(1, 0, 2))  # omega_n E_{nij}
    tot = we * dlc[:, None, :] - wm * dlc[None, :, :]
    tma, tmz = a.tariff * a.flows, z.tariff * z.flows
    wtm = 0.5 * (wa * tma + wz * tmz)
    vot = (wz * tmz - wa * tma) - 0.5 * (tma + tmz) * (wz - wa) - wtm * dlc[None, :, :]
    dphi = z.phi - a.phi
    buyer = _flow_integral(a.buyer, z.buyer, dphi, -path.share_fall * dphi)
    deficit = 0.5 * (a.omega + z.omega) * (z.deficit - a.deficit)
    return tot, vot, buyer, deficit


def _predict(known: dict[float, tuple[np.ndarray, ...]], s: float) -> tuple[np.ndarray, ...]:
    """Warm start at s: log w-hat, log P-hat, log X' interpolated between the solved points around it."""
    lo = max(t for t in known if t < s)
    hi = min(t for t in known if t > s)
    f = (s - lo) / (hi - lo)
    return tuple(np.exp((1.0 - f) * x + f * y) for x, y in zip(known[lo], known[hi], strict=True))


def _richardson(estimates: Sequence[np.ndarray], steps: Sequence[int]) -> np.ndarray:
    """Extrapolate estimates with errors in even powers of 1/K to K = infinity (Neville)."""
    t = [np.asarray(x, dtype=float) for x in estimates]
    for m in range(1, len(t)):
        for k in range(len(t) - 1, m - 1, -1):
            ratio = (steps[k] / steps[k - m]) ** 2
            t[k] = t[k] + (t[k] - t[k - 1]) / (ratio - 1.0)
    return t[-1]


def integrate(
    e: Equilibrium,
    *,
    steps: Sequence[int] = (2, 4),
    extrapolation: Literal["richardson", "none"] = "richardson",
    productivity: np.ndarray | None = None,
    settings: SolverSettings | None = None,
    progress: Callable[[str], None] | None = None,
) -> IntegratedWelfare:
    """Exact welfare change of ``e`` and its decomposition integrated along the shock's path.

    Parameters
    ----------
    e
        A solved counterfactual; its ``baseline`` must be an equilibrium (e.g. from
        :meth:`Equilibrium.to_baseline`), the start of the path.
    steps
        Step counts K of the uniform grids s = k / K (increasing); their trapezoidal
        estimates are extrapolated to K = infinity. The equilibrium is solved once at every
        distinct interior grid point. Empty: no decomposition (the parts are NaN).
    extrapolation
        ``"richardson"``: extrapolate the estimates of all step counts; ``"none"``: report the
        estimate of the largest step count.
    productivity
        The productivity factors A-hat over ``(region, sector)`` contained in ``e.d_hat`` (which
        is the cost factor d-hat / A-hat): their part is reported as ``productivity``, the rest
        of d-hat as technical efficiency. ``None``: no productivity change.
    settings
        Solver settings of the path's equilibria (default: those of :func:`solve`).
    progress
        Called with a message before each solve.

    Returns
    -------
    IntegratedWelfare

    Raises
    ------
    ConvergenceError
        When an equilibrium on the path does not converge (the message says where).
    """
    t0 = time.perf_counter()
    b = e.baseline
    n, j = b.n_regions, b.n_sectors
    exact = e.real_income - 1.0
    steps = tuple(int(k) for k in steps)
    log_prod = (
        np.zeros((n, n, j)) if productivity is None else np.broadcast_to(np.log(productivity), (n, n, j))
    )
    if not steps:
        nan = np.full((n, n, j), np.nan)
        return IntegratedWelfare(exact, nan, nan, nan, nan, np.full(n, np.nan), (), "none", {}, 0, 0, 0.0)
    path = ShockPath(e)
    grid = sorted({Fraction(k, m) for m in steps for k in range(1, m)})
    nodes: dict[Fraction, _Node] = {Fraction(0): _node(None, path, 0.0), Fraction(1): _node(e, path, 1.0)}
    settings = settings or SolverSettings()
    known = {
        0.0: (np.zeros(n), np.zeros((n, j)), np.log(b.expenditure)),
        1.0: (np.log(e.w_hat), np.log(e.p_hat), np.log(e.expenditure)),
    }
    iterations = 0
    for k, s in enumerate(grid):
        if progress is not None:
            progress(f"welfare decomposition: equilibrium {k + 1} of {len(grid)} on the path (s = {s})")
        tariff, d_hat, deficit = path.at(float(s))
        try:
            es = solve(b, tariff, d_hat, deficit, settings, start=_predict(known, float(s)))
        except ConvergenceError as err:
            raise ConvergenceError(
                f"the welfare decomposition solves the equilibrium at points along the shock's path, "
                f"and at s = {float(s):.4g} of the way it did not converge: {err} The counterfactual "
                f"itself solved; set [solver] welfare_steps = [] to report the exact welfare change "
                f"without its decomposition.",
                iterations=err.iterations,
                residual=err.residual,
            ) from err
        iterations += es.diagnostics.iterations
        known[float(s)] = (np.log(es.w_hat), np.log(es.p_hat), np.log(es.expenditure))
        nodes[s] = _node(es, path, float(s))
    estimates: list[tuple[np.ndarray, ...]] = []
    residual_by_steps: dict[int, float] = {}
    # -d ln d / d phi: the iceberg part -ln d-hat_ice and the productivity part ln A-hat
    log_ice = path.log_d + log_prod
    for m in steps:
        acc = [np.zeros((n, n, j)), np.zeros((n, n, j)), np.zeros((n, n, j)), np.zeros(n)]
        for k in range(m):
            parts = _step(nodes[Fraction(k, m)], nodes[Fraction(k + 1, m)], path)
            for x, p in zip(acc, parts, strict=True):
                x += p
        tot, vot, buyer, deficit = acc
        vot = vot - buyer * path.log_tariff
        est = (tot, vot, -buyer * log_ice, buyer * log_prod, deficit)
        estimates.append(est)
        total = sum(x.sum(axis=(1, 2)) for x in est[:4]) + est[4]
        residual_by_steps[m] = float(np.max(np.abs(exact - total)))
    if extrapolation == "richardson":
        parts = [_richardson([est[p] for est in estimates], steps) for p in range(5)]
    else:
        parts = list(estimates[-1])
    out = IntegratedWelfare(
        exact=exact,
        tot=parts[0],
        vot=parts[1],
        efficiency=parts[2],
        productivity=parts[3],
        deficit=parts[4],
        steps=steps,
        extrapolation=extrapolation,
        residual_by_steps=residual_by_steps,
        solves=len(grid),
        iterations=iterations,
        seconds=time.perf_counter() - t0,
    )
    worst = int(np.argmax(np.abs(out.residual)))
    if abs(out.residual[worst]) > RESIDUAL_WARNING:
        warnings.warn(
            f"the welfare decomposition's parts miss the exact welfare change by up to "
            f"{100 * abs(out.residual[worst]):.3g} % of income ({b.regions[worst]}) with [solver] "
            f"welfare_steps = {list(steps)}; welfare_pct itself is exact. Raise welfare_steps (e.g. "
            f"[4, 8, 16]) for a closer decomposition; shocks that bring markets close to autarky "
            f"converge slowly.",
            KaifangWarning,
            stacklevel=2,
        )
    return out


def welfare_diagnostics(w: IntegratedWelfare) -> dict[str, object]:
    """A run's diagnostics on welfare: the measure, the largest residual, how it was computed.

    ``welfare_measure`` (:data:`WELFARE_MEASURE`), ``welfare_residual_max_pct`` (largest
    absolute residual over regions, percent of income; null without a decomposition) and
    ``welfare_decomposition`` (step counts, extrapolation, the residual of each step count's own
    estimate, equilibria solved on the path, their iterations and seconds).
    """
    return {
        "welfare_measure": WELFARE_MEASURE,
        "welfare_residual_max_pct": float(100 * np.max(np.abs(w.residual))) if w.steps else None,
        "welfare_decomposition": {
            "steps": list(w.steps),
            "extrapolation": w.extrapolation if len(w.steps) > 1 else "none",
            "max_residual_pct_by_steps": {str(k): 100 * v for k, v in w.residual_by_steps.items()},
            "solves": w.solves,
            "iterations": w.iterations,
            "seconds": w.seconds,
        },
    }
