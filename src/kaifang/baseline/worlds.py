"""Calibrated worlds by kind, from any data set that provides the kind.

A data set states the kinds of world it provides (:attr:`kaifang.data.registry.Dataset.provides`);
a model states the kind it needs (e.g. ``caliendo_parro``: ``"multisector"``). This module turns
a data set (and a scenario's ``[baseline]`` choices, as a plain :class:`TableSpec`) into a world
of that kind:

* ``multisector`` from ``cp2015`` and ``demo`` (their raw tables, :func:`~kaifang.baseline.from_raw`)
  or from any world input-output table (``wiod2013``, ``wiod2016``, ``icio``, a user's ``mrio``
  file): read (:func:`kaifang.data.mrio.read_table`) -> validate
  (:class:`~kaifang.baseline.InputOutputTable`) -> aggregate regions and sectors
  (:mod:`~kaifang.baseline.aggregate`) -> trade elasticities (:mod:`~kaifang.baseline.elasticities`)
  and tariffs -> correct and calibrate (:mod:`~kaifang.baseline.fromtable`);
* ``inputoutput``: the validated (optionally aggregated) table itself;
* ``onesector`` (:func:`onesector_world`): one square matrix of flows, exporter by importer,
  domestic sales on the diagonal -- a year of a gravity panel (``agtpa``, ``wiod44``), the 2023
  world of the 2025 tariff model (``liberation2025``: domestic sales built from GDP by that
  model's calibration, :func:`kaifang.baseline.ims2025.one_sector_baseline`), or any
  multi-sector world with its flows summed over sectors (``cp2015``, ``demo`` and every table).

A new data set plugs in by registering itself with the kinds it provides and a reader returning
a :class:`~kaifang.data.mrio.RawMRIO` (for tables) or raw multi-sector tables; a new model by
naming the kind it needs and calling the loader of that kind.
"""

from __future__ import annotations

import copy
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kaifang import _warm
from kaifang.baseline.aggregate import aggregate, concordance
from kaifang.baseline.elasticities import SOURCE as THETA_SOURCE
from kaifang.baseline.elasticities import default_theta
from kaifang.baseline.fromtable import from_table
from kaifang.baseline.ims2025 import USTR_FLOOR
from kaifang.baseline.inputoutput import InputOutputTable
from kaifang.baseline.multisector import MultiSectorBaseline, from_raw
from kaifang.data.registry import providers
from kaifang.data.store import file_signature
from kaifang.errors import BaselineError, DataError, ScenarioError, suggest

if TYPE_CHECKING:
    from kaifang.baseline.onesector import GravityBaseline  # imported where used: it needs pandas

__all__ = [
    "NO_TARIFFS",
    "PANEL_DATASETS",
    "USTR_FLOOR",
    "Resolver",
    "TableSpec",
    "collapse_sectors",
    "input_output_table",
    "multisector_world",
    "onesector_world",
    "tariff_array",
]

#: What every output of a world built from a table without a tariff table says about tariffs.
NO_TARIFFS = (
    "zero: the input-output table records no tariffs, so the baseline has none (give [baseline] tariff_file = "
    "FILE with columns importer, exporter, sector, rate in percent to add them); shocks that cut tariffs "
    "cannot go below zero, use trade-cost (iceberg, ntb) shocks instead"
)

#: ``(selector, labels, what, field) -> chosen labels``: resolves a ``[baseline.regions]`` or
#: ``[baseline.sectors]`` entry (a label, a group, a list) against the table's labels. The
#: scenario layer supplies one that knows country groups; without it entries are plain labels.
Resolver = Callable[[Any, Sequence[str], str, str], list[str]]

#: Region codes of some tables that differ from ISO 3166 (renamed when the world is built).
_ISO_RENAMES: dict[str, dict[str, str]] = {"wiod2013": {"ROM": "ROU"}}


