from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kaifang.results._columns import Columns, as_frame, column, table_columns

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr


def package_version() -> str:
    """The installed kaifang version (``"0+unknown"`` when running from a bare source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kaifang")
    except PackageNotFoundError:
        return "0+unknown"


def _clean(x: Any) -> Any:
    """Turn numpy scalars and non-finite floats into JSON-friendly values (NaN -> None)."""
    if isinstance(x, Mapping):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return [_clean(v) for v in x.tolist()]
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return x if math.isfinite(x) else None
    return x


#: Extra tables that are also part of the JSON document (under ``"value_chains"``), when a run has
#: them: the value-chain tables of :mod:`kaifang.valuechains.counterfactual`.
DOCUMENT_TABLES: tuple[str, ...] = ("value_chains", "value_chains_sectors", "value_added_origin")
#: Columns that label a row (not outcomes), in the order they identify it.
_LABELS = ("region", "group", "importer", "exporter", "partner", "sector", "flow")


def _records(table: Columns | pd.DataFrame) -> list[dict[str, Any]]:
    return table.records() if isinstance(table, Columns) else table.to_dict(orient="records")


@dataclass(frozen=True)
class RunResult:
    """What one scenario run produced. Immutable; build a new one rather than editing.

    Attributes
    ----------
    model
        Model name, e.g. ``"caliendo_parro"``.
    scenario
        Scenario name.
    regions
        One row per region; first column ``region`` (ISO3 code or ``ROW``), then outcome
        columns in snake_case (percent changes end in ``_pct``).
    tables
        Further tables by name (e.g. ``"sectors"``, ``"bilateral"``), each a tidy DataFrame.
    diagnostics
        Solver diagnostics (``converged``, ``iterations``, ``residual``, ``solve_seconds``...).
    provenance
        Data set and file checksums, scenario hash and text, parameters, package version.
    synthetic
        True when the data set is the synthetic demo world (flagged in every output).
    warnings
        Every warning of the run, each once (a shock that changes nothing, group members
        that are not regions of the data set, ...): sentences naming file and field.

    ``regions`` and the tables may be given as :class:`~kaifang.results.Columns` (named numpy
    columns, as the multi-sector model builds them): they become DataFrames the first time they
    are read, and :meth:`to_document` and the command line's saving read them without pandas.

    Tables whose cells are relative to a baseline trade flow carry a boolean ``no_trade``
    column: true where that flow is zero (no baseline trade, e.g. services in ``cp2015``, or
    zero domestic sales), and then the cells that divide by it are empty (NaN; ``null`` in JSON)
    rather than a number. Columns that a run cannot define at all are listed in
    ``diagnostics["not_applicable"]`` (table -> columns).
    """

    model: str
    scenario: str
    regions: pd.DataFrame
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    synthetic: bool = False
    warnings: tuple[str, ...] = ()

    def __getattribute__(self, name: str) -> Any:
        # tables built as Columns (kaifang.results._columns) become DataFrames when first read
        value = object.__getattribute__(self, name)
        if name == "regions" and isinstance(value, Columns):
            value = value.to_pandas()
            object.__setattr__(self, "regions", value)
        elif name == "tables" and any(isinstance(t, Columns) for t in value.values()):
            value = {k: as_frame(t) for k, t in value.items()}
            object.__setattr__(self, "tables", value)
        return value

    def raw_tables(self) -> dict[str, Columns | pd.DataFrame]:
        """``{"regions": ..., **tables}`` as they are held: DataFrames, or :class:`Columns` not yet
        converted (what printing and saving read, without importing pandas)."""
        return {
            "regions": object.__getattribute__(self, "regions"),
            **object.__getattribute__(self, "tables"),
        }

    def replace(self, **changes: Any) -> RunResult:
        """A copy with ``changes`` (as :func:`dataclasses.replace`), tables left as they are held."""
        current = {f: object.__getattribute__(self, f) for f in self.__dataclass_fields__}
        return RunResult(**{**current, **changes})

    def to_document(self) -> dict[str, Any]:
        """The JSON document printed by ``kaifang run --json``.

        Keys: ``scenario``, ``model``, ``synthetic``, ``warnings`` (list of sentences, empty when
        none), ``regions`` (list of per-region objects), ``diagnostics``, ``provenance``,
        ``no_trade``.
        Non-finite numbers are ``null``; where a table has a ``no_trade`` column its rows say
        ``"no_trade": true`` when their empty cells mean "no baseline trade", and ``no_trade``
        lists, for every table with such rows, their labels (e.g. ``{"region": "ARG", "sector":
        "Retail"}``); and ``value_chains`` (table name -> list of row objects) when the run has
        value-chain tables (:data:`DOCUMENT_TABLES`).
        """
        raw = self.raw_tables()
        regions = [_clean(r) for r in _records(raw["regions"])]
        doc = {
            "scenario": self.scenario,
            "model": self.model,
            "synthetic": self.synthetic,
            "warnings": list(self.warnings),
            "regions": regions,
            "diagnostics": _clean(dict(self.diagnostics)),
            "provenance": _clean(dict(self.provenance)),
        }
        chains = {name: [_clean(r) for r in _records(raw[name])] for name in DOCUMENT_TABLES if name in raw}
        if chains:
            doc["value_chains"] = chains
        no_trade = {}
        for name, table in raw.items():
            names = table_columns(table)
            if "no_trade" not in names:
                continue
            flag = column(table, "no_trade").astype(bool)
            if flag.any():
                keys = [c for c in _LABELS if c in names]
                labels = [column(table, k)[flag].tolist() for k in keys]
                no_trade[name] = [
                    _clean(dict(zip(keys, row, strict=True))) for row in zip(*labels, strict=True)
                ]
        doc["no_trade"] = no_trade
        if self.synthetic:
            doc["note"] = "SYNTHETIC DEMO DATA: illustrative only, not real economies."
        return doc

    def to_json(self, indent: int | None = None) -> str:
        """The :meth:`to_document` as a JSON string."""
        return json.dumps(self.to_document(), indent=indent, allow_nan=False)

    def to_frame(self, table: str = "regions") -> pd.DataFrame:
        """A copy of the per-region table or of the named extra table."""
        if table == "regions":
            return self.regions.copy()
        return self.tables[table].copy()

    def to_xarray(self, tables: Sequence[str] | None = None) -> xr.Dataset:
        """The results as one labelled :class:`xarray.Dataset`.

        Each table's label columns (``region``, ``sector``, ``partner``, ``importer``,
        ``exporter``, ``flow``, ...) become dimensions, its other columns variables: the
        per-region outcomes keep their names (``welfare_pct`` over ``region``), the columns of
        the other tables are prefixed with the table's name (``sectors_gross_output_pct`` over
        ``region`` x ``sector``, ``bilateral_exports_pct`` over ``region`` x ``partner``); each
        variable's attributes name its table and column. Dimensions shared by tables share
        their labels, in order of first appearance; label combinations a table lacks are NaN.

        Parameters
        ----------
        tables
            Table names to include (``"regions"`` and the keys of :attr:`tables`); all by default.

        Returns
        -------
        xarray.Dataset
            Attributes: ``scenario``, ``model``, ``dataset``, ``welfare_measure``, ``synthetic``
            (0/1) and ``kaifang_version``; ``tables_left_out`` names any table whose label
            columns do not identify its rows.

        Raises
        ------
        KeyError
            A name in ``tables`` that is not a table of the run.
        """
        from kaifang.results._labelled import to_xarray

        return to_xarray(self, tables)

    def summary(self) -> str:
        """A few lines for a reader: scenario, model and data, the solver's convergence, the
        largest welfare gain and loss with their regions (with Monte Carlo intervals where the
        run has them), what the welfare column measures, and every warning."""
        from kaifang.results._labelled import summary

        return summary(self)

    def save(self, folder: str | Path) -> Path:
        """Write ``result.json``, ``regions.csv`` and one CSV per extra table into ``folder``.

        Returns the folder. Existing files of the same names are replaced; nothing else is
        touched.
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        (out / "result.json").write_text(self.to_json(indent=2) + "\n")
        self.regions.to_csv(out / "regions.csv", index=False)
        for name, df in self.tables.items():
            df.to_csv(out / f"{name}.csv", index=False)
        return out
