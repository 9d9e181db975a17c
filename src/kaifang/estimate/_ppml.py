"""PPML estimation with high-dimensional fixed effects: specification, engine dispatch, results.

The public entry point is :func:`ppml`. It validates the input once, builds a frozen
:class:`PPMLSpec`, hands plain data to one engine function (``_ENGINES[engine]``) and wraps
what the engine returns in an immutable :class:`PPMLEstimate`. Adding an engine means adding
one function with the signature of :func:`_fit_pyfixest` to ``_ENGINES``.

Engines
    ``"kaifang"`` (default): :func:`kaifang.estimate.hdfe.ppml_hdfe` (IRLS with accelerated
    alternating projections; separation by the fixed-effect check, as pyfixest's default) and,
    for least squares, :func:`kaifang.estimate.hdfe.ols_hdfe`.
    ``"pyfixest"``: ``pyfixest.fepois`` / ``feols``, an optional dependency
    (``pip install "kaifang[pyfixest]"``). Both give the same coefficients (1e-6) and standard
    errors (1e-4) (tests/estimate).

Standard errors (``se_convention``)
    ``"fixest"`` (default): clustered CRV1 with the small-sample factor
    ``G/(G-1) * (N-1)/(N-K)`` where ``K`` counts the regressors and the fixed effects that are
    *not* nested in the cluster variable (the convention of R ``fixest`` and Stata
    ``reghdfe``/``ppmlhdfe``). ``"stata_ppml"``: ``G/(G-1)`` only, the factor of Stata's
    ``ppml ..., cluster()`` used in the Advanced Guide (Yotov et al. 2016); its standard errors
    are about 1.5 % smaller on the chapter-1 RTA panel. Without ``cluster`` the
    heteroskedasticity-robust (HC1) covariance is used.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from kaifang.errors import ConvergenceError, DataError, suggest

__all__ = ["Engine", "PPMLEstimate", "PPMLSpec", "SEConvention", "ols", "ppml"]

Engine = Literal["kaifang", "pyfixest"]
SEConvention = Literal["fixest", "stata_ppml"]
SE_CONVENTIONS: tuple[str, ...] = ("fixest", "stata_ppml")


@dataclass(frozen=True)
class PPMLSpec:
    """A validated PPML specification (immutable).

    Attributes
    ----------
    depvar
        Dependent variable (trade flows, >= 0).
    regressors
        Regressor columns, in order.
    fixed_effects
        Fixed-effect dimensions; each a column name or an interaction written
        ``"exporter#year"`` (a new category for every combination).
    cluster
        Column whose values define clusters for the covariance, or ``None`` (HC1).
    weights, offset
        Optional column names.
    engine
        Which engine estimated the model.
    se_convention
        Small-sample convention of the clustered covariance (module docstring).
    tol, maxiter
        Convergence tolerance and iteration cap of the IRLS iterations.
    threads
        Threads of the own engine (``None``: automatic, see :func:`kaifang.estimate.hdfe.ppml_hdfe`).
    """

    depvar: str
    regressors: tuple[str, ...]
    fixed_effects: tuple[str, ...]
    cluster: str | None = None
    weights: str | None = None
    offset: str | None = None
    engine: str = "kaifang"
    se_convention: str = "fixest"
    tol: float = 1e-8
    maxiter: int = 100
    method: str = "ppml"
    threads: int | None = None


@dataclass(frozen=True)
class EngineResult:
    """What an engine returns (plain arrays; positions refer to the rows it was given)."""

    coef: np.ndarray
    vcov: np.ndarray
    fitted: np.ndarray  # length n_rows, NaN where the row was dropped
    fixed_effects: dict[str, dict[str, float]]
    iterations: int | None
    converged: bool
    deviance: float
    n_separation: int
    n_singletons: int
    n_clusters: int | None


@dataclass(frozen=True)
class PPMLEstimate:
    """An estimated PPML gravity model. Immutable.

    Attributes
    ----------
    coef, se
        Coefficients and standard errors (``pandas.Series`` indexed by regressor).
    vcov
        Covariance matrix (``pandas.DataFrame`` labelled by regressor on both axes).
    fixed_effects
        One ``pandas.Series`` per fixed-effect dimension (key as written in the spec),
        indexed by category label. Their split among dimensions is a normalisation of the
        engine; sums over the dimensions of an observation are identified.
    fitted
        Fitted values, aligned with the input rows (NaN for rows dropped before estimation).
    diagnostics
        ``converged``, ``iterations``, ``deviance``, ``n_dropped_separation``,
        ``n_dropped_singletons``, ``n_dropped_missing``, ``n_clusters``, ``se_convention``,
        ``engine``, ``seconds`` (including ``compile_seconds``, the time numba spent compiling
        the own engine's kernels: non-zero on a machine's first runs only).
    nobs
        Observations used.
    spec
        The :class:`PPMLSpec`.
    """

    coef: pd.Series
    se: pd.Series
    vcov: pd.DataFrame
    fixed_effects: Mapping[str, pd.Series]
    fitted: pd.Series
    diagnostics: Mapping[str, Any]
    nobs: int
    spec: PPMLSpec
    _extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Tidy coefficient table: ``term, estimate, std_error, z, p_value, ci_lo, ci_hi``.

        Normal p-values ``2 (1 - Phi(|z|)) = erfc(|z| / sqrt 2)`` and intervals ``b +- q se`` with
        ``q = Phi^{-1}(0.5 + level / 2)`` (the standard library's normal distribution: no SciPy
        import on the command line's path).
        """
        from statistics import NormalDist

        z = self.coef / self.se
        q = NormalDist().inv_cdf(0.5 + level / 2)
        p_value = np.array(
            [math.erfc(abs(v) / math.sqrt(2.0)) if np.isfinite(v) else np.nan for v in z.values]
        )
        return pd.DataFrame(
            {
                "term": self.coef.index,
                "estimate": self.coef.values,
                "std_error": self.se.values,
                "z": z.values,
                "p_value": p_value,
                "ci_lo": (self.coef - q * self.se).values,
                "ci_hi": (self.coef + q * self.se).values,
            }
        )

    def summary(self, digits: int = 4) -> str:
        """A coefficient table in the style of R's fixest: estimate, standard error, z, p, stars.

        The header names the method, the dependent variable, the observations, each fixed-effect
        dimension with its number of categories and the standard errors; the footer gives the
        significance codes and the fit (pseudo-R2 and log-likelihood for PPML, R2 for least
        squares). p-values are normal, as in :meth:`table`.
        """
        return _summary_text(self, digits)

    def __getitem__(self, term: str) -> float:
        """The coefficient of ``term`` (KeyError with suggestions when unknown)."""
        if term not in self.coef.index:
            raise KeyError(
                f"the estimate has no coefficient {term!r}.{suggest(term, self.coef.index)} "
                f"Coefficients: {', '.join(self.coef.index)}."
            )
        return float(self.coef[term])


