"""Solvers of the equilibrium in changes: Newton with the analytic Jacobian (kaifang's), and
the general root finder the paper's code uses (the reference in benchmarks and tests).

The unknowns are ``z = (log w_hat, log E_hat, log L_hat)`` (3N). The Newton system is
equations (a) (with the last one replaced by the normalisation), (b), and (c) in logs:
``log L_hat - kappa (log tau_hat + log w_hat - log P_hat) = 0``, which has the same roots.
The Jacobian is exact (derived by hand, checked against finite differences in the tests).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from scipy.linalg import lu_factor, lu_solve

from kaifang.errors import ConvergenceError
from kaifang.models.ims2025.equations import (
    Economy,
    Equilibrium,
    cost_shifter,
    evaluate,
    price_index,
)

__all__ = [
    "Solution",
    "SolverSettings",
    "jacobian",
    "newton_residual",
    "reduced_jacobian",
    "reduced_residual",
    "solve",
    "solve_reference",
]

log = logging.getLogger(__name__)

#: A chord step (old Jacobian) is kept only if it cuts the residual at least this much.
_CHORD_RATE = 0.05


@dataclass(frozen=True)
class SolverSettings:
    """Settings of the Newton solver.

    Attributes
    ----------
    tol
        Stop when the largest absolute Newton residual is at most ``tol``.
    max_iterations
        Newton steps before giving up (each with a backtracking line search).
    """

    tol: float = 1e-12
    max_iterations: int = 50

    def __post_init__(self) -> None:
        if not (self.tol > 0):
            raise ValueError(f"tol must be > 0, got {self.tol}")
        if self.max_iterations < 1:
            raise ValueError(f"max_iterations must be >= 1, got {self.max_iterations}")


@dataclass(frozen=True)
class Solution:
    """A solved equilibrium with its diagnostics."""

    eq: Equilibrium = field(repr=False)
    converged: bool
    iterations: int
    residual: float
    seconds: float
    method: str

    @property
    def x(self) -> np.ndarray:
        """The solution as the paper's stacked vector ``(w_hat, E_hat, L_hat)``."""
        return np.concatenate([self.eq.w_hat, self.eq.E_hat, self.eq.L_hat])


class _Tariffs(NamedTuple):
    """Tariff terms computed once per tariff matrix (the powers dominate a residual's cost)."""

    t: np.ndarray
    pow: np.ndarray  # (1 + t_ji)^(-eps phi_i)
    inv: np.ndarray  # 1 / (1 + t_ji)


def _terms(econ: Economy, t: np.ndarray | _Tariffs) -> _Tariffs:
    if isinstance(t, _Tariffs):
        return t
    return _Tariffs(t, (1.0 + t) ** (-econ.eps * econ.phi[None, :]), 1.0 / (1.0 + t))


