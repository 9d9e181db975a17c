"""Many Caliendo–Parro equilibria at once: a batched ``solve`` over shock sets or elasticities.

:func:`solve_batch` solves B equilibria in changes relative to **one** baseline: the members may
differ in their trade elasticities theta (draws for uncertainty bands), their tariffs or iceberg
changes (scenario grids) and their deficits. The equilibrium map is the one of
:mod:`kaifang.models.caliendo_parro.solver`, with every per-member array carrying a trailing
batch axis, so that the products over exporters are matrix–matrix products
(``(N, N) @ (N, B)`` per sector) instead of B matrix–vector products.

The baseline's trade shares are common to all members; where members differ (the cells whose
trade costs change in any member, or whose counterfactual tariff differs between members), the
member-specific part of pi kappa-hat^{-theta} is kept apart as a sparse correction, so a
shock that moves few bilateral cells costs almost nothing beyond the shared products.

The result of member b equals :func:`~kaifang.models.caliendo_parro.solver.solve` on that
member alone (to the solver tolerance; the tests check 1e-10). Members whose batched iteration
fails (non-finite or exploding steps, as near autarky) are solved alone with the scalar solver,
which restarts from its best point; the diagnostics say which.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.errors import ConvergenceError, UserInputError
from kaifang.models._solver import SolverDiagnostics, anderson_batch
from kaifang.models.caliendo_parro import equations as eq
from kaifang.models.caliendo_parro.solver import (
    Equilibrium,
    SolverSettings,
    _check_embargo,
    _check_group_deficits,
    _check_inputs,
    _check_settings,
    _check_supply,
    _eliminate_non_traded,
    _EquilibriumMap,
    numeraire_groups,
    residual_bound,
    solve,
    sweeps,
)

__all__ = ["BatchEquilibrium", "batch_memory", "solve_batch"]

#: Default memory budget of one batch (bytes); larger batches are solved in chunks.
DEFAULT_MEMORY = 1.5e9


def _batch_size(*arrays: tuple[np.ndarray, int]) -> int:
    sizes = {a.shape[0] for a, base_ndim in arrays if a.ndim == base_ndim + 1}
    if len(sizes) > 1:
        raise UserInputError(f"batched inputs disagree on the number of members: {sorted(sizes)}.")
    return sizes.pop() if sizes else 1


def _member(a: np.ndarray, base_ndim: int, b: int) -> np.ndarray:
    return a[b] if a.ndim == base_ndim + 1 else a


def _trade(flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """International imports and exports at producer prices by region from flows ``(N, N, J)``."""
    n = flows.shape[0]
    dom = flows[np.arange(n), np.arange(n)].sum(axis=1)
    return flows.sum(axis=(1, 2)) - dom, flows.sum(axis=(0, 2)) - dom


def _moved_cells(baseline: MultiSectorBaseline, tariff_new: np.ndarray, d_hat: np.ndarray) -> int:
    """Number of traded (sector, importer, exporter) cells where some member's trade cost moves."""
    tr = baseline.tradable
    t1 = tariff_new[..., tr]
    kappa = (1.0 + t1) / (1.0 + baseline.tariff[..., tr]) * d_hat[..., tr]
    moved = kappa != 1.0
    if moved.ndim == 4:
        moved = moved.any(axis=0)
        if t1.ndim == 4:
            moved |= (t1 != t1[:1]).any(axis=0)
    return int(moved.sum())


def batch_memory(baseline: MultiSectorBaseline, members: int, moved_cells: int = 0, memory: int = 10) -> int:
    """Bytes one batch of ``members`` needs (history of the acceleration and working arrays).

    ``moved_cells`` is the number of bilateral sector cells where members differ; ``memory`` the
    Anderson memory. Used to split large batches and to refuse what cannot fit.
    """
    n, j = baseline.n_regions, baseline.n_sectors
    jt = int(baseline.tradable.sum())
    dim = n * (j + 1) + n * j
    history = 2 * max(memory, 1) * dim * members
    work = 24 * n * (j + 1) * members + 12 * jt * n * members + 6 * moved_cells * members
    shared = 3 * jt * n * n
    return int(8 * (history + work) + 8 * shared)