@dataclass(frozen=True)
class TableSpec:
    """How to build a world from a table data set (the scenario's ``[baseline]`` and theta).

    Attributes
    ----------
    dataset
        A data set that provides the kind (``wiod2013``, ``wiod2016``, ``icio``, ``mrio``).
    year, file
        Which table: a year of the data set, or a file (required for ``mrio``).
    tariff_file
        A tariff table file (importer, exporter, sector, rate in percent); none when ``None``.
    final_demand
        The final-demand categories of a ``mrio`` file (inferred when ``None``).
    regions, sectors
        Aggregation: new label -> selector (labels or groups); unlisted go to ``rest_region`` /
        ``rest_sector``.
    theta
        theta overrides by sector label (after or before aggregation).
    theta_default
        theta of sectors that have no default (a user's own classification).
    source
        The scenario file (for messages).
    """

    dataset: str
    year: int | None = None
    file: Path | None = None
    tariff_file: Path | None = None
    final_demand: tuple[str, ...] | None = None
    regions: Mapping[str, Any] | None = None
    sectors: Mapping[str, Any] | None = None
    rest_region: str = "ROW"
    rest_sector: str = "other"
    theta: Mapping[str, float] = field(default_factory=dict)
    theta_default: float | None = None
    source: str = "<scenario>"


def _plain(selector: Any, labels: Sequence[str], what: str, fld: str) -> list[str]:
    items = [selector] if isinstance(selector, str) else list(selector)
    return [str(s) for s in items]


def input_output_table(spec: TableSpec, *, resolve: Resolver | None = None) -> InputOutputTable:
    """The validated table of ``spec`` (read, labels made ISO3, aggregated as asked).

    Raises
    ------
    DataError
        Reading or validation failed (the message names the file and the cell), or an aggregation
        names an unknown label (with the closest) or puts one label into two aggregates.
    """
    table, _ = _table_and_aggregation(spec, resolve)
    return table


def _table_and_aggregation(
    spec: TableSpec, resolve: Resolver | None
) -> tuple[InputOutputTable, dict[str, Any]]:
    from kaifang.data.mrio import read_table

    if spec.dataset == "mrio" and spec.file is not None and spec.final_demand is not None:
        from kaifang.data.usertable import read_long_table

        raw = read_long_table(spec.file, year=spec.year, final_demand=list(spec.final_demand))
    else:
        raw = read_table(spec.dataset, year=spec.year, path=spec.file, source=spec.source)
    where = str(spec.file) if spec.file is not None else f"data set {spec.dataset!r}"
    try:
        table = InputOutputTable.from_raw(raw)
    except BaselineError as exc:
        raise BaselineError(f"{where}: {exc}") from None
    info: dict[str, Any] = {}
    renames = {a: b for a, b in _ISO_RENAMES.get(spec.dataset, {}).items() if a in table.regions}
    if renames:
        table = table.replace(
            regions=tuple(renames.get(r, r) for r in table.regions),
            notes=(
                *table.notes,
                "region codes made ISO 3166: " + ", ".join(f"{a} -> {b}" for a, b in renames.items()),
            ),
        )
        info["renamed_regions"] = renames
    res = resolve or _plain
    reg_groups = sec_groups = None
    if spec.regions:
        reg_groups = {
            str(k): res(v, table.regions, "region", f"baseline.regions.{k}") for k, v in spec.regions.items()
        }
    if spec.sectors:
        sec_groups = {
            str(k): res(v, table.sectors, "sector", f"baseline.sectors.{k}") for k, v in spec.sectors.items()
        }
    if reg_groups or sec_groups:
        rc = concordance(table.regions, reg_groups, rest=spec.rest_region, source=spec.source)
        sc = concordance(
            table.sectors,
            sec_groups,
            rest=spec.rest_sector,
            what="sector",
            source=spec.source,
            field="baseline.sectors",
        )
        info["before"] = table
        info["regions"] = rc
        info["sectors"] = sc
        table = aggregate(table, regions=rc, sectors=sc, source=spec.source)
    return table, info


def _international_sales(table: InputOutputTable) -> np.ndarray:
    """World international sales of each sector (intermediate plus final), ``(N,)``."""
    g, n = table.n_regions, table.n_sectors
    sales = table.Z.reshape(g, n, g, n).sum(axis=3) + table.final_by_region.reshape(g, n, g)  # (i, j, n)
    dom = sales[np.arange(g), :, np.arange(g)]  # (i, j)
    return np.maximum(sales.sum(axis=2) - dom, 0.0).sum(axis=0)