def _shares(econ: Economy, tt: _Tariffs, w: np.ndarray, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``lam'`` and ``D`` (same as equations.price_denominator / trade_shares, precomputed powers)."""
    c = cost_shifter(w, L, econ.psi)
    A = econ.lam * (c ** (-econ.eps))[:, None] * tt.pow
    D = A.sum(axis=0)
    return A / D[None, :], D


class _State(NamedTuple):
    w: np.ndarray  # w_hat
    Eh: np.ndarray  # E_hat
    L: np.ndarray  # L_hat
    lam_new: np.ndarray
    m: np.ndarray  # lam'_ji / (1 + t_ji), producer-price shares
    mu: np.ndarray  # sum_j m_ji = 1 - rho_i
    P: np.ndarray  # P_hat
    ExE: np.ndarray  # E_hat E
    Z: np.ndarray  # X'
    H: np.ndarray  # w_hat L_hat Y
    R: np.ndarray  # tariff revenue


def _state(econ: Economy, t: np.ndarray | _Tariffs, z: np.ndarray) -> _State:
    n = econ.n
    tt = _terms(econ, t)
    w, Eh, L = np.exp(z[:n]), np.exp(z[n : 2 * n]), np.exp(z[2 * n :])
    lam_new, D = _shares(econ, tt, w, L)
    m = lam_new * tt.inv
    mu = m.sum(axis=0)
    P = price_index(Eh, w, D, econ.phi, econ.eps)
    ExE = Eh * econ.E
    H = w * L * econ.Y
    return _State(w, Eh, L, lam_new, m, mu, P, ExE, m * ExE[None, :], H, (1.0 - mu) * ExE)


def newton_residual(econ: Economy, t: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The 3N residuals Newton drives to zero at ``z = log(w_hat, E_hat, L_hat)``."""
    st = _state(econ, t, z)
    n = econ.n
    nu, Y, E = econ.nu, econ.Y, econ.E
    F = (st.Z * (1.0 - nu)[None, :]).sum(axis=1) + nu * st.Z.sum(axis=0)
    ra = F / Y - st.w * st.L
    ra[-1] = ((st.P - 1.0) * E).sum() / E.sum()
    rb = (st.R + st.H + econ.T * (st.H.sum() / Y.sum()) - st.ExE) / E
    log_tau_hat = 0.0 if econ.lump_sum else -np.log1p(-st.R / st.H)
    rc = z[2 * n :] - econ.kappa * (log_tau_hat + z[:n] - np.log(st.P))
    return np.concatenate([ra, rb, rc])


def jacobian(econ: Economy, t: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The exact Jacobian of :func:`newton_residual` with respect to ``z`` (3N x 3N).

    With ``dlc = d log c = d log w_hat - psi d log L_hat`` and ``g = G dlc`` (``G = lam'^T``):
    ``d lam'_ji = -eps lam'_ji (dlc_j - g_i)``, ``d log P_i = (1 - phi_i)(de_i - da_i) + g_i``.
    """
    st = _state(econ, t, z)
    n = econ.n
    nu, Y, E, eps, psi, kappa, phi = econ.nu, econ.Y, econ.E, econ.eps, econ.psi, econ.kappa, econ.phi
    Z, m, mu, Eh, H = st.Z, st.m, st.mu, st.Eh, st.H
    G = st.lam_new.T
    W = Z * (1.0 - nu)[None, :]
    M = Z.sum(axis=0)
    # (a): factor income F_j / Y_j - w_j L_j
    dF_dlc = eps * (-np.diag(W.sum(axis=1)) + W @ G - nu[:, None] * Z.T + (nu * M)[:, None] * G)
    dF_de = W + np.diag(nu * M)
    Ja_lc = dF_dlc / Y[:, None]
    wl = np.diag(st.w * st.L)
    J = np.empty((3 * n, 3 * n))
    J[:n, :n] = Ja_lc - wl
    J[:n, n : 2 * n] = dF_de / Y[:, None]
    J[:n, 2 * n :] = -psi * Ja_lc - wl
    # normalisation replaces the last row of (a): sum_i E_i P_i dlogP_i / sum E
    v = E * st.P / E.sum()
    vG = v @ G
    J[n - 1, :n] = -v * (1.0 - phi) + vG
    J[n - 1, n : 2 * n] = v * (1.0 - phi)
    J[n - 1, 2 * n :] = -psi * vG
    # (b): -mu_i Eh_i + H_i/E_i + T_i S / E_i
    dmu_dlc = eps * (-m.T + mu[:, None] * G)
    Jb_lc = -Eh[:, None] * dmu_dlc
    direct = np.diag(H / E) + np.outer(econ.T / E, H / Y.sum())
    J[n : 2 * n, :n] = Jb_lc + direct
    J[n : 2 * n, n : 2 * n] = np.diag(-mu * Eh)
    J[n : 2 * n, 2 * n :] = -psi * Jb_lc + direct
    # (c): l - kappa (log tau_hat + a - log P)
    if econ.lump_sum:
        Jc_lc = kappa * G
        ta = np.zeros(n)
    else:
        tau = st.R / H
        Jc_lc = kappa * ((st.ExE / H) / (1.0 - tau))[:, None] * dmu_dlc + kappa * G
        ta = kappa * tau / (1.0 - tau)
    J[2 * n :, :n] = Jc_lc + np.diag(ta - kappa - kappa * (1.0 - phi))
    J[2 * n :, n : 2 * n] = np.diag(-ta + kappa * (1.0 - phi))
    J[2 * n :, 2 * n :] = -psi * Jc_lc + np.diag(1.0 + ta)
    return J


def _validate_tariffs(econ: Economy, t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if t.shape != (econ.n, econ.n):
        raise ValueError(f"tariffs have shape {t.shape}, expected {(econ.n, econ.n)} (exporter, importer)")
    if not np.isfinite(t).all() or (t <= -1.0).any():
        raise ValueError("tariffs must be finite and above -1 (-100 %)")
    return t


def _e_star(econ: Economy, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log E_hat solving (b) exactly given ``y = (log w_hat, log L_hat)``:
    ``E_hat_i E_i mu_i = w_hat_i L_hat_i Y_i + T_i S`` with ``mu_i = sum_j lam'_ji / (1 + t_ji)``."""
    n = econ.n
    tt = _terms(econ, t)
    w, L = np.exp(y[:n]), np.exp(y[n:])
    lam_new, _ = _shares(econ, tt, w, L)
    mu = (lam_new * tt.inv).sum(axis=0)
    H = w * L * econ.Y
    return np.log((H + econ.T * (H.sum() / econ.Y.sum())) / (econ.E * mu))


def _full(econ: Economy, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    n = econ.n
    return np.concatenate([y[:n], _e_star(econ, t, y), y[n:]])


def reduced_residual(econ: Economy, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Residuals (a) and (c) of :func:`newton_residual` with E_hat from (b) in closed form.

    The shares ``lam'`` do not depend on E_hat, so they are computed once here."""
    n = econ.n
    tt = _terms(econ, t)
    nu, Y, E, phi = econ.nu, econ.Y, econ.E, econ.phi
    w, L = np.exp(y[:n]), np.exp(y[n:])
    lam_new, D = _shares(econ, tt, w, L)
    m = lam_new * tt.inv
    mu = m.sum(axis=0)
    H = w * L * Y
    ExE = (H + econ.T * (H.sum() / Y.sum())) / mu  # (b) solved: E_hat_i E_i
    Z = m * ExE[None, :]
    P = (ExE / E / w) ** (1.0 - phi) * D ** (-1.0 / econ.eps)
    ra = ((Z * (1.0 - nu)[None, :]).sum(axis=1) + nu * Z.sum(axis=0)) / Y - w * L
    ra[-1] = ((P - 1.0) * E).sum() / E.sum()
    log_tau_hat = 0.0 if econ.lump_sum else -np.log1p(-(1.0 - mu) * ExE / H)
    rc = y[n:] - econ.kappa * (log_tau_hat + y[:n] - np.log(P))
    return np.concatenate([ra, rc])


def reduced_jacobian(econ: Economy, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Jacobian of :func:`reduced_residual` (2N x 2N): the Schur complement of the full
    Jacobian with respect to log E_hat, whose block in (b) is diagonal."""
    n = econ.n
    t = _terms(econ, t)
    J = jacobian(econ, t, _full(econ, t, y))
    ac = np.r_[0:n, 2 * n : 3 * n]
    jbe = np.diag(J[n : 2 * n, n : 2 * n])
    elim = J[n : 2 * n][:, ac] / jbe[:, None]
    return J[np.ix_(ac, ac)] - J[ac, n : 2 * n] @ elim


def solve(
    econ: Economy,
    t: np.ndarray,
    settings: SolverSettings | None = None,
    *,
    start: np.ndarray | None = None,
) -> Solution:
    """Solve the equilibrium in changes for tariffs ``t[j, i]`` by Newton's method.

    Newton runs on the 2N unknowns ``(log w_hat, log L_hat)``; E_hat solves the spending
    equation (b) in closed form at every step. The Jacobian is exact.

    Parameters
    ----------
    econ
        The calibrated economy.
    t
        New tariffs (fractions), ``(exporter, importer)``.
    settings
        Solver settings.
    start
        Starting point ``(w_hat, E_hat, L_hat)`` stacked (default: all ones, the baseline);
        only ``w_hat`` and ``L_hat`` are used.

    Returns
    -------
    Solution
        The equilibrium and diagnostics; ``residual`` is the largest absolute residual of the
        equations (a)-(c) (relative form, see :func:`~kaifang.models.ims2025.equations.evaluate`).

    Raises
    ------
    ConvergenceError
        No convergence within ``settings.max_iterations`` Newton steps.
    """
    s = settings or SolverSettings()
    t = _validate_tariffs(econ, t)
    t0 = time.perf_counter()
    y = _start(econ, start)
    y, it, norm, _ = _newton(econ, _terms(econ, t), y, s)
    seconds = time.perf_counter() - t0
    _raise_unless(norm, it, s)
    return _finish(econ, t, _full(econ, t, y), it, seconds, "newton")


def _start(econ: Economy, start: np.ndarray | None) -> np.ndarray:
    n = econ.n
    if start is None:
        return np.zeros(2 * n)
    x = np.log(np.asarray(start, dtype=float))
    return np.concatenate([x[:n], x[2 * n :]])


def _raise_unless(norm: float, it: int, s: SolverSettings) -> None:
    if not np.isfinite(norm) or norm > s.tol:
        raise ConvergenceError(
            f"the ims2025 equilibrium did not converge: Newton's method (analytic Jacobian, "
            f"backtracking line search) stopped after {it} iteration(s) with largest residual "
            f"{norm:.3e} > tol {s.tol:.1e}. Raise [solver] max_iterations, loosen [solver] tol, or "
            f"make the tariff change less extreme.",
            iterations=it,
            residual=norm,
        )


def _newton(econ, t, y, s, lu=None, chord=False):
    """Newton on the reduced system; with ``chord`` a factorised Jacobian ``lu`` (e.g. from a
    neighbouring solve) is reused as long as each step cuts the residual at least twentyfold.

    Returns ``(y, iterations, residual, lu)``; ``lu`` is the last factorised Jacobian."""
    with np.errstate(all="ignore"):
        r = reduced_residual(econ, t, y)
    norm = float(np.max(np.abs(r)))
    it = 0
    while norm > s.tol and it < s.max_iterations:
        it += 1
        if chord and lu is not None:  # chord step with an old Jacobian: keep it only if it contracts well
            y_new = y + lu_solve(lu, -r)
            with np.errstate(all="ignore"):
                r_new = reduced_residual(econ, t, y_new)
            n_new = float(np.max(np.abs(r_new)))
            if np.isfinite(n_new) and n_new < _CHORD_RATE * norm:
                y, r, norm = y_new, r_new, n_new
                continue
            lu = None
        lu = lu_factor(reduced_jacobian(econ, t, y))
        y, r, norm = _line_search(econ, t, y, r, norm, lu_solve(lu, -r))
    return y, it, norm, lu


def _line_search(econ, t, y, r, norm, step):
    lam = 1.0
    r_new, n_new = r, norm
    for _ in range(40):
        y_new = y + lam * step
        with np.errstate(all="ignore"):
            r_new = reduced_residual(econ, t, y_new)
        n_new = float(np.max(np.abs(r_new)))
        if np.isfinite(n_new) and n_new < norm:
            return y_new, r_new, n_new
        lam *= 0.5
    return y, r, norm


def _finish(econ: Economy, t: np.ndarray, z: np.ndarray, it: int, seconds: float, method: str) -> Solution:
    n = econ.n
    eq = evaluate(econ, t, np.exp(z[:n]), np.exp(z[n : 2 * n]), np.exp(z[2 * n :]))
    res = float(
        max(
            np.max(np.abs(eq.residual_a)),
            np.max(np.abs(eq.residual_b)),
            np.max(np.abs(eq.residual_c)),
            abs(eq.normalisation),
        )
    )
    return Solution(eq, True, it, res, seconds, method)


def paper_residual(econ: Economy, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The paper's residual system in levels at ``x = (w_hat, E_hat, L_hat)`` (absolute values of
    ``x`` are used, as the paper's code does), for a general root finder."""
    n = econ.n
    x = np.abs(x)
    eq = evaluate(econ, t, x[:n], x[n : 2 * n], x[2 * n :])
    ra = eq.residual_a * econ.Y
    ra[-1] = eq.normalisation * econ.E.sum() / n
    rb = eq.residual_b * econ.E
    return np.concatenate([ra, rb, eq.residual_c])


def solve_reference(
    econ: Economy,
    t: np.ndarray,
    *,
    method: Literal["lm", "hybr"] = "lm",
    xtol: float = 1e-12,
) -> Solution:
    """Solve with :func:`scipy.optimize.root` (finite-difference Jacobian) from a unit start, on
    the paper's residuals in levels: the kind of solver the paper's replication code uses.

    Raises
    ------
    ConvergenceError
        The root finder reports failure.
    """
    from scipy.optimize import root

    t = _validate_tariffs(econ, t)
    t0 = time.perf_counter()
    opts = {"xtol": xtol, "ftol": 1e-14, "maxiter": 200 * 3 * econ.n} if method == "lm" else {"xtol": xtol}
    sol = root(lambda x: paper_residual(econ, t, x), np.ones(3 * econ.n), method=method, options=opts)
    seconds = time.perf_counter() - t0
    if not sol.success:
        log.warning("scipy root %s: %s", method, sol.message)
    x = np.abs(sol.x)
    out = _finish(econ, t, np.log(x), int(sol.nfev), seconds, f"scipy.optimize.root({method!r})")
    if not sol.success and out.residual > 1e-8:
        raise ConvergenceError(
            f"scipy.optimize.root({method!r}) did not converge: {sol.message} (residual {out.residual:.2e}).",
            iterations=int(sol.nfev),
            residual=out.residual,
        )
    return out
