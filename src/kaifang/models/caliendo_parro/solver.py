"""The Caliendo–Parro (2015) equilibrium in changes: a pure ``solve`` function.

Unknowns: wage changes w-hat_n, sectoral price changes P-hat_{nj} and counterfactual
expenditures X'_{nj}. One evaluation of the map G(w, P, X) applies, in order,

1. the input-cost and price-index conditions (``equations.log_input_cost``, ``price_index``)
   and the trade shares pi' (``trade_shares``) on the traded sectors, written as batched
   matrix products over sectors with pk_{nij} = pi_{nij} kappa-hat_{nij}^{-theta_j} precomputed:
   P-hat_{nj}^{-theta_j} = sum_i pk_{nij} c-hat_{ij}^{-theta_j}, so one evaluation needs N x J
   exponentials, not N x N x J (a non-traded sector's price moves with its own input cost);
2. the expenditure condition X'_{nk} = sum_j gamma_{nkj} Y'_{nj} + alpha_{nk} I'_n with gross
   output Y'_{ij} = sum_n pi'_{nij} X'_{nj} / (1 + tau'_{nij}) and income
   I'_n = w-hat_n VA_n + R'_n + D'_n;
3. labour-market clearing w-hat_n VA_n = sum_j gamma_{nj} Y'_{nj} (equivalent, given 2, to the
   paper's trade-balance condition), normalised so that world value added is unchanged
   (the numeraire; each group of regions that trades only among itself keeps its own value
   added, :func:`numeraire_groups`).

Blocks 1 and 2 are swept :func:`sweeps` times per evaluation: three and two in small worlds,
one each from :data:`ONE_SWEEP_FROM_CELLS` traded cells, where each sweep reads megabytes of
(sector, importer, exporter) arrays and Anderson acceleration makes up for fewer sweeps. The
tariff part of the shares is a sparse matrix when few cells carry a tariff
(:data:`SPARSE_TARIFFS`), so a world without tariffs reads one such array per sweep, not two.
Cells under an embargo have pi' = 0 exactly (their row entries of pk are zero), not a large
finite cost.

:class:`_EquilibriumMap` holds everything that does not depend on the unknowns (computed once per
solve) and preallocated buffers; the conditions of the non-traded sectors are linear within a
region and are solved exactly once per solve (:func:`_eliminate_non_traded`), so one evaluation
works on traded sectors only and is a few dozen small NumPy calls (or one compiled call,
:mod:`._kernels`). The joint fixed point of G in (log w, log P, log X) is found by Anderson
acceleration (:func:`kaifang.models._solver.anderson`). Trade balance, labour-market clearing
and the expenditure condition are checked at the solution (:func:`equilibrium_residuals`), and
a solution off by more than :func:`residual_bound` is refused; the fast formulas are tested
against the textbook ones in :mod:`.equations`.
"""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, WithJsonSchema, field_validator

from kaifang.baseline.multisector import MultiSectorBaseline
from kaifang.errors import ConvergenceError, UserInputError
from kaifang.models._solver import SolverDiagnostics, anderson
from kaifang.models.caliendo_parro import equations as eq
from kaifang.scenario.fields import bounded

__all__ = ["Equilibrium", "SolverSettings", "solve"]

#: Evaluations of the map: ``"numpy"`` (matrix products; the default) or ``"compiled"``
#: (:mod:`._kernels`, numba: the last price sweep and the first expenditure sweep read each
#: trade-share array once together; it measures faster per solve from about 100 regions x 50
#: sectors, but its first use in a process costs about 0.8 s of CPU for numba, see
#: ``benchmarks/bench_map.py``).
Kernel = Literal["auto", "numpy", "compiled"]
KERNELS: tuple[str, ...] = ("auto", "numpy", "compiled")
#: Environment variable choosing the kernel.
KERNEL_ENV = "KAIFANG_CP_KERNEL"

#: The tariff part of the shares (pk tau'/(1 + tau')) is kept as a sparse matrix when at most
#: this share of the traded cells carries a tariff (input-output data sets such as WIOD carry
#: none; tariff shocks then touch few cells), else as the dense pk_f = pk / (1 + tau').
SPARSE_TARIFFS = 0.25

#: Sweeps of the price block and of the expenditure block per evaluation of the map, for worlds
#: whose traded (sector, importer, exporter) arrays have fewer than ``ONE_SWEEP_FROM_CELLS``
#: cells. A sweep there costs little beside the fixed cost of a step, and more sweeps save
#: steps: on the two NAFTA solves (benchmarks/bench_map.py; iterations and best process time)
#: (3, 2) 22 and 21 steps, 4.3 and 5.1 ms; (2, 2) 26 and 24, 4.4 and 4.7 ms; (1, 1) 38 and 36,
#: 6.0 and 5.5 ms.
PRICE_SWEEPS = 3
EXPENDITURE_SWEEPS = 2
#: Largest step count of the welfare decomposition's grid (``SolverSettings.welfare_steps``).
MAX_WELFARE_STEPS = 64
#: From this many traded cells (pk is 8 bytes a cell) one evaluation is one price and one
#: expenditure sweep: each sweep then reads megabytes, and Anderson acceleration makes up for
#: the fewer sweeps with a few more steps (gravity_world(160, 65): 28 steps instead of 23, at
#: half the bytes per step, or a third without dense tariffs).
ONE_SWEEP_FROM_CELLS = 2**16


