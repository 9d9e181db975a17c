"""What the scenario builder shows: data sets and their labels, models, groups, shock types, examples."""

from __future__ import annotations

import functools
import importlib
import logging
import os
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kaifang.data import DATASETS, status
from kaifang.models import RUNNERS
from kaifang.results import RunResult
from kaifang.scenario import BUILTIN_GROUPS
from kaifang.scenario.groups import sector_groups
from kaifang.scenario.shocks import Shock
from kaifang.web._schemas import DatasetOut, MetaOut, ModelOut, ShockFieldOut, ShockTypeOut

__all__ = ["dataset_labels", "examples", "meta", "write_report"]

log = logging.getLogger(__name__)

_MAX_EXAMPLE_BYTES = 100_000


@functools.cache
def _available(name: str) -> bool:
    ds = DATASETS[name]
    if ds.synthetic:
        return True
    return all(s.ok for s in status(name))


@functools.cache
def dataset_labels(name: str) -> dict[str, list[str]]:
    """Region and sector labels (and tariff tables) of a data set, from its reader module.

    The reader ``kaifang.data.<name>`` names its labels in ``REGIONS`` and ``SECTORS`` (constants,
    no file is read); tariff tables for ``from_table`` come from ``TARIFF_TABLES`` when it exists,
    else from the data set's files called ``tariffs*``. Without a reader the builder takes free
    text and the run checks the labels.
    """
    try:
        mod = importlib.import_module(f"kaifang.data.{name}")
    except ImportError:
        return {}
    out: dict[str, list[str]] = {}
    for key, attr in (("regions", "REGIONS"), ("sectors", "SECTORS")):
        val = getattr(mod, attr, None)
        if isinstance(val, (tuple, list)):
            out[key] = [str(x) for x in val]
    tables = getattr(mod, "TARIFF_TABLES", None)
    if tables is None:
        tables = [Path(f.name).stem for f in DATASETS[name].files if f.name.startswith("tariffs")]
    out["tables"] = [str(t) for t in tables]
    out["sector_groups"] = list(sector_groups(name, out.get("sectors", [])))
    return out


def meta() -> Any:
    """The builder's metadata (see :class:`kaifang.web._schemas.MetaOut`)."""
    datasets = []
    for ds in DATASETS.values():
        labels = dataset_labels(ds.name)
        datasets.append(
            DatasetOut(
                name=ds.name,
                title=ds.title,
                synthetic=ds.synthetic,
                available=_available(ds.name),
                size_mb=round(ds.size / 1e6, 2),
                regions=labels.get("regions", []),
                sectors=labels.get("sectors", []),
                tables=labels.get("tables", []),
                sector_groups=labels.get("sector_groups", []),
            )
        )
    groups = _groups()
    shock_types = shock_type_specs()
    return MetaOut(
        datasets=datasets,
        models=[ModelOut(name=m) for m in RUNNERS],
        groups=groups,
        shock_types=shock_types,
    )


def _groups() -> dict[str, list[str]]:
    """Built-in country groups of the scenario language, with their current members."""
    return {str(k): [str(x) for x in v] for k, v in BUILTIN_GROUPS.items()}


def _kind(prop: dict[str, Any]) -> tuple[str, list[str]]:
    """Form input kind of a JSON-Schema property of a shock table."""
    alts = prop.get("anyOf", [prop])
    types = {a.get("type") for a in alts if "type" in a}
    enums = [str(e) for a in alts for e in a.get("enum", [])]
    if enums:
        return "enum", enums
    if "array" in types:
        return "selector", []
    if types <= {"boolean", "null"} and "boolean" in types:
        return "bool", []
    if "integer" in types and "string" in types:
        return "integer_or_name", []
    if types & {"number", "integer"}:
        return "number", []
    return "string", []


@functools.cache
def shock_type_specs() -> list[ShockTypeOut]:
    """Every shock type of :mod:`kaifang.scenario.shocks`, with the fields of its table."""
    out = []
    for cls in typing.get_args(typing.get_args(Shock)[0]):
        schema = cls.model_json_schema()
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        name = props["type"].get("const") or props["type"].get("enum", [cls.__name__])[0]
        fields = []
        for fname, prop in props.items():
            if fname == "type":
                continue
            kind, options = _kind(prop)
            fields.append(
                ShockFieldOut(
                    name=fname,
                    kind=kind,  # type: ignore[arg-type]
                    options=options,
                    default=prop.get("default"),
                    required=fname in required,
                    description=str(prop.get("description", "")),
                )
            )
        out.append(
            ShockTypeOut(
                type=str(name), description=(cls.__doc__ or "").strip(), fields=fields, json_schema=schema
            )
        )
    return out


def _examples_dir() -> Path | None:
    env = os.environ.get("KAIFANG_SCENARIOS")
    candidates = [Path(env)] if env else []
    candidates += [Path.cwd() / "scenarios", Path(__file__).resolve().parents[3] / "scenarios"]
    for c in candidates:
        if c.is_dir():
            return c
    return None


def examples() -> dict[str, str]:
    """Example scenario files from the scenario library (``KAIFANG_SCENARIOS`` or ``./scenarios``).

    Only files the server lists itself are read; the browser never names a path.
    """
    folder = _examples_dir()
    if folder is None:
        return {}
    out = {}
    for p in sorted(folder.glob("*.toml")):
        if p.is_file() and p.stat().st_size <= _MAX_EXAMPLE_BYTES:
            try:
                out[p.stem] = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return out


def write_report(runs: Sequence[tuple[str, RunResult]], path: Path) -> Path:
    """Write the HTML report of ``(run_id, result)`` pairs with :mod:`kaifang.report`.

    The same code as ``kaifang report``; ``ReportUnavailable`` when that module is not installed.
    """
    try:
        from kaifang import report
    except ImportError:
        raise ReportUnavailable(
            "HTML reports need kaifang.report (`kaifang report`), not present here"
        ) from None
    labelled: dict[str, tuple[str | None, RunResult]] = {}
    for run_id, res in runs:
        label = res.scenario if res.scenario not in labelled else f"{res.scenario} ({run_id})"
        labelled[label] = (run_id, res)
    return Path(report.write_report(labelled, path))


class ReportUnavailable(RuntimeError):
    """The report module is missing from this installation."""