def _theta(
    spec: TableSpec, table: InputOutputTable, info: dict[str, Any]
) -> tuple[np.ndarray, dict[str, Any]]:
    """theta of the world's sectors: defaults, averaged over merged sectors, overridden."""
    before: InputOutputTable = info.get("before", table)
    old = list(before.sectors)
    new = list(table.sectors)
    overrides = {str(k): float(v) for k, v in spec.theta.items()}
    unknown = [k for k in overrides if k not in new and k not in old]
    if unknown:
        raise ScenarioError(
            f"{spec.source}: field 'parameters.theta.{unknown[0]}': unknown sector {unknown[0]!r}."
            f"{suggest(unknown[0], new + old)} Sectors: {', '.join(new)}."
        )
    bad = {k: v for k, v in overrides.items() if not v > 0 or not np.isfinite(v)}
    if bad:
        k = next(iter(bad))
        raise ScenarioError(
            f"{spec.source}: field 'parameters.theta.{k}' has value {bad[k]}; theta must be positive."
        )
    found = default_theta(old, spec.dataset if spec.dataset != "mrio" else None)
    base = dict(zip(old, found[0].tolist(), strict=True)) if found else {}
    origin: dict[str, str] = dict(found[1]) if found else {}
    for s in old:
        if s in overrides:
            base[s], origin[s] = overrides[s], "[parameters] theta"
        elif s not in base and spec.theta_default is not None:
            base[s], origin[s] = float(spec.theta_default), "[parameters] theta_default"
    weights = dict(zip(old, _international_sales(before).tolist(), strict=True))
    sc = info.get("sectors")
    members = dict(zip(sc.labels, sc.members, strict=True)) if sc is not None else {s: (s,) for s in new}
    theta = np.empty(len(new))
    record: dict[str, Any] = {}
    missing = []
    for q, s in enumerate(new):
        if s in overrides:
            theta[q] = overrides[s]
            record[s] = {"theta": overrides[s], "from": "[parameters] theta"}
            continue
        mem = members[s]
        lacking = [m for m in mem if m not in base]
        if lacking:
            missing.extend(lacking)
            continue
        w = np.array([weights[m] for m in mem])
        th = np.array([base[m] for m in mem])
        theta[q] = float((w * th).sum() / w.sum()) if w.sum() > 0 else float(th.mean())
        if len(mem) == 1:
            record[s] = {"theta": theta[q], "from": origin.get(mem[0], "")}
        else:
            record[s] = {
                "theta": theta[q],
                "from": "mean of "
                + ", ".join(f"{m} ({base[m]:g})" for m in mem)
                + " weighted by world trade",
            }
    if missing:
        raise ScenarioError(
            f"{spec.source}: no default trade elasticity for the sectors {', '.join(dict.fromkeys(missing))} "
            f"(defaults exist for the WIOD 2013, WIOD 2016 and ICIO 2023 industries); set "
            f"[parameters] theta for each of them (e.g. theta = {{ {missing[0]} = 5.0 }}) or "
            f"[parameters] theta_default."
        )
    return theta, {"source": THETA_SOURCE, "by_sector": record, "overrides": overrides}