def sweeps(n_regions: int, n_traded: int) -> tuple[int, int]:
    """(price sweeps, expenditure sweeps) per evaluation of the map for a world of this size."""
    if n_traded * n_regions * n_regions >= ONE_SWEEP_FROM_CELLS:
        return 1, 1
    return PRICE_SWEEPS, EXPENDITURE_SWEEPS


#: With ``kernel = "auto"`` (the default) the compiled evaluation of the map is used for worlds
#: whose traded (sector, importer, exporter) arrays have at least this many cells, the NumPy one
#: below. The compiled map reads the trade shares once per evaluation instead of twice
#: (benchmarks/bench_map.py, 160 x 65 with tariffs: 20 MB instead of 30 MB an evaluation, 0.11 s
#: instead of 0.14 s a solve), but the first use on a machine compiles it (about 4 s) and every
#: new process loads it (about 0.5 s): worth it only where solves take a good part of a second.
COMPILED_FROM_CELLS = 1_000_000


def _kernel_choice(kernel: str | None, cells: int = 0) -> str:
    """The map evaluation to use: ``kernel``, else ``KAIFANG_CP_KERNEL``, else ``"auto"``;
    ``"auto"`` is ``"compiled"`` from :data:`COMPILED_FROM_CELLS` traded cells (when numba is
    there) and ``"numpy"`` below."""
    if kernel is None:
        kernel = os.environ.get(KERNEL_ENV, "").strip().lower() or "auto"
        where = f"environment variable {KERNEL_ENV}"
    else:
        where = "kernel"
    if kernel not in KERNELS:
        raise UserInputError(
            f"{where} has value {kernel!r}; valid values are {', '.join(map(repr, KERNELS))}."
        )
    if kernel == "auto":
        if cells < COMPILED_FROM_CELLS:
            return "numpy"
        try:
            import numba  # noqa: F401
        except ImportError:  # pragma: no cover - numba is a dependency
            return "numpy"
        return "compiled"
    return kernel


def _check_supply(pk: np.ndarray, baseline: MultiSectorBaseline, tr: np.ndarray) -> None:
    """Every region must keep a supplier of every traded good it buys (``pk`` is ``(JT, N, N)``)."""
    empty = ~(pk != 0.0).any(axis=2)  # (JT, N): no supplier left
    if empty.any():
        cells = [
            f"{baseline.regions[r]} ({baseline.sectors[tr[k]]})"
            for k, r in zip(*np.nonzero(empty), strict=True)
        ]
        more = f" and {len(cells) - 5} more" if len(cells) > 5 else ""
        raise UserInputError(
            f"the embargoes leave no supplier of a good these regions buy: {', '.join(cells[:5])}{more}. "
            f"They produce none of it at home in the data and every import of it is embargoed, so its price "
            f"would be infinite and there is no equilibrium. Leave some imports of these sectors open "
            f"(narrow the embargo's sector or exporter selection)."
        )


def _check_group_deficits(
    comp: np.ndarray, n_groups: int, deficit: np.ndarray, regions: tuple[str, ...]
) -> None:
    """A group of regions that trades with no one outside it cannot run a deficit in total.

    ``deficit`` in units of world value added.
    """
    if n_groups == 1:
        return
    total = np.bincount(comp, deficit, n_groups)
    for g in np.flatnonzero(np.abs(total) > 1e-9):
        names = ", ".join(regions[k] for k in np.flatnonzero(comp == g))
        raise UserInputError(
            f"the regions {{{names}}} trade with no region outside them in the counterfactual "
            f"(embargoes or zero trade), so their trade deficits must sum to zero, but they sum to "
            f"{total[g]:.3g} of world value added. Use zero deficits ([baseline] deficits = 'zero') "
            f"or close these regions' deficits (a shock with type = 'deficit', value = 0)."
        )


def _components(link: np.ndarray) -> tuple[int, np.ndarray]:
    """Strongly connected components of the directed graph ``link`` (``(N, N)`` booleans; for a
    symmetric ``link`` the connected components), labelled 0, 1, ... in the order of their first
    region. Reachability by repeated squaring of the adjacency matrix (at most log2 N products
    of N x N matrices: fast for the few hundred regions of a trade data set, and it spares the
    command line the import of scipy's graph routines)."""
    n = link.shape[0]
    reach = (link | np.eye(n, dtype=bool)).astype(np.float64)
    while True:
        nxt = ((reach @ reach) > 0).astype(np.float64)
        if np.array_equal(nxt, reach):
            break
        reach = nxt
    both = (reach > 0) & (reach > 0).T
    first = both.argmax(axis=1)  # the first region of each region's component
    roots, labels = np.unique(first, return_inverse=True)
    return int(roots.size), labels.astype(np.int64)


