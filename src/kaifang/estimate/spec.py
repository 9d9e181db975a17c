"""Estimation specifications (TOML or the ``[estimation]`` section of a scenario) and their runner.

A specification names the data (a registered data set and file, or a user's own CSV or
Parquet file in a ``[data]`` table), the years, the dependent variable, regressors,
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

A user's own panel (the path is relative to the specification file; the file needs the
columns ``exporter``, ``importer``, ``year`` and ``trade``, or names the file's own columns
for them)::

    depvar = "trade"
    regressors = ["rta"]
    fixed_effects = ["exporter#year", "importer#year", "pair"]
    cluster = "pair"

    [data]
    file = "mypanel.csv"     # or .parquet, .tsv, .csv.gz
    exporter = "iso_o"       # optional: the file's column names (defaults: the standard names)
    importer = "iso_d"
    trade = "flow"
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kaifang.errors import DataError, DataUnavailableError, ScenarioError, UserInputError, suggest
from kaifang.estimate._ppml import PPMLEstimate, _fe_column, check_columns, ols, ppml
from kaifang.estimate.panel import validate_panel

__all__ = [
    "DataSection",
    "EstimationFileSpec",
    "EstimationSpec",
    "load_spec",
    "prepare_data",
    "read_dataset",
    "read_spec_data",
    "run_spec",
]

DOMESTIC_PAIR = "domestic"
#: the columns a gravity panel needs, by their names in kaifang
PANEL_COLUMNS: tuple[str, ...] = ("exporter", "importer", "year", "trade")


class DataSection(BaseModel):
    """A user's own data file (the ``[data]`` table of a specification). Immutable.

    Attributes
    ----------
    file
        CSV, TSV or Parquet file (see :func:`kaifang.data.tables.read_table`); a relative
        path is relative to the specification file (``load_spec`` resolves it).
    exporter, importer, year, trade
        The file's columns holding the exporter, importer, year and trade flow (renamed to
        these names before estimating; defaults: the same names).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(min_length=1)
    exporter: str = "exporter"
    importer: str = "importer"
    year: str = "year"
    trade: str = "trade"


