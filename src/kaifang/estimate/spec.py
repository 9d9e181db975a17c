"""Estimation specifications (TOML or the ``[estimation]`` section of a scenario) and their runner.

A specification names the data set and file, the years, the dependent variable, regressors,
fixed effects and clustering. Derived columns are created on request: ``ln_<col>`` (natural
log of a positive column, e.g. ``ln_dist``), ``ln_trade`` for OLS (zero flows drop out),
``intl_border`` (1 for international pairs) and ``intl_border_<year>`` (international border x
year dummies).

Example (``estimations/agtpa-rta-lags.toml``)::

    dataset = "agtpa"
    file = "agtpa_applications.csv.gz"
    years = [1986, 1990, 1994, 1998, 2002, 2006]
    depvar = "trade"
    regressors = ["rta", "rta_lag4", "rta_lag8", "rta_lag12",
                  "intl_border_1986", "intl_border_1990", "intl_border_1994",
                  "intl_border_1998", "intl_border_2002"]
    fixed_effects = ["exporter#year", "importer#year", "pair_id"]
    pair_effect = "pair_id"
    cluster = "pair_id"
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kaifang.errors import DataError, ScenarioError, UserInputError, suggest
from kaifang.estimate._ppml import PPMLEstimate, _fe_column, check_columns, ols, ppml
from kaifang.estimate.panel import validate_panel

__all__ = ["EstimationSpec", "load_spec", "prepare_data", "read_dataset", "run_spec"]

DOMESTIC_PAIR = "domestic"


class EstimationSpec(BaseModel):
    """A gravity estimation, validated at the file boundary. Immutable.

    Attributes
    ----------
    dataset, file
        Registered data set and file (default: the data set's main panel).
    years
        Years to keep (all when empty).
    method
        ``"ppml"`` (default) or ``"ols"`` (on ``ln_trade``; zero flows drop out).
    depvar, regressors, fixed_effects, cluster
        As in :func:`kaifang.estimate.ppml`; interactions are written ``"exporter#year"``.
    pair_effect
        The fixed-effect column that keys pair effects (e.g. ``"pair_id"``); all domestic
        pairs then share one category, ``"domestic"``, the reference of the pair effects.
    international_only
        Drop domestic flows before estimating.
    se_convention
        ``"fixest"`` or ``"stata_ppml"`` (see :mod:`kaifang.estimate._ppml`).
    engine
        ``"kaifang"`` (default, the own PPML engine) or ``"pyfixest"``; OLS always uses pyfixest.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = ""
    dataset: str = ""
    file: str | None = None
    years: list[int] = Field(default_factory=list)
    method: Literal["ppml", "ols"] = "ppml"
    depvar: str = "trade"
    regressors: list[str] = Field(min_length=1)
    fixed_effects: list[str] = Field(default_factory=list)
    cluster: str | None = None
    pair_effect: str | None = None
    international_only: bool = False
    se_convention: Literal["fixest", "stata_ppml"] = "fixest"
    engine: Literal["kaifang", "pyfixest"] = "kaifang"
    tol: float = Field(1e-8, gt=0)
    maxiter: int = Field(100, gt=0)


def read_dataset(dataset: str, file: str | None = None, source: str = "<spec>") -> pd.DataFrame:
    """Read a registered gravity data set into a tidy table (lower-case columns)."""
    if dataset == "agtpa":
        from kaifang.data.agtpa import FILES, read_agtpa

        f = file or "agtpa_applications.csv.gz"
        if f not in FILES:
            raise ScenarioError(
                f"{source}: field 'file' has unknown value {f!r}.{suggest(f, FILES)} Files of agtpa: {', '.join(FILES)}."
            )
        return read_agtpa(f)  # type: ignore[arg-type]
    if dataset == "wiod44":
        from kaifang.data.wiod44 import FILE, read_wiod44

        if file not in (None, FILE):
            raise ScenarioError(f"{source}: field 'file' has unknown value {file!r}; wiod44 has {FILE!r}.")
        return read_wiod44()
    raise ScenarioError(
        f"{source}: field 'dataset' has value {dataset!r}, which has no gravity panel.{suggest(dataset, ['agtpa', 'wiod44'])} "
        f"Gravity data sets: agtpa, wiod44."
    )


def derive_columns(data: pd.DataFrame, names: list[str], source: str = "data") -> pd.DataFrame:
    """Create the derived columns among ``names`` that the data lacks (see module docstring)."""
    out = data
    for name in dict.fromkeys(names):
        if name in out.columns:
            continue
        if out is data:
            out = data.copy()
        intl = (out["exporter"] != out["importer"]).to_numpy()
        if name == "intl_border":
            out[name] = intl.astype(float)
        elif name.startswith("intl_border_") and name[12:].isdigit():
            out[name] = (intl & (out["year"] == int(name[12:])).to_numpy()).astype(float)
        elif name.startswith("ln_") and name[3:] in out.columns:
            v = pd.to_numeric(out[name[3:]], errors="coerce").to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[name] = np.where(v > 0, np.log(np.where(v > 0, v, 1.0)), np.nan)
        else:
            check_columns(out, [name], what="the specification", source=source)
    return out


def prepare_data(data: pd.DataFrame, spec: EstimationSpec, source: str = "<spec>") -> pd.DataFrame:
    """Validate the panel, keep the years, derive columns, set up pair effects; return a new table."""
    validate_panel(data, trade="trade", source=source)
    df = data
    if spec.years:
        have = set(int(y) for y in df["year"].unique())
        missing = [y for y in spec.years if y not in have]
        if missing:
            raise ScenarioError(
                f"{source}: field 'years' lists {missing}, not in the data (years: {sorted(have)})."
            )
        df = df[df["year"].isin(spec.years)]
    if spec.international_only:
        df = df[df["exporter"] != df["importer"]]
    fe_cols = [c for fe in spec.fixed_effects for c in _fe_column(fe)]
    cl_cols = _fe_column(spec.cluster) if spec.cluster else []
    df = derive_columns(df, [spec.depvar, *spec.regressors, *fe_cols, *cl_cols], source)
    if spec.cluster and len(cl_cols) > 1:
        df = df.copy()
        df[spec.cluster] = df[cl_cols].astype(str).agg("#".join, axis=1)
    if spec.pair_effect:
        if spec.pair_effect not in spec.fixed_effects:
            raise ScenarioError(
                f"{source}: field 'pair_effect' is {spec.pair_effect!r} but that is not one of the "
                f"fixed_effects ({', '.join(spec.fixed_effects)})."
            )
        df = df.copy()
        col = df[spec.pair_effect].astype(str)
        df[spec.pair_effect] = col.where(df["exporter"] != df["importer"], DOMESTIC_PAIR)
    return df


def run_spec(spec: EstimationSpec, data: pd.DataFrame | None = None, source: str = "<spec>") -> PPMLEstimate:
    """Read (unless given), prepare and estimate ``spec``."""
    if data is None:
        data = read_dataset(spec.dataset, spec.file, source)
    df = prepare_data(data, spec, source)
    common = {
        "cluster": spec.cluster,
        "se_convention": spec.se_convention,
        "tol": spec.tol,
        "maxiter": spec.maxiter,
        "source": source,
    }
    args = (df, spec.depvar, spec.regressors, spec.fixed_effects)
    if spec.method == "ols":  # least squares always runs on pyfixest
        return ols(*args, **common)
    return ppml(*args, engine=spec.engine, **common)


def load_spec(path: str | Path) -> EstimationSpec:
    """Read and validate an estimation specification (TOML); errors name file and field."""
    p = Path(path)
    if not p.is_file():
        hint = suggest(p.name, [q.name for q in p.parent.glob("*.toml")]) if p.parent.is_dir() else ""
        raise UserInputError(f"estimation file {str(p)!r} does not exist.{hint}")
    try:
        data: dict[str, Any] = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{p}: not valid TOML: {exc}.") from None
    try:
        spec = EstimationSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            if err["type"] == "extra_forbidden":
                lines.append(
                    f"{p}: unknown field {loc!r}.{suggest(str(err['loc'][-1]), EstimationSpec.model_fields)}"
                )
            elif err["type"] == "missing":
                lines.append(f"{p}: field {loc!r} is required but missing.")
            else:
                lines.append(f"{p}: field {loc!r} has value {err.get('input')!r}: {err['msg']}.")
        raise ScenarioError("\n".join(lines)) from None
    if not spec.dataset:
        raise ScenarioError(f"{p}: field 'dataset' is required but missing (e.g. dataset = \"agtpa\").")
    return spec


def pair_costs(estimate: PPMLEstimate, pair_effect: str) -> pd.Series:
    """``ln t_bar`` per pair label: the pair effect minus the domestic pair effect (the reference).

    Raises DataError when the estimate has no domestic pair category.
    """
    fe = estimate.fixed_effects[pair_effect]
    if DOMESTIC_PAIR not in fe.index:
        raise DataError(
            "the pair fixed effects have no domestic category; include domestic flows in the estimation "
            "(international_only = false) so that domestic pairs are the reference."
        )
    return (fe - fe[DOMESTIC_PAIR]).drop(DOMESTIC_PAIR)