def numeraire_groups(
    pk: np.ndarray, va: np.ndarray, regions: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Groups of regions that trade only among themselves, and each group's share of value added.

    ``pk`` is ``(JT, N, N)`` (sector, importer, exporter), ``va`` value added ``(N,)``; two
    regions are linked when one imports from the other in some traded sector. Regions linked by
    no chain of trade (after an embargo of everyone against the USA, say) are separate
    economies: the wage of one relative to the other is not determined, so each group gets its
    own numeraire (its value added unchanged in total), which keeps world value added unchanged.
    With full autarky every region is its own group.

    Returns
    -------
    The group of every region, ``(N,)`` integers from 0, and each group's share of world value
    added, ``(groups,)``.

    Raises
    ------
    UserInputError
        When a group sells to the others but buys nothing from them, or the reverse (a one-way
        embargo on all its imports, say): its trade cannot balance, and no equilibrium exists.
    """
    n = pk.shape[1]
    link = (pk != 0.0).any(axis=0) if pk.shape[0] else np.zeros((n, n), dtype=bool)
    np.fill_diagonal(link, False)
    n_groups, comp = _components(link | link.T)
    n_strong, strong = _components(link)
    if n_strong != n_groups:
        # a strongly connected part with trade in one direction only across its border
        imports_in = np.zeros(n_strong, dtype=bool)
        exports_out = np.zeros(n_strong, dtype=bool)
        importer, exporter = np.nonzero(link)
        cross = strong[importer] != strong[exporter]
        imports_in[strong[importer[cross]]] = True
        exports_out[strong[exporter[cross]]] = True
        g = int(np.flatnonzero(imports_in != exports_out)[0])
        names = ", ".join(regions[k] for k in np.flatnonzero(strong == g))
        what = (
            "buy from regions outside them but sell them nothing"
            if imports_in[g]
            else ("sell to regions outside them but buy nothing from them")
        )
        raise UserInputError(
            f"in the counterfactual the regions {{{names}}} {what} (embargoes in one direction, or "
            f"zero trade in the data), so their trade cannot balance and there is no equilibrium. "
            f"Embargo both directions (mirror = true) or leave some trade open."
        )
    share = va / va.sum()
    return comp.astype(np.intp), np.bincount(comp, share, n_groups)


#: Largest tolerance the solver accepts (as the ``[solver]`` schema).
MAX_TOL = 1e-3
#: The equilibrium conditions must hold to ``RESIDUAL_FACTOR x tol`` at a reported solution
#: (:func:`residual_bound`), and never worse than ``RESIDUAL_FLOOR`` above it for rounding.
RESIDUAL_FACTOR = 10.0
RESIDUAL_FLOOR = 1e-11


_Tol = bounded(float, "tol", ge=1e-15, le=MAX_TOL, description="convergence tolerance on log changes")
_MaxIter = bounded(int, "max_iter", ge=1, le=1_000_000, description="most evaluations of the equilibrium map")
_Memory = bounded(int, "memory", ge=1, le=100, description="Anderson memory")
_Damping = bounded(float, "damping", gt=0.0, le=1.0, description="weight of the new iterate")
_WelfareSteps = bounded(
    int, "welfare_steps", ge=1, le=MAX_WELFARE_STEPS, description="steps of a grid of the welfare path"
)
_STEP_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_WELFARE_STEPS}
_WELFARE_STEPS_SCHEMA = {
    "anyOf": [{"type": "array", "items": _STEP_SCHEMA, "maxItems": 4}, _STEP_SCHEMA],
    "description": "step counts of the welfare decomposition's grids (increasing; [] skips it)",
}


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
    welfare_steps
        Step counts of the welfare decomposition integrated along the shock's path
        (:func:`kaifang.models.caliendo_parro.welfare.integrate`): the equilibrium is solved on
        uniform grids of K steps for each K given (grids that share points share the solves),
        and the trapezoidal estimates are extrapolated to infinitely many steps (Richardson).
        Default ``[2, 4]``: three extra equilibria. One number (``4``) means one grid without
        extrapolation; ``[]`` skips the decomposition (the exact welfare change is still
        reported). At most four increasing counts, each at most :data:`MAX_WELFARE_STEPS`.
    welfare_extrapolation
        ``"richardson"`` (default): extrapolate over the step counts; ``"none"``: take the
        estimate of the largest count as it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["anderson", "fixed_point"] = "anderson"
    tol: _Tol = 1e-10
    max_iter: _MaxIter = 5000
    memory: _Memory = 10
    damping: _Damping | None = None
    welfare_steps: Annotated[tuple[_WelfareSteps, ...], WithJsonSchema(_WELFARE_STEPS_SCHEMA)] = (2, 4)
    welfare_extrapolation: Literal["richardson", "none"] = "richardson"

    @field_validator("welfare_steps", mode="before")
    @classmethod
    def _steps_list(cls, v: object) -> object:
        if isinstance(v, int) and not isinstance(v, bool):
            return (v,)
        if isinstance(v, (list, tuple)):  # a TOML array
            return tuple(v)
        raise ValueError("give the step counts as a list of whole numbers, e.g. [2, 4], or one number")

    @field_validator("welfare_steps")
    @classmethod
    def _steps_bounded(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) > 4:
            raise ValueError(f"give at most four step counts (got {len(v)}), e.g. [2, 4] or [2, 4, 8]")
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("the step counts must increase, e.g. [2, 4] or [2, 4, 8]")
        return v


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
    embargo
        Cells with no trade in the counterfactual (pi' = 0 exactly), ``(N, N, J)``, or ``None``.
    separate_economies
        When embargoes split the world into groups of regions that trade only among themselves:
        the groups (region labels). Each group's value added is then unchanged in total (its
        own numeraire, :func:`numeraire_groups`), so wages and prices compare within a group,
        real outcomes everywhere. Empty when the world stays one economy.
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
    embargo: np.ndarray | None = None
    separate_economies: tuple[tuple[str, ...], ...] = ()

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


class _EquilibriumMap:
    """The equilibrium map G(log w, log P, log X) of the module docstring, with its buffers.

    Internally sectors are reordered so that the traded ones (``JT`` of them) come first. The
    non-traded sectors enter only through linear conditions within a region, which are solved
    exactly here, once per solve (``_eliminate_non_traded``), so that one evaluation of the map
    works with ``(N, JT + 1)`` blocks:

    * prices: log P-hat of a non-traded sector is ``H_n [log P-hat_tr, log w-hat] + h_n`` and
      the traded input costs are ``log c-hat_tr = K_n [log P-hat_tr, log w-hat] + k_n``;
    * expenditure: with Y'_{nj} = X'_{nj} for a non-traded sector, ``E_n [Y'_tr, I'_n]`` gives
      all X'_{n.} and, in its last row, labour demand sum_j gamma_{nj} Y'_{nj}.

    The unknowns are one vector: per region ``[log P-hat_tr, log w-hat_n, log P-hat_nt]`` (an
    ``(N, J + 1)`` block; the map does not read the non-traded prices, it returns them), then
    log X'_{nj}. Everything that does not depend on the unknowns is computed once, here.

    ``embargo`` marks cells whose trade is zero in the counterfactual (pi'_{nij} = 0 exactly);
    ``kernel`` chooses the NumPy evaluation or the compiled one (:mod:`._kernels`), ``None``:
    the environment variable ``KAIFANG_CP_KERNEL`` (``auto`` by default: compiled for large
    worlds, see :data:`COMPILED_FROM_CELLS`).
    """

    def __init__(
        self,
        baseline: MultiSectorBaseline,
        tariff_new: np.ndarray,
        d_hat: np.ndarray,
        deficit_new: np.ndarray,
        embargo: np.ndarray | None = None,
        kernel: Kernel | None = None,
    ) -> None:
        n, j = baseline.n_regions, baseline.n_sectors
        tradable = baseline.tradable
        tr, nt = np.flatnonzero(tradable), np.flatnonzero(~tradable)
        jt = tr.size
        self.n, self.j, self.jt = n, j, jt
        self.order = np.concatenate([tr, nt])  # internal sector k is sector order[k]
        self.va = baseline.value_added / baseline.value_added.sum()
        self.deficit = np.ascontiguousarray(deficit_new, dtype=float)
        o = None if (self.order == np.arange(j)).all() else self.order  # CP data: traded first
        alpha = baseline.alpha if o is None else baseline.alpha[:, o]
        gva = baseline.gamma_va if o is None else baseline.gamma_va[:, o]
        gio = baseline.gamma_io if o is None else baseline.gamma_io[:, o][:, :, o]  # [n, k, j]
        diag = np.arange(n)
        dom = (diag, diag)
        # a non-traded sector is bought at home: P-hat_{nj} = kappa-hat_{nnj} c-hat_{nj}
        lkappa_nt = np.log(
            eq.kappa_hat(baseline.tariff[dom][:, nt], tariff_new[dom][:, nt], d_hat[dom][:, nt])
        )
        H, h, K, k0, E = _eliminate_non_traded(gio, gva, alpha, lkappa_nt, jt)
        self.H, self.h, self.K, self.k0, self.E = (np.ascontiguousarray(a) for a in (H, h, K, k0, E))
        self.lkappa_nt = lkappa_nt
        theta = baseline.theta[tr]
        self.theta = theta[:, None]  # (JT, 1)
        self.inv_theta = 1.0 / self.theta
        # Traded sectors in (sector, importer, exporter) layout: pk[j, n, i] =
        # pi_{nij} kappa-hat_{nij}^{-theta_j}, so that with u_{ij} = c-hat_{ij}^{-theta_j},
        # P-hat_{nj}^{-theta_j} = sum_i pk[j, n, i] u[j, i] and pi'_{nij} = pk[j, n, i] u[j, i] / S[j, n].
        sel = slice(0, jt) if o is None else tr  # a view where the traded sectors come first
        tau0 = baseline.tariff[:, :, sel]
        tau1 = tariff_new[:, :, sel]
        dh = d_hat[:, :, sel]
        pk = baseline.shares[:, :, sel].transpose(2, 0, 1).copy()
        if embargo is not None:  # no trade at all: pi' = 0 exactly, whatever the trade cost
            pk[embargo[:, :, sel].transpose(2, 0, 1)] = 0.0
            _check_supply(pk, baseline, tr)
        # kappa-hat^-theta only where trade costs change (few cells in most shocks; elsewhere 1)
        moved = ((tau1 != tau0) | (dh != 1.0)).transpose(2, 0, 1) & (pk != 0.0)
        jj, nn, ii = np.nonzero(moved)
        if jj.size:
            kappa = eq.kappa_hat(tau0[nn, ii, jj], tau1[nn, ii, jj], dh[nn, ii, jj])
            pk[jj, nn, ii] *= kappa ** -theta[jj]
        self.pk = pk
        # the tariff part pk_t = pk tau' / (1 + tau') of S, and pk_f = pk - pk_t (producer prices):
        # sparse when few cells carry a tariff (none in many input-output data sets)
        taxed = (tau1 != 0.0).transpose(2, 0, 1) & (pk != 0.0)
        self.tariff_cells = int(np.count_nonzero(taxed))
        self.dense_tariffs = self.tariff_cells > SPARSE_TARIFFS * max(pk.size, 1)
        if self.dense_tariffs:
            self.pk_f = pk / (1.0 + tau1.transpose(2, 0, 1))
            self._taxed = None
        else:
            self.pk_f = None
            jj, nn, ii = np.nonzero(taxed)
            t = tau1[nn, ii, jj]
            self._taxed = (jj, nn, ii, pk[jj, nn, ii] * (t / (1.0 + t)))
        self.sweeps = sweeps(n, jt)
        self.comp, self.va_group = numeraire_groups(pk, baseline.value_added, baseline.regions)
        self.n_groups = self.va_group.size
        _check_group_deficits(self.comp, self.n_groups, self.deficit, baseline.regions)
        self.size = n * (j + 1) + n * j
        self.mean_weights = np.full(n, 1.0 / n)
        self.kernel = _kernel_choice(kernel, jt * n * n)
        self._sparse_bytes = 0
        if self.kernel == "compiled":
            self._setup_compiled()
        elif not self.dense_tariffs and self.tariff_cells:
            from scipy import sparse

            jj, nn, ii, pk_t = self._taxed
            rows, cols = jj * n + nn, jj * n + ii  # flat (sector, importer) and (sector, exporter)
            self._t = sparse.csr_matrix((pk_t, (rows, cols)), shape=(jt * n, jt * n))
            self._t_rows = self._t.T.tocsr()
            self._sparse_bytes = sum(a.nbytes for a in (self._t.data, self._t.indices, self._t.indptr))
        # buffers
        self._lc = np.empty((n, jt, 1))
        self._u = np.empty((jt, n))
        self._s = np.empty((jt, n, 1))
        self._tmp = np.empty((jt, n))
        self._wp = np.empty((n, jt + 1))  # [log P-hat_tr, log w-hat] between price sweeps
        self._yi = np.empty((n, jt + 1))  # [Y'_tr, I']

    def _setup_compiled(self) -> None:
        """Arrays of the compiled evaluation (C-ordered, fixed types)."""
        from kaifang.models.caliendo_parro import _kernels

        self._evaluate = _kernels.evaluate
        n, jt = self.n, self.jt
        if self.dense_tariffs:
            ptr, idx, val = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0)
        else:
            jj, nn, ii, pk_t = self._taxed
            rows = jj * n + nn  # already sorted: np.nonzero walks in C order
            ptr = np.zeros(jt * n + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=jt * n), out=ptr[1:])
            idx, val = ii.astype(np.int64), np.ascontiguousarray(pk_t)
            self._sparse_bytes = ptr.nbytes + idx.nbytes + val.nbytes
        pk_f = self.pk_f if self.dense_tariffs else self.pk  # unused when sparse
        self._compiled_args = (
            self.K,
            self.k0,
            np.ascontiguousarray(self.theta[:, 0]),
            self.pk,
            pk_f,
            self.dense_tariffs,
            ptr,
            idx,
            val,
            self.E,
            self.H,
            self.h,
            np.ascontiguousarray(self.va),
            self.deficit,
            self.comp.astype(np.int64),
            np.ascontiguousarray(self.va_group),
            *self.sweeps,
        )

    def bytes_per_evaluation(self) -> int:
        """Bytes of the (sector, importer, exporter) arrays one evaluation reads: passes x sizes.

        NumPy: every price sweep reads pk; the tariff part reads pk_f (dense tariffs) or the
        sparse pk_t; every expenditure sweep reads pk_f, or pk and the sparse pk_t. Compiled: the
        last price sweep and the first expenditure sweep read each of their arrays once together.
        """
        p, e = self.sweeps
        cell = self.pk.nbytes
        if self.dense_tariffs:
            return (p + e if self.kernel == "compiled" else p + 1 + e) * cell
        sp = self._sparse_bytes
        if self.kernel == "compiled":
            return (p - 1) * cell + e * (cell + sp)
        return p * cell + sp + e * (cell + sp)

    def pack(self, lw: np.ndarray, lp: np.ndarray, lx: np.ndarray) -> np.ndarray:
        """The state vector from log w-hat ``(N,)``, log P-hat ``(N, J)`` and log X' ``(N, J)``."""
        n, j, jt = self.n, self.j, self.jt
        v = np.empty(self.size)
        wp = v[: n * (j + 1)].reshape(n, j + 1)
        lp = lp[:, self.order]
        wp[:, :jt] = lp[:, :jt]
        wp[:, jt] = lw
        wp[:, jt + 1 :] = lp[:, jt:]
        v[n * (j + 1) :].reshape(n, j)[:] = lx[:, self.order]
        return v

    def unpack(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log w-hat, log P-hat and log X' (in the baseline's sector order) from a state vector."""
        n, j, jt = self.n, self.j, self.jt
        wp = v[: n * (j + 1)].reshape(n, j + 1)
        lp = np.empty((n, j))
        lp[:, self.order] = np.concatenate([wp[:, :jt], wp[:, jt + 1 :]], axis=1)
        lx = np.empty((n, j))
        lx[:, self.order] = v[n * (j + 1) :].reshape(n, j)
        return wp[:, jt].copy(), lp, lx

    def prices(self, wp: np.ndarray, out: np.ndarray) -> np.ndarray:
        """One sweep of the traded input-cost and price-index conditions.

        ``wp`` is an ``(N, JT + 1)`` block [log P-hat_tr, log w-hat]; the new traded log P-hat go
        into ``out[:, :JT]``. Returns log c-hat of the traded sectors, ``(N, JT)``, and leaves
        u = c-hat^{-theta} (shifted) and S = sum_i pk u in the buffers.
        """
        jt = self.jt
        lc = np.matmul(self.K, wp[:, :, None], out=self._lc)[:, :, 0]  # eq.log_input_cost
        lc += self.k0
        lct = lc.T  # (JT, N)
        ref = (lct @ self.mean_weights)[:, None]  # shift for overflow safety
        u = np.subtract(ref, lct, out=self._u)
        u *= self.theta
        np.exp(u, out=u)  # u_{ji} = (c-hat_{ij} / e^ref_j)^{-theta_j}
        s = np.matmul(self.pk, u[:, :, None], out=self._s)[:, :, 0]  # (JT, N)
        t = np.log(s, out=self._tmp)
        t *= self.inv_theta
        np.subtract(ref, t, out=out[:, :jt].T)  # eq.price_index in logs
        return lc

    def groups(self, regions: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
        """The numeraire groups as region labels; empty when there is one."""
        if self.n_groups == 1:
            return ()
        return tuple(tuple(regions[k] for k in np.flatnonzero(self.comp == g)) for g in range(self.n_groups))

    def normalise(self, w: np.ndarray) -> None:
        """Scale wages in place so that world value added (each group's, see
        :func:`numeraire_groups`) is unchanged: the numeraire."""
        if self.n_groups == 1:
            w *= 1.0 / (w @ self.va)
        else:
            w *= (self.va_group / np.bincount(self.comp, w * self.va, self.n_groups))[self.comp]

    def __call__(self, v: np.ndarray) -> np.ndarray:
        """G(v): the price block, the expenditure block and labour-market clearing."""
        if self.kernel == "compiled":
            out = np.empty(self.size)
            self._evaluate(v, out, *self._compiled_args)
            return out
        n, j, jt = self.n, self.j, self.jt
        price_sweeps, expenditure_sweeps = self.sweeps
        k = n * (j + 1)
        wp = v[:k].reshape(n, j + 1)[:, : jt + 1]  # [log P-hat_tr, log w-hat]
        out = np.empty(self.size)
        wp_all = out[:k].reshape(n, j + 1)
        wp_new = wp_all[:, : jt + 1]
        sweeps = [self._wp] * (price_sweeps - 1) + [wp_new]
        src = wp
        for dst in sweeps:
            dst[:, jt] = wp[:, jt]
            self.prices(src, dst)
            src = dst
        u, s = self._u, self._s[:, :, 0]
        x = np.exp(v[k:]).reshape(n, j)
        income_va = np.exp(wp[:, jt]) * self.va + self.deficit
        # (JT, N): q = sum_i pk u tau'/(1 + tau'), the tariff part of S
        if self.dense_tariffs:
            q = s - np.matmul(self.pk_f, u[:, :, None])[:, :, 0]
            producer = self.pk_f
        else:
            q = (self._t @ u.ravel()).reshape(jt, n) if self.tariff_cells else None
            producer = self.pk
        yi = self._yi
        for _ in range(expenditure_sweeps):
            z = x[:, :jt].T / s  # X'_{nj} / S_{jn}
            yz = np.matmul(z[:, None, :], producer)[:, 0, :]
            if q is None:
                rev = 0.0
            else:
                if not self.dense_tariffs:
                    yz -= (self._t_rows @ z.ravel()).reshape(jt, n)
                rev = np.einsum("jn,jn->n", z, q)  # tariff revenue R'_n
            np.multiply(u, yz, out=yi[:, :jt].T)  # gross output Y'
            np.add(income_va, rev, out=yi[:, jt])  # income I'_n
            gy = np.matmul(self.E, yi[:, :, None])[:, :, 0]  # [X'_{n.}, labour demand]
            x = gy[:, :j]
        w_new = gy[:, j] / self.va  # labour-market clearing
        self.normalise(w_new)
        np.log(w_new, out=wp_new[:, jt])
        # non-traded prices (returned for the record; the map does not read them)
        np.add(np.matmul(self.H, wp_new[:, :, None])[:, :, 0], self.h, out=wp_all[:, jt + 1 :])
        np.log(x, out=out[k:].reshape(n, j))
        return out

    def solution(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Log c-hat, log P-hat (one more price sweep) and the shares pi' at a fixed point ``v``."""
        n, j, jt = self.n, self.j, self.jt
        wp = v[: n * (j + 1)].reshape(n, j + 1)[:, : jt + 1]
        out = np.empty((n, jt + 1))
        out[:, jt] = wp[:, jt]
        lc_tr = self.prices(wp, out)
        lp_nt = np.matmul(self.H, out[:, :, None])[:, :, 0] + self.h
        lc = np.empty((n, j))
        lc[:, self.order] = np.concatenate([lc_tr, lp_nt - self.lkappa_nt], axis=1)
        lp = np.empty((n, j))
        lp[:, self.order] = np.concatenate([out[:, :jt], lp_nt], axis=1)
        u, s = self._u, self._s[:, :, 0]
        shares = np.zeros((n, n, j))
        tr, nt = self.order[:jt], self.order[jt:]
        shares[:, :, tr] = (self.pk * u[:, None, :] / s[:, :, None]).transpose(1, 2, 0)  # eq.trade_shares
        shares[np.arange(n), np.arange(n), nt[:, None]] = 1.0  # non-traded: all domestic
        return lc, lp, shares


def _eliminate_non_traded(
    gio: np.ndarray, gva: np.ndarray, alpha: np.ndarray, lkappa_nt: np.ndarray, jt: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Solve the linear, within-region conditions of the non-traded sectors once.

    Sectors ``:jt`` are traded, the rest (``nt``) non-traded; ``gio[n, k, j]`` = gamma_{nkj}.

    Prices: log P_nt = log kappa_nt + log c_nt with log c_j = gamma_j log w + sum_k gamma_{kj}
    log P_k (eq.log_input_cost), linear in log P_nt, so ``log P_nt = H [log P_tr, log w] + h``
    with ``H = (I - A)^{-1} [B, gamma_nt]``, ``A_{jk} = gamma_{kj}`` over non-traded j, k. Then
    the traded costs are ``log c_tr = K [log P_tr, log w] + k0``.

    Expenditure: X'_k = sum_j gamma_{kj} Y'_j + alpha_k I' with Y'_j = X'_j for non-traded j,
    so ``X'_nt = (I - gamma_{nt,nt})^{-1} (gamma_{nt,tr} Y'_tr + alpha_nt I')`` and every X' and
    labour demand sum_j gamma_j Y'_j are ``E [Y'_tr, I']``.

    ``lkappa_nt`` may carry a trailing batch axis ``(N, J - JT, B)``; ``h`` and ``k0`` then do too.

    Returns
    -------
    H ``(N, J - JT, JT + 1)``, h ``(N, J - JT)``, K ``(N, JT, JT + 1)``, k0 ``(N, JT)``,
    E ``(N, J + 1, JT + 1)``.
    """
    n, j = gva.shape
    T, U = slice(0, jt), slice(jt, j)  # traded, non-traded
    eye = np.eye(j - jt)
    # prices
    inv_x = np.linalg.inv(eye - gio[:, U, U])  # used below for expenditure
    inv_p = inv_x.transpose(0, 2, 1)  # (I - A)^{-1} with A = gamma_{nt,nt} transposed
    rhs = np.concatenate([gio[:, T, U].transpose(0, 2, 1), gva[:, U, None]], axis=2)
    H = inv_p @ rhs
    batched = lkappa_nt.ndim == 3  # (N, J - JT, B): one column per member of a batch
    lk = lkappa_nt if batched else lkappa_nt[:, :, None]
    h = inv_p @ lk
    from_nt = gio[:, U, T].transpose(0, 2, 1)  # [n, j in tr, k in nt]
    K = np.concatenate([gio[:, T, T].transpose(0, 2, 1), gva[:, T, None]], axis=2) + from_nt @ H
    k0 = from_nt @ h
    if not batched:
        h, k0 = h[:, :, 0], k0[:, :, 0]
    # expenditure
    x_nt = inv_x @ np.concatenate([gio[:, U, T], alpha[:, U, None]], axis=2)  # (N, nt, JT + 1)
    x_tr = np.concatenate([gio[:, T, T], alpha[:, T, None]], axis=2) + gio[:, T, U] @ x_nt
    labour = np.concatenate([gva[:, None, T], np.zeros((n, 1, 1))], axis=2) + gva[:, None, U] @ x_nt
    E = np.concatenate([x_tr, x_nt, labour], axis=1)
    return H, h, K, k0, E


def _check_settings(settings: SolverSettings) -> None:
    """The solver's own check of its settings (they may come from anywhere, validated or not)."""
    tol, max_iter, damping = settings.tol, settings.max_iter, settings.damping
    if not (isinstance(tol, int | float) and np.isfinite(tol) and 0.0 < tol <= MAX_TOL):
        raise UserInputError(
            f"[solver] tol = {tol!r} is not a usable tolerance: it must be a number above 0 and at most "
            f"{MAX_TOL:g} (the default is 1e-10); a larger one would accept a state far from equilibrium."
        )
    if not (isinstance(max_iter, int) and max_iter >= 1):
        raise UserInputError(f"[solver] max_iter = {max_iter!r} must be a whole number of at least 1.")
    if damping is not None and not (np.isfinite(damping) and 0.0 < damping <= 1.0):
        raise UserInputError(f"[solver] damping = {damping!r} must be above 0 and at most 1.")


def residual_bound(tol: float) -> float:
    """Largest relative equilibrium error (:func:`equilibrium_residuals`) a solve may report.

    The solver stops when no log unknown moves by more than ``tol`` in one step; trade balance,
    labour-market clearing and the expenditure condition then hold to about the same size
    (measured: at most 1.6 ``tol`` on 120 solves of random worlds with tol from 1e-6 to 1e-10,
    at most 0.5 ``tol`` on the cp2015 world from 1e-4 to 1e-12). ``RESIDUAL_FACTOR * tol``, and
    never less than ``RESIDUAL_FLOOR`` (rounding of the sums), leaves room for that and still
    refuses a state that only looks converged.
    """
    return max(RESIDUAL_FACTOR * tol, RESIDUAL_FLOOR)


def solve(
    baseline: MultiSectorBaseline,
    tariff_new: np.ndarray,
    d_hat: np.ndarray | None = None,
    deficits_new: np.ndarray | None = None,
    settings: SolverSettings | None = None,
    *,
    embargo: np.ndarray | None = None,
    start: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    kernel: Kernel | None = None,
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
    embargo
        Boolean ``(N, N, J)``: international cells with no trade at all in the counterfactual
        (pi'_{nij} = 0 exactly, whatever ``d_hat`` says there), e.g. the cells of
        :attr:`kaifang.scenario.shocks.ShockArrays.embargo`. Regions cut off from all others
        become separate economies, each with its own numeraire (:func:`numeraire_groups`).
    start
        Optional warm start ``(w_hat, p_hat, X')``.
    kernel
        ``"numpy"`` or ``"compiled"`` evaluation of the map (same equations; see :data:`Kernel`),
        or ``"auto"``: compiled from :data:`COMPILED_FROM_CELLS` traded cells, NumPy below;
        ``None``: the environment variable ``KAIFANG_CP_KERNEL``, else ``"auto"``.

    Returns
    -------
    Equilibrium

    Raises
    ------
    ConvergenceError
        When the solver does not reach ``settings.tol`` within ``settings.max_iter`` steps, or
        when the equilibrium conditions at the point reached are off by more than
        :func:`residual_bound`.
    UserInputError
        Unusable settings, or embargoes that leave a group of regions with trade in one
        direction only or with a deficit it cannot finance.
    """
    settings = settings or SolverSettings()
    _check_settings(settings)
    n, j = baseline.n_regions, baseline.n_sectors
    tariff_new = np.asarray(tariff_new, dtype=float)
    d_hat = np.ones((n, n, j)) if d_hat is None else np.asarray(d_hat, dtype=float)
    deficit_new = baseline.deficit.copy() if deficits_new is None else np.asarray(deficits_new, dtype=float)
    _check_inputs(baseline, tariff_new, d_hat, deficit_new)
    embargo = _check_embargo(embargo, n, j)
    t0 = time.perf_counter()

    scale = baseline.value_added.sum()  # work in units of world value added
    g = _EquilibriumMap(baseline, tariff_new, d_hat, deficit_new / scale, embargo, kernel)
    if start is None:
        v0 = g.pack(np.zeros(n), np.zeros((n, j)), np.log(baseline.expenditure / scale))
    else:
        w0, p0, x0 = start
        v0 = g.pack(np.log(w0), np.log(p0), np.log(np.asarray(x0) / scale))
    memory = settings.memory if settings.method == "anderson" else 0
    hint = (
        f"Tried with [solver] method = {settings.method!r}, tol = {settings.tol:g}, max_iter = "
        f"{settings.max_iter}. Raise max_iter, loosen tol, or check the shocks for extreme values."
    )
    fp = anderson(
        g,
        v0,
        tol=settings.tol,
        max_iter=settings.max_iter,
        memory=memory,
        damping=settings.damping or (1.0 if settings.method == "anderson" else 0.25),
        what="Caliendo-Parro equilibrium",
        hint=hint,
    )
    lw, _, lx = g.unpack(fp.x)
    lc, lp_sol, shares = g.solution(fp.x)
    diag = SolverDiagnostics(
        fp.diagnostics.method,
        fp.diagnostics.iterations,
        fp.diagnostics.residual,
        True,
        time.perf_counter() - t0,
        settings.tol,
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
        embargo=embargo,
        separate_economies=g.groups(baseline.regions),
    )
    bound = residual_bound(settings.tol)
    worst = max(out.residuals.items(), key=lambda kv: kv[1] if np.isfinite(kv[1]) else np.inf)
    if not worst[1] <= bound:
        raise ConvergenceError(
            f"Caliendo-Parro equilibrium did not converge: the solver's steps fell below tol "
            f"{settings.tol:g} after {fp.diagnostics.iterations} iterations, but the {worst[0].replace('_', ' ')} "
            f"condition is off by {worst[1]:.3g} (relative), more than the bound {bound:.3g} "
            f"(RESIDUAL_FACTOR x tol). The equilibrium may be nearly indeterminate. {hint}",
            iterations=fp.diagnostics.iterations,
            residual=worst[1],
        )
    return out


def _check_embargo(embargo: np.ndarray | None, n: int, j: int) -> np.ndarray | None:
    if embargo is None:
        return None
    embargo = np.asarray(embargo)
    if embargo.shape != (n, n, j) or embargo.dtype != bool:
        raise ValueError(
            f"embargo must be a boolean array of shape {(n, n, j)}, not {embargo.dtype} {embargo.shape}"
        )
    if embargo[np.arange(n), np.arange(n)].any():
        raise ValueError("embargo must be False on domestic pairs (a region cannot embargo itself)")
    return embargo if embargo.any() else None


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
