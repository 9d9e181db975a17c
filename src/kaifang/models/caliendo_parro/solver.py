"""The Caliendo–Parro (2015) equilibrium in changes: a pure ``solve`` function.

Unknowns: wage changes w-hat_n, sectoral price changes P-hat_{nj} and counterfactual
expenditures X'_{nj}. One evaluation of the map G(w, P, X) applies, in order,

1. the input-cost and price-index conditions (``equations.log_input_cost``, ``price_index``)
   and the trade shares pi' (``trade_shares``) on the traded sectors, written as batched
   matrix products over sectors with pk_{nij} = pi_{nij} kappa-hat_{nij}^{-theta_j} precomputed:
   P-hat_{nj}^{-theta_j} = sum_i pk_{nij} c-hat_{ij}^{-theta_j}, so one evaluation needs N x J
   exponentials, not N x N x J (a non-traded sector's price moves with its own input cost);
   this block is swept ``PRICE_SWEEPS`` times;
2. the expenditure condition X'_{nk} = sum_j gamma_{nkj} Y'_{nj} + alpha_{nk} I'_n with gross
   output Y'_{ij} = sum_n pi'_{nij} X'_{nj} / (1 + tau'_{nij}) and income
   I'_n = w-hat_n VA_n + R'_n + D'_n, swept ``EXPENDITURE_SWEEPS`` times;
3. labour-market clearing w-hat_n VA_n = sum_j gamma_{nj} Y'_{nj} (equivalent, given 2, to the
   paper's trade-balance condition), normalised so that world value added is unchanged
   (the numeraire).

The joint fixed point of G in (log w, log P, log X) is found by Anderson acceleration
(:func:`kaifang.models._solver.anderson`). Trade balance and labour-market clearing are
checked at the solution (:func:`equilibrium_residuals`); the fast formulas are tested against
the textbook ones in :mod:`.equations`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.models._solver import SolverDiagnostics, anderson
from kaifang.models.caliendo_parro import equations as eq

__all__ = ["Equilibrium", "SolverSettings", "solve"]

#: Sweeps of the price block and of the expenditure block per evaluation of the map (measured:
#: two of each cut the wall time of the NAFTA solves by about a quarter against one of each).
PRICE_SWEEPS = 2
EXPENDITURE_SWEEPS = 2


class SolverSettings(BaseModel):
    """Settings of the equilibrium solver (the scenario's ``[solver]`` section).

    Attributes
    ----------
    method
        ``"anderson"`` (Anderson-accelerated joint fixed point, the default) or
        ``"fixed_point"`` (the same map, damped, without acceleration; slow but simple).
    tol
        Convergence tolerance on the largest change of log wages, log prices and log
        expenditures in one step.
    max_iter
        Most evaluations of the equilibrium map.
    memory
        Anderson memory (past steps kept).
    damping
        Weight of the new iterate, in (0, 1]; default 1 with Anderson, 0.25 without (the
        undamped joint map can oscillate).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["anderson", "fixed_point"] = "anderson"
    tol: float = Field(default=1e-12, gt=0.0, le=1e-3)
    max_iter: int = Field(default=5000, ge=1)
    memory: int = Field(default=10, ge=1, le=100)
    damping: float | None = Field(default=None, gt=0.0, le=1.0)


@dataclass(frozen=True, eq=False)
class Equilibrium:
    """A solved counterfactual equilibrium, relative to ``baseline``.

    Attributes
    ----------
    baseline
        The world the changes are relative to.
    tariff_new, d_hat, deficit_new
        The counterfactual tariffs (fractions), iceberg changes and deficits (levels).
    w_hat
        Wage changes w-hat_n, ``(N,)``.
    p_hat
        Sectoral price-index changes P-hat_{nj}, ``(N, J)``.
    c_hat
        Input-bundle cost changes c-hat_{nj}, ``(N, J)``.
    shares
        Counterfactual expenditure shares pi'_{nij}, ``(N, N, J)``.
    expenditure
        Counterfactual expenditure X'_{nj} at buyer prices, ``(N, J)``.
    diagnostics
        The solver's diagnostics.
    residuals
        Largest relative errors of trade balance, labour-market clearing and expenditure at the
        solution (computed on first access).
    """

    baseline: MultiSectorBaseline
    tariff_new: np.ndarray
    d_hat: np.ndarray
    deficit_new: np.ndarray
    w_hat: np.ndarray
    p_hat: np.ndarray
    c_hat: np.ndarray
    shares: np.ndarray
    expenditure: np.ndarray
    diagnostics: SolverDiagnostics

    @cached_property
    def residuals(self) -> dict[str, float]:
        """Largest relative errors of the equilibrium conditions (:func:`equilibrium_residuals`)."""
        return equilibrium_residuals(self)

    @cached_property
    def flows(self) -> np.ndarray:
        """x'_{nij} = pi'_{nij} X'_{nj} / (1 + tau'_{nij}): counterfactual flows at producer prices."""
        return self.shares * self.expenditure[:, None, :] / (1.0 + self.tariff_new)

    @cached_property
    def gross_output(self) -> np.ndarray:
        """Y'_{ij} = sum_n x'_{nij}, ``(N, J)``."""
        return self.flows.sum(axis=0)

    @cached_property
    def value_added(self) -> np.ndarray:
        """w-hat_n VA_n, ``(N,)``."""
        return self.w_hat * self.baseline.value_added

    @cached_property
    def tariff_revenue(self) -> np.ndarray:
        """R'_n = sum_{i,j} tau'_{nij} x'_{nij}, ``(N,)``."""
        return (self.tariff_new * self.flows).sum(axis=(1, 2))

    @cached_property
    def income(self) -> np.ndarray:
        """I'_n = w-hat_n VA_n + R'_n + D'_n, ``(N,)``."""
        return self.value_added + self.tariff_revenue + self.deficit_new

    @cached_property
    def price_index(self) -> np.ndarray:
        """P-hat_n = prod_j P-hat_{nj}^{alpha_{nj}}, ``(N,)``."""
        return eq.aggregate_price_index(self.p_hat, self.baseline.alpha)

    @cached_property
    def real_wage(self) -> np.ndarray:
        """w-hat_n / P-hat_n, ``(N,)``."""
        return self.w_hat / self.price_index

    @cached_property
    def real_income(self) -> np.ndarray:
        """(I'_n / I_n) / P-hat_n: the exact change in welfare (real income), ``(N,)``."""
        return self.income / self.baseline.income / self.price_index

    def to_baseline(self, note: str = "") -> MultiSectorBaseline:
        """The counterfactual as a new (consistent) baseline in levels."""
        return self.baseline.replace(
            flows=self.flows, tariff=self.tariff_new, note=note or "solved equilibrium"
        )


def _check_inputs(
    baseline: MultiSectorBaseline, tariff_new: np.ndarray, d_hat: np.ndarray, deficit_new: np.ndarray
) -> None:
    n, j = baseline.n_regions, baseline.n_sectors
    for name, arr, shape in (
        ("tariff_new", tariff_new, (n, n, j)),
        ("d_hat", d_hat, (n, n, j)),
        ("deficits_new", deficit_new, (n,)),
    ):
        if arr.shape != shape:
            raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} has non-finite values")
    if (tariff_new <= -1).any():
        raise ValueError("tariff_new has values at or below -1 (-100 %)")
    if (d_hat <= 0).any():
        raise ValueError("d_hat must be positive")
    if np.any(tariff_new[np.arange(n), np.arange(n)] != 0):
        raise ValueError("tariff_new must be zero on domestic pairs")
    scale = baseline.value_added.sum()
    if abs(deficit_new.sum()) > 1e-9 * scale:
        raise ValueError(f"deficits_new must sum to zero over regions (sum is {deficit_new.sum():.6g})")