def tariff_array(
    path: Path, regions: Sequence[str], sectors: Sequence[str], *, renames: Mapping[str, str] | None = None
) -> np.ndarray:
    """A tariff table aligned with a world: fractions, ``(importer, exporter, sector)``.

    Raises
    ------
    DataError
        A label the world does not have (naming the file, row, field and the closest label), or a
        tariff on a domestic pair.
    """
    from kaifang.data.usertable import read_tariff_table

    df = read_tariff_table(path)
    ren = dict(renames or {})
    ri = {r: k for k, r in enumerate(regions)}
    si = {s: k for k, s in enumerate(sectors)}
    idx = []
    for fld, lookup, labels in (
        ("importer", ri, regions),
        ("exporter", ri, regions),
        ("sector", si, sectors),
    ):
        col = df[fld].map(lambda v: ren.get(v, v))
        pos = col.map(lookup)
        if pos.isna().any():
            k = int(np.flatnonzero(pos.isna().to_numpy())[0])
            val = df[fld].iloc[k]
            raise DataError(
                f"{path}: field {fld!r} has value {val!r} at {df['line'].iloc[k]}, which the table does not have."
                f"{suggest(str(val), labels)} The table's {'sectors' if fld == 'sector' else 'regions'}: "
                f"{', '.join(labels)}."
            )
        idx.append(pos.to_numpy(dtype=int))
    imp, exp, sec = idx
    dom = imp == exp
    if dom.any():
        k = int(np.flatnonzero(dom)[0])
        raise DataError(
            f"{path}: {df['line'].iloc[k]} gives a tariff of {df['importer'].iloc[k]} on itself; domestic sales "
            f"carry no tariff."
        )
    tau = np.zeros((len(regions), len(regions), len(sectors)))
    tau[imp, exp, sec] = df["rate"].to_numpy(dtype=float) / 100.0
    return tau


def _aggregate_tariffs(tau: np.ndarray, before: InputOutputTable, info: dict[str, Any]) -> np.ndarray:
    """Tariffs of merged regions and sectors: the means over member cells weighted by their flows."""
    rc, sc = info["regions"], info["sectors"]
    g, n = before.n_regions, before.n_sectors
    sales = before.Z.reshape(g, n, g, n).sum(axis=3) + before.final_by_region.reshape(g, n, g)  # (i, j, n)
    x = np.maximum(sales.transpose(2, 0, 1), 0.0)  # (n, i, j)
    R, S = rc.matrix(g), sc.matrix(n)

    def agg(a: np.ndarray) -> np.ndarray:
        return np.einsum("An,Bi,Cj,nij->ABC", R, R, S, a)

    off = ~np.eye(g, dtype=bool)[:, :, None]
    num = agg(tau * x * off)
    den = agg(x * off)
    plain = agg(tau * off) / np.maximum(agg(np.broadcast_to(off, tau.shape).astype(float)), 1.0)
    out = np.where(den > 0, num / np.where(den > 0, den, 1.0), plain)
    out[np.arange(len(rc.labels)), np.arange(len(rc.labels))] = 0.0
    return out


def multisector_world(
    spec: TableSpec, *, resolve: Resolver | None = None
) -> tuple[MultiSectorBaseline, dict[str, Callable[[], np.ndarray]]]:
    """The multi-sector world of ``spec`` and the tariff tables it offers to shocks.

    ``cp2015`` and ``demo`` are built from their raw tables (``[baseline]`` table options do not
    apply to them; ``theta`` overrides do); every table data set goes through the steps of the
    module docstring, with the table's corrections, aggregation, trade elasticities and tariffs
    recorded in the world's ``provenance``.
    """
    build = _raw_world if spec.dataset in ("cp2015", "demo") else _table_world
    key = _world_key(spec)
    if key is None and build is _table_world and (spec.regions or spec.sectors):
        key = _aggregated_key(spec, resolve)
    if key is None:
        return build(spec, resolve)
    hit = _WORLDS.get(key)
    if hit is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            world, tables = build(spec, resolve)
        hit = (world, tables, tuple(caught))
        _WORLDS[key] = hit
        while len(_WORLDS) > WORLD_CACHE_SIZE:
            _WORLDS.popitem(last=False)
    else:
        _WORLDS.move_to_end(key)
    world, tables, caught = hit
    for w in caught:  # what building it said, said again to every caller
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return copy.deepcopy(world), dict(tables)


#: How many worlds one process keeps (:func:`multisector_world`): the points
#: of a sweep, and the validation and the solve of one run, build their world once.
WORLD_CACHE_SIZE = 2
_WORLDS: OrderedDict[tuple[object, ...], tuple[MultiSectorBaseline, dict[str, Any], tuple[Any, ...]]] = (
    _warm.register("worlds", OrderedDict(), WORLD_CACHE_SIZE, __name__)
)