class _BatchMap:
    """The equilibrium map of :class:`~.solver._EquilibriumMap` for a batch (members last)."""

    def __init__(
        self,
        baseline: MultiSectorBaseline,
        tariff_new: np.ndarray,
        d_hat: np.ndarray,
        deficit_new: np.ndarray,
        theta: np.ndarray,
        nb: int,
        embargo: np.ndarray | None = None,
    ) -> None:
        from scipy import sparse

        n, j = baseline.n_regions, baseline.n_sectors
        tradable = baseline.tradable
        tr, nt = np.flatnonzero(tradable), np.flatnonzero(~tradable)
        jt = tr.size
        self.n, self.j, self.jt, self.nb = n, j, jt, nb
        self.order = np.concatenate([tr, nt])
        o = self.order
        self.va = baseline.value_added / baseline.value_added.sum()
        alpha, gva = baseline.alpha[:, o], baseline.gamma_va[:, o]
        gio = baseline.gamma_io[:, o][:, :, o]
        diag = np.arange(n)
        tau0 = baseline.tariff

        def per(a: np.ndarray, base_ndim: int) -> np.ndarray:  # with a member axis first
            return a if a.ndim == base_ndim + 1 else a[None]

        t1, dh = per(tariff_new, 3), per(d_hat, 3)
        # non-traded sectors: bought at home, P-hat = kappa-hat_nn c-hat (per member)
        lk_nt = np.log(
            eq.kappa_hat(tau0[diag, diag][:, nt], t1[:, diag, diag][:, :, nt], dh[:, diag, diag][:, :, nt])
        )  # (B or 1, N, NT)
        lk_nt = np.broadcast_to(lk_nt, (nb, n, nt.size)).transpose(1, 2, 0)  # (N, NT, B)
        self.H, self.h, self.K, self.k0, self.E = _eliminate_non_traded(
            gio, gva, alpha, np.ascontiguousarray(lk_nt), jt
        )
        self.lkappa_nt = lk_nt
        th = np.broadcast_to(per(theta, 1), (nb, j))[:, tr].T  # (JT, B)
        self.theta = np.ascontiguousarray(th[:, None, :])  # (JT, 1, B)
        self.inv_theta = 1.0 / self.theta
        # traded sectors in (sector, importer, exporter) layout, as in the scalar map
        pi = baseline.shares[:, :, tr].transpose(2, 0, 1)
        if embargo is not None:  # pi' = 0 exactly on embargoed cells, in every member
            pi = np.where(embargo[:, :, tr].transpose(2, 0, 1), 0.0, pi)
            _check_supply(pi, baseline, tr)
        self.sweeps = sweeps(n, jt)
        self.comp, self.va_group = numeraire_groups(pi, baseline.value_added, baseline.regions)
        self.n_groups = self.va_group.size
        tau0_t = tau0[:, :, tr].transpose(2, 0, 1)
        t1_t = t1[:, :, :, tr].transpose(0, 3, 1, 2)  # (B or 1, JT, N, N)
        kappa = eq.kappa_hat(tau0_t[None], t1_t, dh[:, :, :, tr].transpose(0, 3, 1, 2))
        moved = (kappa != 1.0).any(axis=0) & (pi != 0.0)  # pi kappa^-theta is not pi in some member
        if t1_t.shape[0] > 1:
            moved |= (t1_t != t1_t[:1]).any(axis=0)
        self.moved_cells = int(moved.sum())
        # shared part: pi (and pi / (1 + tau')) on the cells that no member moves
        self.pk = np.where(moved, 0.0, pi)
        self.pk_f = self.pk / (1.0 + t1_t[0])
        # member part on the moved cells: values pk[m, b], pk_f[m, b]
        jj, nn, ii = np.nonzero(moved)
        kap_m = np.broadcast_to(kappa, (nb, *kappa.shape[1:]))[:, jj, nn, ii].T  # (M, B)
        t1_m = np.broadcast_to(t1_t, (nb, *t1_t.shape[1:]))[:, jj, nn, ii].T
        dpk = pi[jj, nn, ii][:, None] * kap_m ** -th[jj]
        self.dpk, self.dpk_f = dpk, dpk / (1.0 + t1_m)
        rows, cols = jj * n + nn, jj * n + ii  # flat (sector, importer) and (sector, exporter)
        self.rows, self.cols = rows, cols
        m = rows.size
        ones = np.ones(m)
        self.scatter_rows = sparse.csr_matrix((ones, (rows, np.arange(m))), shape=(jt * n, m))
        self.scatter_cols = sparse.csr_matrix((ones, (cols, np.arange(m))), shape=(jt * n, m))
        # pi'/(1+tau') kappa^-theta on domestic cells, per member: domestic sales of traded sectors
        dom = np.repeat(self.pk_f[:, diag, diag][:, :, None], nb, axis=2)  # (JT, N, B)
        on_diag = nn == ii
        dom[jj[on_diag], nn[on_diag]] = self.dpk_f[on_diag]
        self.dom_f = dom
        self.deficit = np.broadcast_to(per(deficit_new, 1), (nb, n)).T.copy()  # (N, B)
        for b in range(nb if self.n_groups > 1 else 0):  # as the scalar map, member by member
            _check_group_deficits(self.comp, self.n_groups, self.deficit[:, b], baseline.regions)
        self.size = n * (j + 1) + n * j

    # ----------------------------------------------------------------- members
    def _sub(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Per-member arrays of the members ``ids``."""
        if ids.size == self.nb:
            return {
                "theta": self.theta,
                "inv_theta": self.inv_theta,
                "h": self.h,
                "k0": self.k0,
                "dpk": self.dpk,
                "dpk_f": self.dpk_f,
                "deficit": self.deficit,
                "dom_f": self.dom_f,
            }
        return {
            "theta": self.theta[:, :, ids],
            "inv_theta": self.inv_theta[:, :, ids],
            "h": self.h[:, :, ids],
            "k0": self.k0[:, :, ids],
            "dpk": self.dpk[:, ids],
            "dpk_f": self.dpk_f[:, ids],
            "deficit": self.deficit[:, ids],
            "dom_f": self.dom_f[:, :, ids],
        }

    def pack(self, lw: np.ndarray, lp: np.ndarray, lx: np.ndarray) -> np.ndarray:
        """State columns from log w-hat ``(N, B)``, log P-hat ``(N, J, B)``, log X' ``(N, J, B)``."""
        n, j, jt = self.n, self.j, self.jt
        nb = lw.shape[-1]
        v = np.empty((self.size, nb))
        wp = v[: n * (j + 1)].reshape(n, j + 1, nb)
        lp = lp[:, self.order]
        wp[:, :jt] = lp[:, :jt]
        wp[:, jt] = lw
        wp[:, jt + 1 :] = lp[:, jt:]
        v[n * (j + 1) :].reshape(n, j, nb)[:] = lx[:, self.order]
        return v

    def unpack(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log w-hat ``(N, B)``, log P-hat and log X' ``(N, J, B)`` in the baseline's sector order."""
        n, j, jt = self.n, self.j, self.jt
        nb = v.shape[-1]
        wp = v[: n * (j + 1)].reshape(n, j + 1, nb)
        lp = np.empty((n, j, nb))
        lp[:, self.order] = np.concatenate([wp[:, :jt], wp[:, jt + 1 :]], axis=1)
        lx = np.empty((n, j, nb))
        lx[:, self.order] = v[n * (j + 1) :].reshape(n, j, nb)
        return wp[:, jt].copy(), lp, lx

    # ----------------------------------------------------------------- the map
    def _with_moved(self, base: np.ndarray, vals: np.ndarray, gather: np.ndarray, scatter, src: np.ndarray):
        """``base`` (JT, N, B) plus the moved cells' terms: scatter(vals * src[gather])."""
        if vals.shape[0]:
            flat = src.reshape(self.jt * self.n, -1)
            base = base + (scatter @ (vals * flat[gather])).reshape(base.shape)
        return base

    def prices(self, wp: np.ndarray, out: np.ndarray, p: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One sweep of the traded price block; ``wp`` is ``(N, JT + 1, B)`` [log P_tr, log w].

        Writes the new traded log P-hat into ``out[:, :JT]``; returns log c-hat ``(N, JT, B)``,
        u = c-hat^{-theta} (shifted) and S ``(JT, N, B)``.
        """
        jt = self.jt
        lc = np.matmul(self.K, wp)  # (N, JT, B)
        lc += p["k0"]
        lct = lc.transpose(1, 0, 2).copy()  # (JT, N, B), its own C-ordered memory
        ref = lct.mean(axis=1, keepdims=True)  # (JT, 1, B): shift for overflow safety
        u = np.subtract(ref, lct, out=lct)
        u *= p["theta"]
        np.exp(u, out=u)
        s = np.matmul(self.pk, u)
        s = self._with_moved(s, p["dpk"], self.cols, self.scatter_rows, u)
        out[:, :jt] = (ref - np.log(s) * p["inv_theta"]).transpose(1, 0, 2)
        return lc, u, s

    def __call__(self, v: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """G(v) for the members ``ids`` (columns of ``v``)."""
        return self._evaluate(v, ids)[0]

    def _evaluate(self, v: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n, j, jt = self.n, self.j, self.jt
        nb = v.shape[1]
        p = self._sub(ids)
        k = n * (j + 1)
        wp = v[:k].reshape(n, j + 1, nb)[:, : jt + 1]
        out = np.empty((self.size, nb))
        wp_all = out[:k].reshape(n, j + 1, nb)
        src = np.ascontiguousarray(wp)
        buf = np.empty((n, jt + 1, nb))
        price_sweeps, expenditure_sweeps = self.sweeps
        for sweep in range(price_sweeps):
            dst = buf if sweep < price_sweeps - 1 else wp_all[:, : jt + 1]
            dst[:, jt] = wp[:, jt]
            _, u, s = self.prices(src, dst, p)
            src = np.ascontiguousarray(dst)
        x = np.exp(v[k:]).reshape(n, j, nb)
        income_va = np.exp(wp[:, jt]) * self.va[:, None] + p["deficit"]
        pf_u = self._with_moved(np.matmul(self.pk_f, u), p["dpk_f"], self.cols, self.scatter_rows, u)
        q = s - pf_u  # (JT, N, B): tariff part of S
        yi = np.empty((n, jt + 1, nb))
        pk_ft = self.pk_f.transpose(0, 2, 1)
        for _ in range(expenditure_sweeps):
            z = x[:, :jt].transpose(1, 0, 2).copy()
            z /= s  # (JT, N, B): X'_{nj} / S_{jn}
            yz = self._with_moved(np.matmul(pk_ft, z), p["dpk_f"], self.rows, self.scatter_cols, z)
            yi[:, :jt] = (u * yz).transpose(1, 0, 2)  # gross output Y'
            rev = np.einsum("jnb,jnb->nb", z, q)
            yi[:, jt] = income_va + rev
            gy = np.matmul(self.E, yi)  # (N, J + 1, B)
            x = gy[:, :j]
        w_new = gy[:, j] / self.va[:, None]
        if self.n_groups == 1:
            w_new /= self.va @ w_new  # numeraire per member
        else:  # per member and group of regions that trade only among themselves
            total = np.stack(
                [np.bincount(self.comp, col, self.n_groups) for col in (w_new * self.va[:, None]).T], 1
            )
            w_new *= self.va_group[self.comp, None] / total[self.comp]
        wp_all[:, jt] = np.log(w_new)
        wp_all[:, jt + 1 :] = np.matmul(self.H, np.ascontiguousarray(wp_all[:, : jt + 1])) + p["h"]
        out[k:] = np.log(x).reshape(n * j, nb)
        # trade at producer prices (from the last expenditure sweep): purchases, domestic sales
        bought = z * pf_u  # (JT, N, B): sum_i x'_{nij} of importer n
        domestic = p["dom_f"] * u * z
        levels = {
            "income": yi[:, jt].copy(),
            "tariff_revenue": rev,
            "imports": (bought - domestic).sum(axis=0),
            "exports": yi[:, :jt].sum(axis=1) - domestic.sum(axis=0),
        }
        return out, levels


@dataclass(frozen=True, eq=False)
class BatchEquilibrium:
    """B solved counterfactuals relative to one baseline (member axis first).

    Attributes
    ----------
    baseline
        The world all members are relative to.
    tariff_new, d_hat, deficit_new, theta
        The members' inputs, each with or without a leading member axis (shared when without).
    embargo
        Cells with no trade in every member, or ``None``.
    w_hat
        ``(B, N)``; ``p_hat``, ``c_hat``, ``expenditure`` are ``(B, N, J)``.
    income
        Counterfactual income I'_n in the baseline's money units, ``(B, N)``.
    imports, exports, tariff_revenue
        International trade at producer prices and tariff revenue by region, ``(B, N)``.
    iterations, residual
        Per member.
    solved_alone
        Members that the batch could not solve and that were solved one at a time.
    seconds
        Wall time of the whole solve.
    """

    baseline: MultiSectorBaseline
    tariff_new: np.ndarray
    d_hat: np.ndarray
    deficit_new: np.ndarray
    theta: np.ndarray
    w_hat: np.ndarray
    p_hat: np.ndarray
    c_hat: np.ndarray
    expenditure: np.ndarray
    income: np.ndarray
    imports: np.ndarray
    exports: np.ndarray
    tariff_revenue: np.ndarray
    iterations: np.ndarray
    residual: np.ndarray
    solved_alone: tuple[int, ...]
    seconds: float
    embargo: np.ndarray | None = None

    @property
    def size(self) -> int:
        """Number of members B."""
        return self.w_hat.shape[0]

    @cached_property
    def price_index(self) -> np.ndarray:
        """P-hat_n = prod_j P-hat_{nj}^{alpha_{nj}}, ``(B, N)``."""
        return np.exp((self.baseline.alpha[None] * np.log(self.p_hat)).sum(axis=2))

    @cached_property
    def real_income(self) -> np.ndarray:
        """(I'_n / I_n) / P-hat_n, ``(B, N)``."""
        return self.income / self.baseline.income[None] / self.price_index

    @cached_property
    def real_wage(self) -> np.ndarray:
        """w-hat_n / P-hat_n, ``(B, N)``."""
        return self.w_hat / self.price_index

    def member(self, b: int) -> Equilibrium:
        """Member ``b`` as an :class:`Equilibrium` (its trade shares are rebuilt here, exactly)."""
        base = self.baseline
        theta = _member(self.theta, 1, b)
        if not np.array_equal(theta, base.theta):
            base = base.replace(theta=theta, note=f"{base.note}; theta of batch member {b}".strip("; "))
        tariff, d_hat, deficit = (
            _member(self.tariff_new, 3, b),
            _member(self.d_hat, 3, b),
            _member(self.deficit_new, 1, b),
        )
        scale = base.value_added.sum()
        g = _EquilibriumMap(base, tariff, d_hat, deficit / scale, self.embargo, "numpy")
        v = g.pack(np.log(self.w_hat[b]), np.log(self.p_hat[b]), np.log(self.expenditure[b] / scale))
        lc, lp, shares = g.solution(v)
        diag = SolverDiagnostics(
            "batched Anderson acceleration" if b not in self.solved_alone else "Anderson acceleration",
            int(self.iterations[b]),
            float(self.residual[b]),
            True,
            self.seconds / self.size,
            float("nan"),
        )
        return Equilibrium(
            baseline=base,
            tariff_new=tariff,
            d_hat=d_hat,
            deficit_new=deficit,
            w_hat=self.w_hat[b],
            p_hat=np.exp(lp),
            c_hat=np.exp(lc),
            shares=shares,
            expenditure=self.expenditure[b],
            diagnostics=diag,
            embargo=self.embargo,
        )


def solve_batch(
    baseline: MultiSectorBaseline,
    tariff_new: np.ndarray,
    d_hat: np.ndarray | None = None,
    deficits_new: np.ndarray | None = None,
    settings: SolverSettings | None = None,
    *,
    theta: np.ndarray | None = None,
    embargo: np.ndarray | None = None,
    start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    max_memory: float = DEFAULT_MEMORY,
) -> BatchEquilibrium:
    """Solve many Caliendo–Parro counterfactuals relative to ``baseline`` together.

    Parameters
    ----------
    baseline
        The calibrated world common to all members.
    tariff_new
        Counterfactual tariffs, ``(N, N, J)`` (shared) or ``(B, N, N, J)`` (one per member).
    d_hat
        Iceberg changes, ``(N, N, J)`` or ``(B, N, N, J)``; none when ``None``.
    deficits_new
        Counterfactual deficits in the baseline's money units, ``(N,)`` or ``(B, N)``; the
        baseline's when ``None``.
    settings
        Solver settings (method must be ``"anderson"``; tolerance and memory as for one solve).
    theta
        Trade elasticities, ``(J,)`` or ``(B, J)`` (e.g. draws); the baseline's when ``None``.
    embargo
        Cells with no trade in every member, boolean ``(N, N, J)`` (as in
        :func:`~kaifang.models.caliendo_parro.solver.solve`).
    start
        Optional warm start ``(w_hat (B, N), p_hat (B, N, J), X' (B, N, J))``, e.g. another
        batch's solution.
    max_memory
        Memory budget in bytes; larger batches are solved in chunks of members.

    Returns
    -------
    BatchEquilibrium

    Raises
    ------
    ConvergenceError
        When a member converges neither in the batch nor alone.
    UserInputError
        Inputs of inconsistent shapes, invalid values, or a single member too large for
        ``max_memory`` (the message says how much it needs).
    """
    settings = settings or SolverSettings()
    _check_settings(settings)
    n, j = baseline.n_regions, baseline.n_sectors
    embargo = _check_embargo(embargo, n, j)
    tariff_new = np.asarray(tariff_new, dtype=float)
    d_hat = np.ones((n, n, j)) if d_hat is None else np.asarray(d_hat, dtype=float)
    deficits = baseline.deficit.copy() if deficits_new is None else np.asarray(deficits_new, dtype=float)
    theta = baseline.theta.copy() if theta is None else np.asarray(theta, dtype=float)
    nb = _batch_size((tariff_new, 3), (d_hat, 3), (deficits, 1), (theta, 1))
    if not np.all(np.isfinite(theta)) or (theta <= 0).any():
        raise UserInputError("trade elasticities theta of a batch must be finite and positive.")
    for b in {0, nb - 1}:
        _check_inputs(baseline, _member(tariff_new, 3, b), _member(d_hat, 3, b), _member(deficits, 1, b))
    t0 = time.perf_counter()
    anderson = settings.method == "anderson"
    memory = settings.memory if anderson else 0
    damping = settings.damping or (1.0 if anderson else 0.25)
    moved = _moved_cells(baseline, tariff_new, d_hat)
    one = batch_memory(baseline, 1, moved, memory)
    if one > max_memory:
        raise UserInputError(
            f"one member of this batch needs about {one / 1e9:.1f} GB, more than the memory budget of "
            f"{max_memory / 1e9:.1f} GB; raise the budget or use a smaller world."
        )
    per_member = batch_memory(baseline, 2, moved, memory) - one
    chunk = int(min(nb, 256, max(1, (max_memory - one) // max(per_member, 1) + 1)))

    def sl(a: np.ndarray, base_ndim: int, lo: int, hi: int) -> np.ndarray:
        return a[lo:hi] if a.ndim == base_ndim + 1 else a

    scale = baseline.value_added.sum()
    w = np.empty((nb, n))
    p_hat = np.empty((nb, n, j))
    c_hat = np.empty((nb, n, j))
    x_out = np.empty((nb, n, j))
    income = np.empty((nb, n))
    imports = np.empty((nb, n))
    exports = np.empty((nb, n))
    revenue = np.empty((nb, n))
    iterations = np.zeros(nb, dtype=int)
    residual = np.zeros(nb)
    alone: list[int] = []
    for lo in range(0, nb, chunk):
        hi = min(nb, lo + chunk)
        k = hi - lo
        g = _BatchMap(
            baseline,
            sl(tariff_new, 3, lo, hi),
            sl(d_hat, 3, lo, hi),
            sl(deficits, 1, lo, hi) / scale,
            sl(theta, 1, lo, hi),
            k,
            embargo,
        )
        if start is None:
            v0 = g.pack(
                np.zeros((n, k)),
                np.zeros((n, j, k)),
                np.repeat((np.log(baseline.expenditure / scale))[:, :, None], k, axis=2),
            )
        else:
            w0, p0, x0 = (np.asarray(a, dtype=float)[lo:hi] for a in start)
            v0 = g.pack(np.log(w0).T, np.log(p0).transpose(1, 2, 0), np.log(x0 / scale).transpose(1, 2, 0))
        fp = anderson_batch(
            g,
            v0,
            tol=settings.tol,
            max_iter=settings.max_iter,
            memory=memory,
            damping=damping,
        )
        converged = fp.converged.copy()
        ok = np.flatnonzero(converged)
        if ok.size:
            v = fp.x[:, ok]
            lw, _, lx = g.unpack(v)
            _, extra = g._evaluate(v, ok)  # income at the solution
            # log P-hat at the solution: one more price sweep, as the scalar solution() does
            wp = np.ascontiguousarray(v[: n * (j + 1)].reshape(n, j + 1, ok.size)[:, : g.jt + 1])
            wp_new = np.empty_like(wp)
            wp_new[:, g.jt] = wp[:, g.jt]
            lc_tr, _, _ = g.prices(wp, wp_new, g._sub(ok))
            lp_nt = np.matmul(g.H, wp_new) + g.h[:, :, ok]
            lc = np.empty((n, j, ok.size))
            lp = np.empty((n, j, ok.size))
            lc[:, g.order] = np.concatenate([lc_tr, lp_nt - g.lkappa_nt[:, :, ok]], axis=1)
            lp[:, g.order] = np.concatenate([wp_new[:, : g.jt], lp_nt], axis=1)
            idx = lo + ok
            w[idx] = np.exp(lw).T
            p_hat[idx] = np.exp(lp).transpose(2, 0, 1)
            c_hat[idx] = np.exp(lc).transpose(2, 0, 1)
            x_out[idx] = (np.exp(lx) * scale).transpose(2, 0, 1)
            income[idx] = extra["income"].T * scale
            imports[idx] = extra["imports"].T * scale
            exports[idx] = extra["exports"].T * scale
            revenue[idx] = extra["tariff_revenue"].T * scale
            # trade balance at the solution, as solve() checks it: a member off by more than the
            # bound is solved again alone (which raises if it cannot do better)
            d_ok = np.broadcast_to(sl(deficits, 1, lo, hi), (k, n))[ok]
            gap = np.abs(imports[idx] - d_ok - exports[idx]) / (w[idx] * baseline.value_added)
            converged[ok[~(gap.max(axis=1) <= residual_bound(settings.tol))]] = False
        iterations[lo:hi] = fp.iterations
        residual[lo:hi] = fp.residual
        for b in np.flatnonzero(~converged):  # robust scalar path, with restarts
            m = lo + int(b)
            base = (
                baseline
                if np.array_equal(_member(theta, 1, m), baseline.theta)
                else baseline.replace(theta=_member(theta, 1, m))
            )
            try:
                e = solve(
                    base,
                    _member(tariff_new, 3, m),
                    _member(d_hat, 3, m),
                    _member(deficits, 1, m),
                    settings,
                    embargo=embargo,
                )
            except ConvergenceError as exc:
                raise ConvergenceError(
                    f"batch member {m} did not converge, in the batch or alone: {exc}",
                    iterations=exc.iterations,
                    residual=exc.residual,
                ) from None
            w[m], p_hat[m], c_hat[m], x_out[m], income[m] = e.w_hat, e.p_hat, e.c_hat, e.expenditure, e.income
            imports[m], exports[m] = _trade(e.flows)
            revenue[m] = e.tariff_revenue
            iterations[m] += e.diagnostics.iterations
            residual[m] = e.diagnostics.residual
            alone.append(m)
    return BatchEquilibrium(
        baseline=baseline,
        tariff_new=tariff_new,
        d_hat=d_hat,
        deficit_new=deficits,
        theta=theta,
        embargo=embargo,
        w_hat=w,
        p_hat=p_hat,
        c_hat=c_hat,
        expenditure=x_out,
        income=income,
        imports=imports,
        exports=exports,
        tariff_revenue=revenue,
        iterations=iterations,
        residual=residual,
        solved_alone=tuple(alone),
        seconds=time.perf_counter() - t0,
    )