def solve(
    baseline: MultiSectorBaseline,
    tariff_new: np.ndarray,
    d_hat: np.ndarray | None = None,
    deficits_new: np.ndarray | None = None,
    settings: SolverSettings | None = None,
    *,
    start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Equilibrium:
    """Solve the Caliendo–Parro equilibrium in changes relative to ``baseline``.

    Parameters
    ----------
    baseline
        The calibrated world.
    tariff_new
        Counterfactual tariffs tau' as fractions, ``(N, N, J)`` (importer, exporter, sector).
    d_hat
        Changes of iceberg costs, ``(N, N, J)``; ones (no change) when ``None``.
    deficits_new
        Counterfactual deficits D' in the baseline's money units (imports minus exports),
        ``(N,)``, summing to zero; the baseline's deficits when ``None``.
    settings
        Solver settings.
    start
        Optional warm start ``(w_hat, p_hat, X')``.

    Returns
    -------
    Equilibrium

    Raises
    ------
    ConvergenceError
        When the solver does not reach ``settings.tol`` within ``settings.max_iter`` steps.
    """
    settings = settings or SolverSettings()
    n, j = baseline.n_regions, baseline.n_sectors
    tariff_new = np.asarray(tariff_new, dtype=float)
    d_hat = np.ones((n, n, j)) if d_hat is None else np.asarray(d_hat, dtype=float)
    deficit_new = baseline.deficit.copy() if deficits_new is None else np.asarray(deficits_new, dtype=float)
    _check_inputs(baseline, tariff_new, d_hat, deficit_new)
    t0 = time.perf_counter()

    scale = baseline.value_added.sum()  # work in units of world value added
    va = baseline.value_added / scale
    dnew = deficit_new / scale
    theta = baseline.theta
    gva, gio, alpha = baseline.gamma_va, baseline.gamma_io, baseline.alpha
    gio_t = np.ascontiguousarray(gio.transpose(0, 2, 1))  # [n, j, k]
    kappa = eq.kappa_hat(baseline.tariff, tariff_new, d_hat)
    tr = np.flatnonzero(baseline.tradable)
    nt = np.flatnonzero(~baseline.tradable)
    th = theta[tr][:, None]  # (JT, 1)
    # Traded sectors in (sector, importer, exporter) layout for batched matrix products:
    # pk[j, n, i] = pi_{nij} kappa-hat_{nij}^{-theta_j}, so that with u_{ij} = c-hat_{ij}^{-theta_j}
    # P-hat_{nj}^{-theta_j} = sum_i pk[j, n, i] u[j, i] and pi'_{nij} = pk[j, n, i] u[j, i] / S[j, n].
    pk = np.ascontiguousarray(
        (baseline.shares[:, :, tr] * kappa[:, :, tr] ** (-theta[tr])).transpose(2, 0, 1)
    )
    inv = np.ascontiguousarray((1.0 / (1.0 + tariff_new[:, :, tr])).transpose(2, 0, 1))
    pk_f = pk * inv  # producer-price part
    pk_r = pk - pk_f  # tariff part: tau'/(1+tau')
    lkappa_nt = np.log(kappa[np.arange(n), np.arange(n)][:, nt])
    nw, npj = n, n * j

    def unpack(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return v[:nw], v[nw : nw + npj].reshape(n, j), v[nw + npj :].reshape(n, j)

    def prices(lw: np.ndarray, lp: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # log c-hat (eq.log_input_cost, as a batched product)
        lc = gva * lw[:, None] + np.matmul(gio_t, lp[:, :, None])[:, :, 0]
        lct = lc[:, tr].T  # (JT, N)
        ref = lct.mean(axis=1, keepdims=True)  # shift for overflow safety
        u = np.exp(-th * (lct - ref))
        s = np.matmul(pk, u[:, :, None])[:, :, 0]  # (JT, N): sum_i pk u
        lp_new = np.empty((n, j))
        lp_new[:, tr] = (ref - np.log(s) / th).T  # eq.price_index in logs
        lp_new[:, nt] = lc[:, nt] + lkappa_nt
        return lc, lp_new, u, s

    def mapping(v: np.ndarray) -> np.ndarray:
        lw, lp, lx = unpack(v)
        _, lp_new, u, s = prices(lw, lp)
        for _ in range(PRICE_SWEEPS - 1):
            _, lp_new, u, s = prices(lw, lp_new)
        x_new = np.exp(lx)
        income_va = np.exp(lw) * va + dnew
        rev_rate = np.matmul(pk_r, u[:, :, None])[:, :, 0] / s  # (JT, N)
        y = np.empty((n, j))
        for _ in range(EXPENDITURE_SWEEPS):
            y[:, tr] = (u * np.matmul((x_new[:, tr].T / s)[:, None, :], pk_f)[:, 0, :]).T  # gross output Y'
            y[:, nt] = x_new[:, nt]
            rev = (rev_rate * x_new[:, tr].T).sum(axis=0)  # tariff revenue R'_n
            x_new = np.matmul(gio, y[:, :, None])[:, :, 0] + alpha * (income_va + rev)[:, None]
        w_new = (gva * y).sum(axis=1) / va  # labour-market clearing
        w_new *= 1.0 / (w_new @ va)  # numeraire: world value added unchanged
        out = np.concatenate([np.log(w_new), lp_new.ravel(), np.log(x_new).ravel()])
        return out

    if start is None:
        v0 = np.concatenate([np.zeros(n), np.zeros(n * j), np.log(baseline.expenditure / scale).ravel()])
    else:
        w0, p0, x0 = start
        v0 = np.concatenate([np.log(w0), np.log(p0).ravel(), np.log(np.asarray(x0) / scale).ravel()])
    memory = settings.memory if settings.method == "anderson" else 0
    hint = (
        f"Tried with [solver] method = {settings.method!r}, tol = {settings.tol:g}, max_iter = "
        f"{settings.max_iter}. Raise max_iter, loosen tol, or check the shocks for extreme values."
    )
    fp = anderson(
        mapping,
        v0,
        tol=settings.tol,
        max_iter=settings.max_iter,
        memory=memory,
        damping=settings.damping or (1.0 if settings.method == "anderson" else 0.25),
        what="Caliendo-Parro equilibrium",
        hint=hint,
    )
    lw, lp, lx = unpack(fp.x)
    lc, lp_sol, u, s = prices(lw, lp)
    shares = np.zeros((n, n, j))
    shares[:, :, tr] = (pk * u[:, None, :] / s[:, :, None]).transpose(1, 2, 0)  # eq.trade_shares
    shares[np.arange(n), np.arange(n), nt[:, None]] = 1.0  # non-traded: all domestic
    seconds = time.perf_counter() - t0
    diag = SolverDiagnostics(
        fp.diagnostics.method, fp.diagnostics.iterations, fp.diagnostics.residual, True, seconds, settings.tol
    )
    out = Equilibrium(
        baseline=baseline,
        tariff_new=tariff_new,
        d_hat=d_hat,
        deficit_new=deficit_new,
        w_hat=np.exp(lw),
        p_hat=np.exp(lp_sol),
        c_hat=np.exp(lc),
        shares=shares,
        expenditure=np.exp(lx) * scale,
        diagnostics=diag,
    )
    return out


def equilibrium_residuals(e: Equilibrium) -> dict[str, float]:
    """Largest relative errors of the equilibrium conditions at a solution.

    ``trade_balance``: max_n |imports'_n - D'_n - exports'_n| / (w-hat_n VA_n);
    ``labour_market``: max_n |w-hat_n VA_n - sum_j gamma_{nj} Y'_{nj}| / (w-hat_n VA_n);
    ``expenditure``: max |X' - (sum gamma Y' + alpha I')| / X'.
    """
    b = e.baseline
    n = b.n_regions
    x = e.flows
    dom = x[np.arange(n), np.arange(n)].sum(axis=1)
    imports = x.sum(axis=(1, 2)) - dom
    exports = x.sum(axis=(0, 2)) - dom
    va_new = e.value_added
    y = e.gross_output
    implied = np.einsum("nkj,nj->nk", b.gamma_io, y) + b.alpha * e.income[:, None]
    return {
        "trade_balance": float(np.max(np.abs(imports - e.deficit_new - exports) / va_new)),
        "labour_market": float(np.max(np.abs(va_new - (b.gamma_va * y).sum(axis=1)) / va_new)),
        "expenditure": float(np.max(np.abs(e.expenditure - implied) / e.expenditure)),
    }