class EstimationSpec(BaseModel):
    """A gravity estimation, validated at the file boundary. Immutable.

    A specification file (:func:`load_spec`) may also name a user's own data file instead of a
    registered data set: :class:`EstimationFileSpec`.

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
        ``"kaifang"`` (default, the own engine, PPML and OLS) or ``"pyfixest"`` (needs
        ``pip install "kaifang[pyfixest]"``).
    threads
        Threads of the own engine; unset: chosen by problem size and machine load.
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
    threads: int | None = Field(None, gt=0)


class EstimationFileSpec(EstimationSpec):
    """An estimation specification file, which may read the user's own data (``[data]``).

    Attributes
    ----------
    data
        A user's own data file instead of a registered data set (:class:`DataSection`).
    """

    data: DataSection | None = None


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
    from kaifang.data.registry import providers

    panels = providers("gravity_panel")
    raise ScenarioError(
        f"{source}: field 'dataset' has value {dataset!r}, which has no gravity panel (a bilateral panel with "
        f"pair variables, the data of an estimation).{suggest(dataset, panels)} Data sets with a gravity "
        f"panel: {', '.join(panels)}."
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


def _derivable(name: str, columns: pd.Index) -> bool:
    """Whether ``derive_columns`` can make ``name`` from ``columns``."""
    if name == "intl_border" or (name.startswith("intl_border_") and name[12:].isdigit()):
        return True
    return name.startswith("ln_") and name[3:] in columns


def check_spec_columns(data: pd.DataFrame, spec: EstimationSpec, source: str = "<spec>") -> None:
    """Every column a field of ``spec`` names is in ``data`` or derivable; regressors are numeric.

    Raises DataError naming the field, the column, the closest columns and the available ones,
    or, for a non-numeric regressor or dependent variable, the first offending value and its row.
    """
    fields: list[tuple[str, list[str]]] = [
        ("depvar", [spec.depvar]),
        ("regressors", list(spec.regressors)),
        ("fixed_effects", [c for fe in spec.fixed_effects for c in _fe_column(fe)]),
        ("cluster", _fe_column(spec.cluster) if spec.cluster else []),
    ]
    cols = [str(c) for c in data.columns]
    for fld, names in fields:
        for name in names:
            if name not in data.columns and not _derivable(name, data.columns):
                raise DataError(
                    f"{source}: field {fld!r} names column {name!r}, which is not in the data.{suggest(name, cols)} "
                    f"Available columns: {', '.join(cols)} (and the derived ln_<column>, intl_border, "
                    "intl_border_<year>)."
                )
    for fld, names in fields[:2]:
        for name in names:
            if name not in data.columns:
                continue
            col = data[name]
            if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
                num = pd.to_numeric(col, errors="coerce")
                bad = col[num.isna() & col.notna()]
                example = f"; e.g. {bad.iloc[0]!r} in row {bad.index[0]!r}" if len(bad) else ""
                kind = "true/false" if pd.api.types.is_bool_dtype(col) else "text"
                if not (
                    pd.api.types.is_bool_dtype(col)
                    or pd.api.types.is_string_dtype(col)
                    or col.dtype == object
                ):
                    kind = str(col.dtype)
                raise DataError(
                    f"{source}: field {fld!r} names column {name!r}, which must be numeric but holds "
                    f"{kind} values{example}. Fix or drop those values, or recode the column as numbers (e.g. 0/1)."
                )


def prepare_data(data: pd.DataFrame, spec: EstimationSpec, source: str = "<spec>") -> pd.DataFrame:
    """Validate the panel, keep the years, derive columns, set up pair effects; return a new table."""
    validate_panel(data, trade="trade", source=source)
    check_spec_columns(data, spec, source)
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


def read_spec_data(
    spec: EstimationSpec | EstimationFileSpec, source: str = "<spec>"
) -> tuple[pd.DataFrame, str]:
    """The table a specification names, with kaifang's column names, and its name for messages.

    A registered data set is read by its reader; a user's file (``spec.data``) by
    :func:`kaifang.data.tables.read_table`, its ``exporter``/``importer``/``year``/``trade``
    columns renamed as the ``[data]`` table says (each must exist: the error names the field,
    the column and the closest columns of the file).
    """
    sec = getattr(spec, "data", None)
    if sec is None:
        return read_dataset(spec.dataset, spec.file, source), source
    from kaifang.data.tables import read_table

    df = read_table(sec.file, source=f"{source}: field 'data.file'")
    where = f"{source} (data file {sec.file})"
    cols = [str(c) for c in df.columns]
    rename: dict[str, str] = {}
    for key in PANEL_COLUMNS:
        col = getattr(sec, key)
        if col not in df.columns:
            how = (
                f"set data.{key} to the file's {key} column"
                if col == key
                else f"field 'data.{key}' has value {col!r}, which is not a column of the file"
            )
            raise DataError(
                f"{where}: the data have no {key} column {col!r}.{suggest(col, cols)} "
                f"Available columns: {', '.join(cols)}. ({how}.)"
            )
        if col != key:
            if key in df.columns:
                raise DataError(
                    f"{where}: field 'data.{key}' renames column {col!r} to {key!r}, but the file already "
                    f"has a column {key!r}; rename one of them in the file or leave data.{key} unset."
                )
            rename[col] = key
    return (df.rename(columns=rename) if rename else df), where


def run_spec(
    spec: EstimationSpec | EstimationFileSpec,
    data: pd.DataFrame | None = None,
    source: str = "<spec>",
    progress: Callable[[str], None] | None = None,
) -> PPMLEstimate:
    """Read (unless given), prepare and estimate ``spec``.

    ``progress`` is called with a short message before each long step (reading, estimating,
    and compiling the engine's kernels on a machine's first run).
    """
    say = progress or (lambda message: None)
    sec = getattr(spec, "data", None)
    if data is None:
        say(f"reading {sec.file if sec is not None else spec.dataset}")
        data, source = read_spec_data(spec, source)
    elif sec is not None:
        raise ScenarioError(
            f"{source}: field 'data' names the data file {sec.file!r}, but the data are given "
            "here already (e.g. by the scenario's data set); remove the 'data' table."
        )
    df = prepare_data(data, spec, source)
    common = {
        "cluster": spec.cluster,
        "se_convention": spec.se_convention,
        "tol": spec.tol,
        "maxiter": spec.maxiter,
        "threads": spec.threads,
        "progress": progress,
        "source": source,
    }
    args = (df, spec.depvar, spec.regressors, spec.fixed_effects)
    say(f"estimating ({spec.method.upper()}, {len(df):,} rows, {spec.engine} engine)")
    if spec.method == "ols":
        return ols(*args, engine=spec.engine, **common)
    return ppml(*args, engine=spec.engine, **common)


def load_spec(path: str | Path) -> EstimationFileSpec:
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
        spec = EstimationFileSpec.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err["loc"])
            if err["type"] == "extra_forbidden":
                known = DataSection.model_fields if err["loc"][0] == "data" else EstimationSpec.model_fields
                lines.append(f"{p}: unknown field {loc!r}.{suggest(str(err['loc'][-1]), known)}")
            elif err["type"] == "missing":
                lines.append(f"{p}: field {loc!r} is required but missing.")
            else:
                lines.append(f"{p}: field {loc!r} has value {err.get('input')!r}: {err['msg']}.")
        raise ScenarioError("\n".join(lines)) from None
    if spec.data is not None:
        if spec.dataset or spec.file:
            raise ScenarioError(
                f"{p}: give either a registered data set (fields 'dataset' and 'file') or a data file "
                f"(the [data] table), not both."
            )
        f = Path(spec.data.file).expanduser()
        resolved = f if f.is_absolute() else (p.parent / f)
        if not resolved.is_file():
            near = ""
            if resolved.parent.is_dir():
                near = suggest(resolved.name, [q.name for q in resolved.parent.iterdir() if q.is_file()])
            raise DataUnavailableError(
                f"{p}: field 'data.file' has value {spec.data.file!r}, but there is no such file "
                f"({str(resolved)!r}; a relative path is read from the folder of {p.name}).{near}"
            )
        return spec.model_copy(update={"data": spec.data.model_copy(update={"file": str(resolved)})})
    if not spec.dataset:
        raise ScenarioError(
            f"{p}: field 'dataset' is required but missing (e.g. dataset = \"agtpa\"), or give your own "
            'data file in a [data] table (file = "mypanel.csv").'
        )
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