#: The regions (ISO codes) and sectors of the tables :func:`_aggregated_key` has read, by the key
#: of their unmerged world (which names the files with their sizes and modification times).
_LABELS: dict[tuple[object, ...], tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _world_key(spec: TableSpec) -> tuple[object, ...] | None:
    """Everything a world is built from, or ``None`` when it is not kept this way: a world that
    merges regions or sectors (its groups come from the scenario: :func:`_aggregated_key`) or
    names a file that is not there (its reader says so). Files are known by path, size and
    modification time, the data sets' own files by the folders they are found in."""
    if spec.regions or spec.sectors:
        return None
    files: list[object] = []
    for f in (spec.file, spec.tariff_file):
        if f is None:
            files.append(None)
            continue
        p = Path(f)
        if not p.is_file():
            return None
        files.append((str(f), *file_signature(p)))
    theta = tuple(sorted((str(k), repr(v)) for k, v in (spec.theta or {}).items()))
    where = tuple(os.environ.get(v) for v in ("KAIFANG_DATA_MIRROR", "KAIFANG_DATA_DIR"))
    fd = None if spec.final_demand is None else tuple(spec.final_demand)
    return (spec.dataset, spec.year, *files, fd, theta, spec.theta_default, where)


def _aggregated_key(spec: TableSpec, resolve: Resolver | None) -> tuple[object, ...] | None:
    """The cache key of a world that merges regions or sectors: the key of its table's world
    and the groups as resolved on the table's labels (the scenario's own groups resolved
    through ``resolve``, so two scenarios that name the same members share a world). ``None``
    for a table that is not read through the per-process table cache (a long-format file with
    final-demand categories given), whose labels are not at hand without reading it."""
    base = _world_key(replace(spec, regions=None, sectors=None))
    if base is None or (spec.dataset == "mrio" and spec.file is not None and spec.final_demand is not None):
        return None
    labels = _LABELS.get(base)
    if labels is None:  # read the table once for its labels (not again for every run's key)
        from kaifang.data.mrio import read_table

        raw = read_table(spec.dataset, year=spec.year, path=spec.file, source=spec.source)
        renames = _ISO_RENAMES.get(spec.dataset, {})
        labels = (tuple(renames.get(r, r) for r in raw.regions), tuple(raw.sectors))
        _LABELS[base] = labels
        while len(_LABELS) > 2 * WORLD_CACHE_SIZE:
            del _LABELS[next(iter(_LABELS))]
    regions, sectors = labels
    res = resolve or _plain

    def resolved(
        groups: Mapping[str, Any] | None, labels: Sequence[str], what: str
    ) -> tuple[object, ...] | None:
        if not groups:
            return None
        return tuple(
            (str(k), tuple(res(v, labels, what, f"baseline.{what}s.{k}"))) for k, v in groups.items()
        )

    return (
        *base,
        "merged",
        resolved(spec.regions, regions, "region"),
        spec.rest_region,
        resolved(spec.sectors, sectors, "sector"),
        spec.rest_sector,
    )


def _table_world(
    spec: TableSpec, resolve: Resolver | None
) -> tuple[MultiSectorBaseline, dict[str, Callable[[], np.ndarray]]]:
    ds = spec.dataset
    table, info = _table_and_aggregation(spec, resolve)
    before = info.get("before", table)
    renames = info.get("renamed_regions")
    theta, theta_rec = _theta(spec, table, info)
    tariff = None
    tariff_rec: Any = NO_TARIFFS
    if spec.tariff_file is not None:
        from kaifang.data.store import sha256

        tau = tariff_array(spec.tariff_file, before.regions, before.sectors, renames=renames)
        if "regions" in info:
            tau = _aggregate_tariffs(tau, before, info)
        tariff = tau
        tariff_rec = {
            "file": str(spec.tariff_file),
            "sha256": sha256(Path(spec.tariff_file)),
            "cells": int((tau != 0).sum()),
            "aggregation": "flow-weighted means over merged pairs" if "regions" in info else None,
        }
    prov: dict[str, Any] = {
        "table": {
            "dataset": ds,
            "year": table.year,
            "units": table.units,
            "regions": len(table.regions),
            "sectors": len(table.sectors),
            "notes": list(table.notes),
        },
        "theta": theta_rec,
        "tariffs": tariff_rec,
    }
    if renames:
        prov["renamed_regions"] = renames
    if "regions" in info:
        prov["aggregation"] = {
            "regions": info["regions"].as_dict(),
            "sectors": info["sectors"].as_dict(),
            "method": "flows summed, shares recomputed (kaifang.baseline.aggregate)",
        }
    try:
        world, _ = from_table(table, theta, tariff=tariff, provenance=prov)
    except BaselineError as exc:
        where = str(spec.file) if spec.file is not None else f"data set {ds!r}"
        raise BaselineError(f"{where}: {exc}") from None
    return world, {}


def _raw_world(
    spec: TableSpec, resolve: Resolver | None = None
) -> tuple[MultiSectorBaseline, dict[str, Callable[[], np.ndarray]]]:
    src = spec.source
    for name in ("year", "file", "tariff_file", "regions", "sectors"):
        if getattr(spec, name):
            raise ScenarioError(
                f"{src}: field 'baseline.{name}' applies to input-output tables (wiod2013, wiod2016, icio, mrio); "
                f"data set {spec.dataset!r} is built from its own files. Remove the field."
            )
    tables: dict[str, Callable[[], np.ndarray]] = {}
    if spec.dataset == "cp2015":
        from kaifang.data.cp2015 import read_cp2015, read_tariffs

        tables = {name: (lambda name=name: read_tariffs(name)) for name in ("tariffs1993", "tariffs2005")}
        world = from_raw(read_cp2015())
    else:
        from kaifang.data.demo import generate

        world = from_raw(generate())
    if spec.theta:
        unknown = [k for k in spec.theta if k not in world.sectors]
        if unknown:
            raise ScenarioError(
                f"{src}: field 'parameters.theta.{unknown[0]}': unknown sector {unknown[0]!r}."
                f"{suggest(unknown[0], world.sectors)} Sectors: {', '.join(world.sectors)}."
            )
        th = np.array(world.theta, dtype=float)
        for k, v in spec.theta.items():
            if not float(v) > 0:
                raise ScenarioError(
                    f"{src}: field 'parameters.theta.{k}' has value {v}; theta must be positive."
                )
            th[world.sectors.index(k)] = float(v)
        world = world.replace(theta=th)
    prov = {
        "theta": {
            "source": "the data set's own elasticities"
            + (" (Caliendo and Parro 2015, Table 1; 8.22 for services)" if spec.dataset == "cp2015" else ""),
            "overrides": {str(k): float(v) for k, v in spec.theta.items()},
        },
        "tariffs": "the data set's 1993 applied tariffs"
        if spec.dataset == "cp2015"
        else "the data set's tariffs",
    }
    return world.replace(provenance=prov), tables


# ------------------------------------------------------------------------------------------
# One-sector worlds

#: Data sets whose one-sector world is a year of a bilateral panel (kind ``gravity_panel``).
PANEL_DATASETS: tuple[str, ...] = providers("gravity_panel")
#: Lowest rate of the announced 2025 US tariffs (USTR; Ignatenko et al. 2025, Table 1: "at least
#: 10 %"), applied to the ``ustr2025`` table a one-sector ``liberation2025`` world offers.
#: The year of the data sets that hold one year only.
_ONE_YEAR = {"cp2015": 1993, "liberation2025": 2023}


def collapse_sectors(world: MultiSectorBaseline) -> np.ndarray:
    """The one-sector flows of a multi-sector world: ``X[i, n] = sum_j x_{nij}``, ``(N, N)``
    exporter by importer, at producer prices (net of tariffs), domestic sales on the diagonal."""
    return np.asarray(world.flows, dtype=float).sum(axis=2).T.copy()


def onesector_world(
    spec: TableSpec, *, resolve: Resolver | None = None
) -> tuple[GravityBaseline, dict[str, Callable[[], np.ndarray]]]:
    """The one-sector world of ``spec`` and the tariff tables it offers to shocks.

    * ``agtpa``, ``wiod44``: the panel's flows of ``spec.year`` (required), domestic flows
      included; ``spec.file`` names a registered file of the panel; the world keeps the panel
      (``data``) for shocks and estimations that read its pair variables.
    * ``liberation2025``: the calibrated 2023 world of Ignatenko, Lashkaripour, Macedoni and
      Simonovska (2025), 194 economies; international flows are the data (BACI goods trade,
      thousands of USD), domestic sales come from that model's calibration on GDP (local-input
      share, transfers, ``X_ii = max(E_i - imports_i, 0)``; ``docs/ims2025.md``), so two
      economies whose imports exceed their calibrated spending (GMB, MHL) have none. Offers
      the table ``ustr2025``: the announced US tariffs with the 10 % floor (:data:`USTR_FLOOR`).
    * ``cp2015``, ``demo`` and the tables ``wiod2013``, ``wiod2016``, ``icio``, ``mrio``: the
      multi-sector world's flows summed over sectors (:func:`collapse_sectors`: intermediate
      plus final sales, services included, after the table's corrections, at producer prices),
      the same flows the Caliendo-Parro model starts from. Tariffs of ``cp2015`` are not carried
      over: the one-sector world has none.

    The world's ``notes`` say where its flows come from; ``files`` lists the files read.

    Raises
    ------
    ScenarioError
        A year the data set does not have, a missing year of a panel, a field that does not apply.
    DataError, BaselineError
        The data cannot be read or is not a valid world (missing domestic flows of a panel, ...).
    """
    from kaifang.baseline.onesector import GravityBaseline

    ds = spec.dataset
    src = spec.source
    if ds in PANEL_DATASETS:
        return _panel_world(spec), {}
    if spec.year is not None and ds in _ONE_YEAR and spec.year != _ONE_YEAR[ds]:
        raise ScenarioError(
            f"{src}: field 'baseline.year' has value {spec.year}, but data set {ds!r} holds {_ONE_YEAR[ds]} "
            f"only; set year = {_ONE_YEAR[ds]} or remove the field."
        )
    if ds == "liberation2025":
        return _liberation_world(spec)
    if ds in ("cp2015", "demo"):
        if ds == "demo" and spec.year is not None:
            raise ScenarioError(
                f"{src}: field 'baseline.year' has value {spec.year}, but the synthetic demo world has no year; "
                f"remove the field."
            )
        # the year is checked above; any other [baseline] field of a table is refused there
        world, _ = _raw_world(replace(spec, year=None))
        notes = {
            "world": "onesector",
            "flows": f"the {ds} multi-sector world's flows summed over its {len(world.sectors)} sectors, at "
            "producer prices (net of tariffs), domestic sales included"
            + ("; its 1993 tariffs are not carried over" if ds == "cp2015" else ""),
        }
        year = _ONE_YEAR.get(ds)
        bl = GravityBaseline(
            regions=world.regions,
            year=year,
            X=collapse_sectors(world),
            notes=notes,
            dataset=ds,
            files=dict(world.files),
            units=world.units or ("synthetic units" if ds == "demo" else "US dollars (1993)"),
        )
        return bl, {}
    # a world input-output table: corrected and calibrated as for the multi-sector model; the
    # trade elasticities do not enter the flows, so a placeholder theta = 1 is used
    table, info = _table_and_aggregation(spec, resolve)
    try:
        world, corrections = from_table(table, np.ones(table.n_sectors))
    except BaselineError as exc:
        where = str(spec.file) if spec.file is not None else f"data set {ds!r}"
        raise BaselineError(f"{where}: {exc}") from None
    notes = {
        "world": "onesector",
        "flows": f"the {ds} table of {table.year} summed over its {table.n_sectors} sectors: sales of each "
        "region to each region, intermediate plus final, at basic prices, domestic sales included, after "
        "the table's corrections (docs/datasets.md)",
        "corrections": corrections.as_dict(),
    }
    if info.get("renamed_regions"):
        notes["renamed_regions"] = dict(info["renamed_regions"])
    if "regions" in info:
        notes["aggregation"] = {"regions": info["regions"].as_dict()}
    bl = GravityBaseline(
        regions=world.regions,
        year=table.year,
        X=collapse_sectors(world),
        notes=notes,
        dataset=ds,
        files=dict(world.files),
        units=table.units,
    )
    return bl, {}


def _liberation_world(spec: TableSpec) -> tuple[GravityBaseline, dict[str, Callable[[], np.ndarray]]]:
    from kaifang.baseline.ims2025 import calibrate, ustr_tariffs
    from kaifang.baseline.onesector import GravityBaseline
    from kaifang.data.liberation2025 import load

    for name in ("file", "tariff_file", "regions", "sectors"):
        if getattr(spec, name):
            raise ScenarioError(
                f"{spec.source}: field 'baseline.{name}' does not apply to data set 'liberation2025', whose "
                f"one-sector world is built from its own files. Remove the field."
            )
    data = load()
    cal = calibrate(data.trade, data.gdp, data.regions)
    X = cal.X  # (exporter, importer), domestic sales on the diagonal
    regions = tuple(str(r) for r in data.regions)
    dom = np.diagonal(X)
    none = [regions[k] for k in np.flatnonzero(dom <= 0)]
    notes = {
        "world": "onesector",
        "flows": "2023 goods trade among 194 economies (BACI, the data's international flows); domestic "
        "sales from the calibration of the 2025 tariff model (Ignatenko et al. 2025): local-input share "
        "nu on a US/non-US aggregate, transfers, X_ii = max(E_i - imports_i, 0) (docs/ims2025.md)",
        "no_domestic_sales": none,
    }
    us = regions.index("USA")
    notes["nu"] = {"USA": float(cal.nu[us]), "others": float(cal.nu[1 if us == 0 else 0])}
    announced = np.asarray(data.tariffs, dtype=float)

    def ustr() -> np.ndarray:  # (importer, exporter, sector): the US tariffs on its imports
        return ustr_tariffs(announced, us).T[:, :, None]

    bl = GravityBaseline(
        regions=regions,
        year=2023,
        X=X,
        notes=notes,
        dataset="liberation2025",
        files=dict(data.files),
        units="thousands of USD (2023)",
    )
    return bl, {"ustr2025": ustr}


def _panel_world(spec: TableSpec) -> GravityBaseline:
    from kaifang.baseline.onesector import GravityBaseline, square_matrix
    from kaifang.estimate.panel import validate_panel
    from kaifang.estimate.spec import read_dataset

    ds, src = spec.dataset, spec.source
    file = None if spec.file is None else str(spec.file)
    data = read_dataset(ds, file, src)
    validate_panel(data, source=f"{src} (data set {ds})")
    years = sorted(int(y) for y in data["year"].unique())
    if spec.year is None:
        raise ScenarioError(
            f"{src}: field 'baseline.year' is required but missing: data set {ds!r} is a panel; give the "
            f"baseline year (years: {years})."
        )
    if spec.year not in years:
        raise ScenarioError(
            f"{src}: field 'baseline.year' has value {spec.year}, not in the data (years: {years})."
        )
    year_panel = data[data["year"] == spec.year]
    regions = tuple(sorted(set(year_panel["exporter"]) | set(year_panel["importer"])))
    X = square_matrix(year_panel, "trade", regions, what=f"{src} (baseline year {spec.year})")
    from kaifang.data.registry import get_dataset

    entry = get_dataset(ds)
    used = {file} if file else {f.name for f in entry.files}
    if ds == "agtpa" and not file:
        used = {"agtpa_applications.csv.gz"}
    return GravityBaseline(
        regions=regions,
        year=spec.year,
        X=X,
        data=data,
        notes={
            "world": "onesector",
            "flows": f"the {ds} panel's trade of {spec.year}, domestic flows included",
        },
        dataset=ds,
        files={f.name: f.sha256 for f in entry.files if f.name in used},
        units="millions of USD" if ds == "agtpa" else "",
    )
