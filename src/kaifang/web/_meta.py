"""What the scenario builder shows: data sets and their labels, models, groups, shock types, examples."""

from __future__ import annotations

import functools
import importlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kaifang.data import DATASETS, status
from kaifang.models import RUNNERS
from kaifang.results import RunResult
from kaifang.scenario import BUILTIN_GROUPS
from kaifang.scenario.shocks import IcebergShock, TariffShock
from kaifang.web._schemas import DatasetOut, MetaOut, ModelOut, ShockTypeOut

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
                models=labels.get("models", []),
            )
        )
    groups = _groups()
    shock_types = [
        ShockTypeOut(
            type="tariff",
            description=(TariffShock.__doc__ or "").strip(),
            ops=["set", "add", "scale"],
            fields=TariffShock.model_json_schema(),
        ),
        ShockTypeOut(
            type="iceberg",
            description=(IcebergShock.__doc__ or "").strip(),
            ops=[],
            fields=IcebergShock.model_json_schema(),
        ),
    ]
    return MetaOut(
        datasets=datasets,
        models=[ModelOut(name=m) for m in RUNNERS],
        groups=groups,
        shock_types=shock_types,
    )


def _groups() -> dict[str, list[str]]:
    """Built-in country groups the scenario language knows (``kaifang.groups`` when present)."""
    out = {k: list(v) for k, v in BUILTIN_GROUPS.items()}
    try:
        mod = importlib.import_module("kaifang.groups")
        extra = getattr(mod, "GROUPS", None) or {}
        for k, v in dict(extra).items():
            out.setdefault(str(k), [str(x) for x in (v() if callable(v) else v)])
    except Exception:
        pass
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


def write_report(results: Sequence[RunResult], path: Path) -> Path:
    """Write the HTML report of ``results`` with :mod:`kaifang.report` (the ``kaifang report`` code)."""
    from kaifang import report

    return Path(report.write_report(list(results), path))