def _fe_column(name: str) -> list[str]:
    return [p.strip() for p in name.replace("^", "#").split("#")]


def check_columns(data: pd.DataFrame, columns: Sequence[str], *, what: str, source: str = "data") -> None:
    """Raise DataError naming missing columns, with suggestions and the available columns."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        avail = ", ".join(map(str, data.columns))
        parts = [f"{c!r}{suggest(c, data.columns)}" for c in missing]
        raise DataError(
            f"{source}: {what} names column(s) not in the data: {'; '.join(parts)} "
            f"Available columns: {avail}."
        )


def ppml(
    data: pd.DataFrame,
    depvar: str,
    regressors: Sequence[str],
    fixed_effects: Sequence[str] = (),
    cluster: str | None = None,
    weights: str | None = None,
    offset: str | None = None,
    engine: Engine = "kaifang",
    *,
    se_convention: SEConvention = "fixest",
    tol: float = 1e-8,
    maxiter: int = 100,
    threads: int | None = None,
    progress: Callable[[str], None] | None = None,
    source: str = "data",
    _method: str = "ppml",
) -> PPMLEstimate:
    """Estimate a Poisson pseudo-maximum-likelihood (PPML) gravity model.

    ``E[y | x] = exp(x'b + sum of fixed effects + offset)``, with observations whose fixed
    effects are separated (all-zero outcome) or singletons dropped before estimation.

    Parameters
    ----------
    data
        One row per observation (e.g. exporter, importer, year).
    depvar
        Dependent variable; numeric, non-negative.
    regressors
        Regressor columns (numeric).
    fixed_effects
        Fixed-effect dimensions: column names or interactions ``"exporter#year"``.
    cluster
        Column defining clusters (e.g. ``"pair_id"``) for the covariance; ``None``: HC1.
    weights, offset
        Optional weight and offset columns.
    engine
        Estimation engine: ``"kaifang"`` (default; the own engine
        :func:`kaifang.estimate.hdfe.ppml_hdfe`) or ``"pyfixest"`` (``pyfixest.fepois`` /
        ``feols``, the reference in tests; needs ``pip install "kaifang[pyfixest]"``).
    se_convention
        ``"fixest"`` or ``"stata_ppml"`` (see the module docstring).
    tol, maxiter
        IRLS convergence tolerance and iteration cap.
    threads
        Threads of the own engine: ``None`` (default) picks them by problem size and machine
        load (one thread below 400,000 rows; ``KAIFANG_HDFE_THREADS`` overrides), an integer
        fixes them. Ignored by pyfixest.
    progress
        Called with a short message on long steps (the own engine's first run on a machine
        compiles its kernels, which takes seconds; the command line shows it on stderr).
    source
        Name of the data source (for messages), e.g. the spec file.

    Returns
    -------
    PPMLEstimate

    Raises
    ------
    DataError
        Missing columns (listing the available ones), non-numeric or negative outcomes.
    ConvergenceError
        The engine did not converge within ``maxiter`` iterations.
    """
    if engine not in _ENGINES:
        raise DataError(
            f"{source}: unknown engine {engine!r}.{suggest(engine, _ENGINES)} Engines: {', '.join(_ENGINES)}."
        )
    if se_convention not in SE_CONVENTIONS:
        raise DataError(
            f"{source}: unknown se_convention {se_convention!r}.{suggest(se_convention, SE_CONVENTIONS)} "
            f"Valid: {', '.join(SE_CONVENTIONS)}."
        )
    if engine == "pyfixest":
        _import_pyfixest()  # the optional dependency: a clear error before any work
    spec = PPMLSpec(
        depvar=depvar,
        regressors=tuple(regressors),
        fixed_effects=tuple(fixed_effects),
        cluster=cluster,
        weights=weights,
        offset=offset,
        engine=engine,
        se_convention=se_convention,
        tol=tol,
        maxiter=maxiter,
        method=_method,
        threads=threads,
    )
    if not spec.regressors:
        raise DataError(f"{source}: give at least one regressor.")
    check_columns(data, [depvar], what="the dependent variable", source=source)
    check_columns(data, list(spec.regressors), what="the regressors", source=source)
    fe_cols = [c for fe in spec.fixed_effects for c in _fe_column(fe)]
    check_columns(data, fe_cols, what="the fixed effects", source=source)
    for name, col in (("cluster", cluster), ("weights", weights), ("offset", offset)):
        if col is not None:
            check_columns(data, [col], what=f"the {name}", source=source)
    for col in (depvar, *spec.regressors, *(c for c in (weights, offset) if c)):
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            bad = data[col][pd.to_numeric(data[col], errors="coerce").isna() & data[col].notna()]
            example = f" (e.g. {bad.iloc[0]!r})" if len(bad) else ""
            raise DataError(
                f"{source}: column {col!r} must be numeric but has type {data[col].dtype}{example}."
            )
    y = data[depvar]
    if _method == "ppml" and (y < 0).any():
        k = int(np.flatnonzero(y.to_numpy() < 0)[0])
        raise DataError(
            f"{source}: the dependent variable {depvar!r} has {int((y < 0).sum())} negative value(s) "
            f"(first at row {data.index[k]!r}: {y.iloc[k]}); trade flows must be >= 0."
        )
    used = [depvar, *spec.regressors, *(c for c in (weights, offset) if c)]
    ok = (
        np.isfinite(data[used].to_numpy(dtype=float)).all(axis=1)
        & data[fe_cols].notna().all(axis=1).to_numpy()
    )
    n_missing = int((~ok).sum())
    if not ok.any():
        raise DataError(f"{source}: no row has finite values of {', '.join(used)}.")
    rows = data.loc[ok]
    t0 = time.perf_counter()
    compile_seconds = 0.0
    if engine == "kaifang":
        from kaifang.estimate._compile import compile_notice

        with compile_notice(progress) as compiled:
            res = _ENGINES[engine](rows, spec)
        compile_seconds = compiled["seconds"]
    else:
        res = _ENGINES[engine](rows, spec)
    seconds = time.perf_counter() - t0
    if not res.converged:
        raise ConvergenceError(
            f"{source}: PPML ({engine}) did not converge in {maxiter} iterations (tolerance {tol:g}); "
            f"raise maxiter, rescale the dependent variable or check for separated observations.",
            iterations=res.iterations or maxiter,
        )
    names = list(spec.regressors) + ["intercept"] * (len(res.coef) - len(spec.regressors))
    coef = pd.Series(res.coef, index=names, name="estimate")
    vcov = pd.DataFrame(res.vcov, index=names, columns=names)
    se = pd.Series(np.sqrt(np.diag(res.vcov)), index=names, name="std_error")
    fitted = pd.Series(np.nan, index=data.index, name="fitted")
    fitted.loc[data.index[ok]] = res.fitted
    fes = {k: pd.Series(v, name=k, dtype=float) for k, v in res.fixed_effects.items()}
    nobs = int(np.isfinite(res.fitted).sum())
    diag = {
        "engine": engine,
        "converged": res.converged,
        "iterations": res.iterations,  # None when the engine does not report it (pyfixest)
        "deviance": res.deviance,
        "n_dropped_separation": res.n_separation,
        "n_dropped_singletons": res.n_singletons,
        "n_dropped_missing": n_missing,
        "n_clusters": res.n_clusters,
        "se_convention": se_convention if cluster else "hc1",
        "seconds": seconds,
        "compile_seconds": compile_seconds,
        **_fit_statistics(rows, res.fitted, spec),
    }
    return PPMLEstimate(
        coef=coef, se=se, vcov=vcov, fixed_effects=fes, fitted=fitted, diagnostics=diag, nobs=nobs, spec=spec
    )


def _fit_statistics(rows: pd.DataFrame, fitted: np.ndarray, spec: PPMLSpec) -> dict[str, float]:
    """Goodness of fit on the rows the engine used (finite fitted values).

    PPML: the Poisson log-likelihood ``sum w (y log mu - mu - lgamma(y + 1))``, that of the model
    with a constant only (``mu = weighted mean of y``) and McFadden's pseudo-R2
    ``1 - ll / ll_null`` (fixest's ``pseudo_r2``). Least squares: ``r2 = 1 - RSS / TSS`` about the
    weighted mean.
    """
    used = np.isfinite(fitted)
    y = rows[spec.depvar].to_numpy(dtype=float)[used]
    mu = np.asarray(fitted, dtype=float)[used]
    w = rows[spec.weights].to_numpy(dtype=float)[used] if spec.weights else np.ones_like(y)
    if y.size == 0 or w.sum() <= 0:
        return {}
    ybar = float((w * y).sum() / w.sum())
    if spec.method == "ols":
        tss = float((w * (y - ybar) ** 2).sum())
        rss = float((w * (y - mu) ** 2).sum())
        return {"r2": 1.0 - rss / tss if tss > 0 else float("nan")}

    from scipy.special import gammaln

    log_y_factorial = float((w * gammaln(y + 1.0)).sum())  # the same in both likelihoods

    def loglik(m: np.ndarray) -> float:
        ylogm = np.where(y > 0, y * np.log(np.where(m > 0, m, 1.0)), 0.0)
        return float((w * (ylogm - m)).sum()) - log_y_factorial

    ll, ll0 = loglik(mu), loglik(np.full_like(y, ybar))
    return {
        "log_likelihood": ll,
        "null_log_likelihood": ll0,
        "pseudo_r2": 1.0 - ll / ll0 if ll0 != 0 else float("nan"),
    }


def _fe_labels(data: pd.DataFrame, fe: str) -> np.ndarray:
    parts = _fe_column(fe)
    lab = data[parts[0]].astype(str).to_numpy()
    for p in parts[1:]:
        lab = lab + "#" + data[p].astype(str).to_numpy()
    return lab


def _drop_separated(data: pd.DataFrame, spec: PPMLSpec) -> tuple[np.ndarray, int, int]:
    """Rows to keep after dropping, until nothing changes, observations whose fixed-effect
    category has an all-zero outcome (separated; PPML only) and singleton categories.

    Returns the boolean mask and the counts dropped for separation and as singletons.
    """
    keep = np.ones(len(data), dtype=bool)
    if not spec.fixed_effects:
        return keep, 0, 0
    y = data[spec.depvar].to_numpy(dtype=float)
    labels = [pd.factorize(_fe_labels(data, fe))[0] for fe in spec.fixed_effects]
    n_sep = n_single = 0
    while True:
        changed = False
        for codes in labels:
            idx = np.flatnonzero(keep)
            c = codes[idx]
            counts = np.bincount(c)
            single = counts[c] == 1
            if single.any():
                keep[idx[single]] = False
                n_single += int(single.sum())
                changed = True
                idx = np.flatnonzero(keep)
                c = codes[idx]
            if spec.method == "ppml":
                sums = np.bincount(c, weights=y[idx])
                sep = sums[c] <= 0
                if sep.any():
                    keep[idx[sep]] = False
                    n_sep += int(sep.sum())
                    changed = True
        if not changed:
            return keep, n_sep, n_single


def _import_pyfixest() -> Any:
    """``pyfixest``, or a clear error saying how to install it (it is an optional extra)."""
    try:
        import pyfixest
    except ImportError:
        raise DataError(
            'engine "pyfixest" needs the pyfixest package, which is not installed; install it with '
            'pip install "kaifang[pyfixest]", or use the default engine "kaifang".'
        ) from None
    return pyfixest


def _fit_pyfixest(data: pd.DataFrame, spec: PPMLSpec) -> EngineResult:
    """The pyfixest engine: ``pyfixest.fepois`` on a copy with safe column names."""
    pf = _import_pyfixest()

    n_all = len(data)
    keep, n_sep, n_singletons = _drop_separated(data, spec)
    data = data.loc[keep]
    df = pd.DataFrame(index=np.arange(len(data)))
    df["y"] = data[spec.depvar].to_numpy(dtype=float)
    xnames = [f"x{k}" for k in range(len(spec.regressors))]
    for xn, col in zip(xnames, spec.regressors, strict=True):
        df[xn] = data[col].to_numpy(dtype=float)
    fenames = [f"fe{k}" for k in range(len(spec.fixed_effects))]
    for fn, fe in zip(fenames, spec.fixed_effects, strict=True):
        df[fn] = _fe_labels(data, fe)
    kw: dict[str, Any] = {"iwls_tol": spec.tol, "iwls_maxiter": spec.maxiter}
    if spec.cluster:
        df["cl"] = data[spec.cluster].astype(str).to_numpy()
        kw["vcov"] = {"CRV1": "cl"}
        if spec.se_convention == "fixest":
            kw["ssc"] = pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True)
        else:
            kw["ssc"] = pf.ssc(k_adj=False, G_adj=True)
    else:
        kw["vcov"] = "hetero"
    if spec.weights:
        df["w"] = data[spec.weights].to_numpy(dtype=float)
        kw["weights"] = "w"
    if spec.offset:
        df["off"] = data[spec.offset].to_numpy(dtype=float)
        kw["offset"] = "off"
    fml = "y ~ " + " + ".join(xnames)
    if fenames:
        fml += " | " + " + ".join(fenames)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if spec.method == "ols":
                for k in ("iwls_tol", "iwls_maxiter"):
                    kw.pop(k)
                fit = pf.feols(fml, df, **kw)
            else:
                fit = pf.fepois(fml, df, **kw)
        except Exception as exc:  # pyfixest raises plain errors on non-convergence
            if "converge" in str(exc).lower():
                return EngineResult(
                    np.full(len(xnames), np.nan),
                    np.full((len(xnames),) * 2, np.nan),
                    np.full(len(df), np.nan),
                    {},
                    spec.maxiter,
                    False,
                    math.nan,
                    0,
                    0,
                    None,
                )
            raise
    for w in caught:
        warnings.warn(w.message, w.category, stacklevel=3)
    if fit._N != len(df):
        raise RuntimeError(f"pyfixest dropped {len(df) - fit._N} further rows; cannot align fitted values")
    names = list(fit._coefnames)
    order = [names.index(x) for x in xnames] + [names.index(n) for n in names if n not in xnames]
    coef = fit.coef().to_numpy()[order]
    vcov = np.asarray(fit._vcov)[np.ix_(order, order)]
    fitted = np.full(n_all, np.nan)
    yhat = getattr(fit, "_Y_hat_response", None)
    fitted[keep] = np.asarray(yhat if yhat is not None else fit.predict()).ravel()
    fixed: dict[str, dict[str, float]] = {}
    if fenames:
        raw = fit.fixef()
        for fn, fe in zip(fenames, spec.fixed_effects, strict=True):
            got = {str(k): float(v) for k, v in raw[f"C({fn})"].items()}
            # pyfixest omits the reference category of all but the first dimension: its effect is 0
            fixed[fe] = {lab: got.get(lab, 0.0) for lab in pd.unique(df[fn])}
    g = getattr(fit, "_G", None)
    n_cl = int(g[0]) if isinstance(g, (list, tuple)) and g else (int(g) if g else None)
    return EngineResult(
        coef=coef,
        vcov=vcov,
        fitted=fitted,
        fixed_effects=fixed,
        iterations=getattr(fit, "_iter", None),
        converged=bool(getattr(fit, "_convergence", True)),
        deviance=float(np.asarray(getattr(fit, "deviance", None) or np.nan, dtype=float).ravel()[0]),
        n_separation=n_sep,
        n_singletons=n_singletons,
        n_clusters=n_cl if spec.cluster else None,
    )


def ols(
    data: pd.DataFrame,
    depvar: str,
    regressors: Sequence[str],
    fixed_effects: Sequence[str] = (),
    cluster: str | None = None,
    weights: str | None = None,
    offset: str | None = None,
    engine: Engine = "kaifang",
    **kwargs: Any,
) -> PPMLEstimate:
    """Least squares with fixed effects (e.g. of ``ln_trade``), same inputs and result as :func:`ppml`.

    Rows with a non-finite outcome (``ln`` of a zero flow) are dropped and counted in
    ``diagnostics["n_dropped_missing"]``. For the traditional gravity OLS of the Advanced Guide.
    ``engine="kaifang"`` (default) is :func:`kaifang.estimate.hdfe.ols_hdfe`; ``"pyfixest"``
    is ``pyfixest.feols``. Singletons are dropped first in both, as for PPML.
    """
    if offset is not None:
        raise DataError("ols does not take an offset.")
    return ppml(
        data, depvar, regressors, fixed_effects, cluster, weights, None, engine, _method="ols", **kwargs
    )


def _fit_kaifang(data: pd.DataFrame, spec: PPMLSpec) -> EngineResult:
    """The own engine: :func:`kaifang.estimate.hdfe.ppml_hdfe` on integer-coded fixed effects.

    Separation by the fixed-effect check and singletons dropped iteratively, as the pyfixest
    engine does; without fixed effects a constant is absorbed as a one-group fixed effect
    (reported under ``"(constant)"``). Least squares runs :func:`~kaifang.estimate.hdfe.ols_hdfe`.
    """
    from kaifang.estimate.hdfe import ols_hdfe, ppml_hdfe

    y = data[spec.depvar].to_numpy(dtype=float)
    X = data[list(spec.regressors)].to_numpy(dtype=float)
    fe_names = list(spec.fixed_effects) or ["(constant)"]
    codes, uniques = [], []
    for fe in spec.fixed_effects:
        c, u = pd.factorize(_fe_labels(data, fe))
        codes.append(c.astype(np.int64))
        uniques.append(u)
    if not codes:
        codes, uniques = [np.zeros(len(y), dtype=np.int64)], [np.array(["all"])]
    if spec.method == "ols":
        fit = ols_hdfe(
            y,
            X,
            codes,
            weights=data[spec.weights].to_numpy(dtype=float) if spec.weights else None,
            cluster=data[spec.cluster].to_numpy() if spec.cluster else None,
            vcov="hetero",
            names=list(spec.regressors),
            fe_names=fe_names,
            threads=spec.threads,
        )
    else:
        fit = ppml_hdfe(
            y,
            X,
            codes,
            weights=data[spec.weights].to_numpy(dtype=float) if spec.weights else None,
            offset=data[spec.offset].to_numpy(dtype=float) if spec.offset else None,
            cluster=data[spec.cluster].to_numpy() if spec.cluster else None,
            vcov="hetero",
            names=list(spec.regressors),
            fe_names=fe_names,
            tol=spec.tol,
            maxiter=spec.maxiter,
            separation=("fe",),
            threads=spec.threads,
        )
    vcov = np.asarray(fit.vcov, dtype=float)
    if spec.cluster and spec.se_convention == "stata_ppml":
        # fixest factor G/(G-1) (N-1)/(N-K) -> Stata ppml's G/(G-1): undo (N-1)/(N-K)
        vcov = vcov * (fit.n_obs - fit.df_k) / (fit.n_obs - 1)
    fixed = {
        name: {str(lab): float(v) for lab, v in zip(u, a, strict=True) if np.isfinite(v)}
        for name, u, a in zip(fe_names, uniques, fit.fixed_effects, strict=True)
    }
    return EngineResult(
        coef=np.asarray(fit.coef, dtype=float),
        vcov=vcov,
        fitted=np.asarray(fit.mu, dtype=float),
        fixed_effects=fixed,
        iterations=None if spec.method == "ols" else int(fit.iterations),
        converged=bool(fit.converged),
        deviance=float(fit.deviance),
        n_separation=int(fit.dropped.get("separated_fe", 0) + fit.dropped.get("separated_relu", 0)),
        n_singletons=int(fit.dropped.get("singleton", 0)),
        n_clusters=int(fit.n_clusters[0]) if spec.cluster and fit.n_clusters else None,
    )


# Engine dispatch: name -> function(data, spec) -> EngineResult.
_ENGINES: dict[str, Callable[[pd.DataFrame, PPMLSpec], EngineResult]] = {
    "kaifang": _fit_kaifang,
    "pyfixest": _fit_pyfixest,
}


def significance_stars(p: float) -> str:
    """fixest's codes: ``***`` p < 0.001, ``**`` < 0.01, ``*`` < 0.05, ``.`` < 0.1, else empty."""
    if not np.isfinite(p):
        return ""
    for cut, mark in ((0.001, "***"), (0.01, "**"), (0.05, "*"), (0.1, ".")):
        if p < cut:
            return mark
    return ""


def se_description(est: PPMLEstimate) -> str:
    """``Clustered (pair_id)`` or ``Heteroskedasticity-robust (HC1)``."""
    if est.spec.cluster:
        return f"Clustered ({est.spec.cluster})"
    return "Heteroskedasticity-robust (HC1)"


def _summary_text(est: PPMLEstimate, digits: int) -> str:
    method = "Least squares" if est.spec.method == "ols" else "PPML"
    d = est.diagnostics
    lines = [
        f"{method} estimation, Dep. Var.: {est.spec.depvar}",
        f"Observations: {est.nobs:,}",
    ]
    if est.fixed_effects:
        fe = ", ".join(f"{k}: {len(v):,}" for k, v in est.fixed_effects.items())
        lines.append(f"Fixed-effects: {fe}")
    conv = f", {d['se_convention']} small-sample correction" if est.spec.cluster else ""
    lines.append(f"Standard-errors: {se_description(est)}{conv}")
    tab = est.table()
    cells = [["", "Estimate", "Std. Error", "z value", "Pr(>|z|)", ""]]
    for r in tab.itertuples(index=False):
        cells.append(
            [
                str(r.term),
                f"{r.estimate:.{digits}f}",
                f"{r.std_error:.{digits}f}",
                f"{r.z:.{max(digits - 1, 1)}f}",
                _format_p(r.p_value),
                significance_stars(r.p_value),
            ]
        )
    widths = [max(len(row[k]) for row in cells) for k in range(len(cells[0]))]
    for row in cells:
        left = row[0].ljust(widths[0])
        rest = " ".join(c.rjust(w) for c, w in zip(row[1:5], widths[1:5], strict=True))
        lines.append(f"{left} {rest} {row[5]}".rstrip())
    lines.append("---")
    lines.append("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
    fit = []
    if "pseudo_r2" in d:
        fit.append(f"Pseudo R2: {d['pseudo_r2']:.{digits}f}")
    if "log_likelihood" in d:
        fit.append(f"Log-Likelihood: {d['log_likelihood']:,.2f}")
    if "r2" in d:
        fit.append(f"R2: {d['r2']:.{digits}f}")
    if d.get("iterations") is not None:
        fit.append(f"Iterations: {d['iterations']}")
    if fit:
        lines.append("   ".join(fit))
    return "\n".join(lines)


def _format_p(p: float) -> str:
    if not np.isfinite(p):
        return "NA"
    if p < 2.2e-16:
        return "< 2.2e-16"
    return f"{p:.2e}" if p < 1e-4 else f"{p:.4f}"
