"""Scenario sweeps: a ``[sweep]`` section expanded into one full scenario per point.

A sweep file is an ordinary scenario file (the *base*) with a ``[sweep]`` section naming the
fields to vary and their values::

    [sweep]
    mode = "grid"                          # "grid" (every combination) or "list" (zip)
    [[sweep.dimension]]
    field = "shocks[1].value"              # a path into the base scenario
    values = {start = 0, stop = 50, step = 10}
    label = "retaliation_pct"              # column name in the summary (default: the path)
    [[sweep.dimension]]
    field = "shocks[1].importer"
    values = [["CHN"], ["CHN", "EU"], "all"]

Each point is the base scenario with the point's values substituted, validated like any
scenario file. Expansion happens here; solving the points (serially or on a Dask cluster) is
:mod:`kaifang.sweep`. The full reference is ``docs/sweeps.md``.

Rules
-----
* A ``field`` is a path of names and ``[index]`` es (``shocks[0].value``,
  ``policy.retaliation[0].by``, ``parameters.eps``, ``groups.FTZ``) that the **base scenario
  sets**: a sweep varies values the file gives, so an unknown or absent field is an error naming
  it and the closest fields the file has. To sweep a default, write it in the base file.
  ``field`` may also be a list of paths that take the same value at every point (e.g. a tariff
  and its mirror).
* ``values`` is a non-empty list, or a range: ``{start, stop, step}`` (``stop`` included when
  the steps reach it; decimal steps are exact: ``0.1`` steps give ``0.3``, not
  ``0.30000000000000004``) or ``{start, stop, num}`` (``num`` evenly spaced values, both ends
  included).
* ``op = "scale"`` multiplies the base file's (numeric) value by each value instead of
  replacing it: a reform's full-scale cost cut scaled by the share of the economy it covers.
* ``mode = "grid"``: every combination, the first dimension varying slowest; ``"list"``: the
  dimensions' values zipped (all of one length).
* At most :data:`MAX_POINTS` points.
"""

from __future__ import annotations

import copy
import datetime as _dt
import decimal
import hashlib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kaifang.errors import ScenarioError, suggest
from kaifang.scenario._impl import Scenario, _loc, format_validation_error

__all__ = [
    "MAX_POINTS",
    "Dimension",
    "Sweep",
    "SweepError",
    "SweepPoint",
    "dump_toml",
    "load_sweep",
    "parse_field_path",
    "parse_sweep",
]

#: The most points one sweep may have (a larger one is refused before anything is built).
MAX_POINTS = 100_000

SweepMode = Literal["grid", "list"]
DimensionOp = Literal["set", "scale"]
PathPart = str | int


class SweepError(ScenarioError):
    """A ``[sweep]`` section is malformed, names an unknown field, or is too large."""


# -- the [sweep] section at the file boundary ---------------------------------------------------
class _Range(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    start: float
    stop: float
    step: float | None = None
    num: int | None = Field(default=None, ge=1)


class _DimensionSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    field: Any  # a path or a list of paths; checked in parse_sweep (clearer messages than a union's)
    values: Any  # a list or a range table; likewise
    label: str | None = Field(default=None, min_length=1)
    op: DimensionOp = "set"


class _SweepSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str | None = Field(default=None, min_length=1)
    description: str = ""
    mode: SweepMode = "grid"
    dimension: list[_DimensionSpec] = Field(min_length=1)


# -- the expanded sweep -------------------------------------------------------------------------
@dataclass(frozen=True)
class Dimension:
    """One swept dimension.

    Attributes
    ----------
    fields
        The paths set at each point (usually one), as written in the file.
    values
        The values in order (ranges expanded).
    label
        Column name of the dimension in the summary table.
    op
        ``"set"`` (replace the base value) or ``"scale"`` (multiply it).
    """

    fields: tuple[str, ...]
    values: tuple[Any, ...]
    label: str
    op: DimensionOp = "set"


@dataclass(frozen=True)
class SweepPoint:
    """One point of a sweep: its values and the full scenario solved there.

    Attributes
    ----------
    index
        Position in the sweep (0-based, the order of the expansion).
    values
        Dimension label -> the point's value of that dimension.
    assignments
        Field path -> the value substituted into the base scenario (differs from ``values``
        for ``op = "scale"``).
    scenario
        The base scenario with the point's values substituted; its ``text`` is a complete
        scenario file reproducing the point.
    """

    index: int
    values: Mapping[str, Any]
    assignments: Mapping[str, Any]
    scenario: Scenario

    def describe(self) -> str:
        """``point 3 (retaliation_pct = 20, coalition = ["CHN"])``."""
        vals = ", ".join(f"{k} = {_show(v)}" for k, v in self.values.items())
        return f"point {self.index} ({vals})"


@dataclass(frozen=True)
class Sweep:
    """A sweep file, expanded and checked. Immutable.

    Attributes
    ----------
    name, description
        The sweep's identity (``[sweep] name``, default the base scenario's name).
    mode
        ``"grid"`` or ``"list"``.
    dimensions
        The swept dimensions.
    base
        The base scenario (the file without its ``[sweep]`` section).
    points
        Every point, in expansion order.
    source
        The file it came from (``"<string>"`` for text).
    text
        The exact text of the sweep file.
    """

    name: str
    description: str
    mode: SweepMode
    dimensions: tuple[Dimension, ...]
    base: Scenario
    points: tuple[SweepPoint, ...] = field(repr=False)
    source: str = "<string>"
    text: str = field(default="", repr=False)

    @property
    def sha256(self) -> str:
        """SHA-256 of the sweep file's text (recorded with every point's run)."""
        return hashlib.sha256(self.text.encode()).hexdigest()

    @property
    def labels(self) -> tuple[str, ...]:
        """The dimensions' labels (the value columns of the summary)."""
        return tuple(d.label for d in self.dimensions)

    def __len__(self) -> int:
        return len(self.points)


# -- field paths --------------------------------------------------------------------------------
_NAME = r"[A-Za-z0-9_\-]+"
_PART = re.compile(rf'(?:(?P<name>{_NAME})|"(?P<quoted>[^"]+)"|\[(?P<index>\d+)\])')


def parse_field_path(path: str) -> tuple[PathPart, ...]:
    """Split ``'shocks[0].value'`` into ``('shocks', 0, 'value')``.

    Names are letters, digits, ``_`` and ``-`` (or any text in double quotes:
    ``groups."EU core"``); indices are non-negative integers in brackets.

    Raises
    ------
    ValueError
        When ``path`` is not such a path (the message says where it stops making sense).
    """
    parts: list[PathPart] = []
    pos = 0
    s = path.strip()
    if not s:
        raise ValueError("the path is empty")
    while pos < len(s):
        if parts and s[pos] == ".":
            pos += 1
            m = _PART.match(s, pos)
            if m is None or m.group("index") is not None:
                raise ValueError(f"expected a name after '.' at position {pos}")
        else:
            m = _PART.match(s, pos)
            if m is None or (not parts and m.group("index") is not None):
                raise ValueError(f"unexpected {s[pos]!r} at position {pos}")
            if parts and m.group("index") is None:
                raise ValueError(f"expected '.' or '[' at position {pos}")
        if m.group("index") is not None:
            parts.append(int(m.group("index")))
        else:
            parts.append(m.group("name") or m.group("quoted"))
        pos = m.end()
    return tuple(parts)


def _join(parts: Sequence[PathPart]) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            name = p if re.fullmatch(_NAME, p) else f'"{p}"'
            out += f".{name}" if out else name
    return out


def _lookup(data: Mapping[str, Any], parts: Sequence[PathPart], where: str) -> Any:
    """The base scenario's value at ``parts``; a SweepError naming the first part that does not
    exist, with the closest paths the file has."""
    node: Any = data
    for k, part in enumerate(parts):
        here = _join(parts[: k + 1])
        above = _join(parts[:k])
        if isinstance(part, int):
            if not isinstance(node, list):
                raise SweepError(
                    f"{where}: {above!r} is not a list in the base scenario, so {here!r} does not exist."
                )
            if part >= len(node):
                have = f"entries {above}[0] to {above}[{len(node) - 1}]" if node else "no entries"
                raise SweepError(f"{where}: {here!r} does not exist: the base scenario has {have}.")
            node = node[part]
            continue
        if not isinstance(node, Mapping):
            kind = "a list: index it, e.g. " + repr(f"{above}[0]") if isinstance(node, list) else "a value"
            raise SweepError(f"{where}: {above!r} is {kind}, so {here!r} does not exist.")
        if part not in node:
            siblings = [_join((*parts[:k], key)) for key in node]
            if k == 0:
                siblings += [f for f in Scenario.model_fields if f not in ("source", "text")]
            hint = suggest(here, siblings) or suggest(str(part), siblings)
            if k == 0 and part not in Scenario.model_fields:
                raise SweepError(f"{where}: {here!r} is not a scenario field.{hint}")
            raise SweepError(
                f"{where}: the base scenario does not set {here!r}.{hint} A sweep varies values the "
                f"base file gives: to sweep a default, write the field with its default value in the base file."
            )
        node = node[part]
    return node


def _assign(data: dict[str, Any], parts: Sequence[PathPart], value: Any) -> None:
    node: Any = data
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = copy.deepcopy(value)


# -- values -------------------------------------------------------------------------------------
def _dec(x: float) -> decimal.Decimal:
    return decimal.Decimal(repr(float(x)) if not float(x).is_integer() else str(int(x)))


def _range_count(r: _Range, where: str) -> int:
    if (r.step is None) == (r.num is None):
        raise SweepError(f"{where}: give exactly one of 'step' or 'num' with 'start' and 'stop'.")
    for name in ("start", "stop", "step"):
        v = getattr(r, name)
        if v is not None and not math.isfinite(v):
            raise SweepError(f"{where}: {name!r} must be a finite number, not {v!r}.")
    if r.num is not None:
        return r.num
    assert r.step is not None
    if r.step == 0:
        raise SweepError(f"{where}: 'step' must not be 0.")
    span = _dec(r.stop) - _dec(r.start)
    if span != 0 and (span > 0) != (r.step > 0):
        raise SweepError(
            f"{where}: 'step' = {r.step:g} goes away from 'stop' = {r.stop:g} (from 'start' = {r.start:g}); "
            f"flip its sign."
        )
    return int(span / _dec(r.step)) + 1


def _range_values(r: _Range, raw: Mapping[str, Any], n: int) -> tuple[Any, ...]:
    ints = all(isinstance(raw.get(k), int) for k in ("start", "stop", "step") if k in raw)
    if r.num is not None:
        if n == 1:
            return (raw["start"],)
        a, b = _dec(r.start), _dec(r.stop)
        vals = [a + (b - a) * k / (n - 1) for k in range(n)]
        return tuple(float(v) for v in vals)
    a, s = _dec(r.start), _dec(r.step)  # exact decimal steps: 0.1 * 3 == 0.3
    vals = [a + s * k for k in range(n)]
    return tuple(int(v) if ints else float(v) for v in vals)


def _show(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, (list, dict, bool)) or v is None:
        return json.dumps(v, ensure_ascii=False)
    return repr(v) if isinstance(v, float) else str(v)


# -- parsing ------------------------------------------------------------------------------------
def _spec_error(exc: ValidationError, source: str, prefix: tuple[PathPart, ...] = ("sweep",)) -> SweepError:
    lines = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        where = _loc(loc)
        if err["type"] == "extra_forbidden":
            if prefix[-1] == "values":
                known = list(_Range.model_fields)
            elif "dimension" in loc:
                known = list(_DimensionSpec.model_fields)
            else:
                known = list(_SweepSpec.model_fields)
            lines.append(f"{source}: unknown field {where!r}.{suggest(str(err['loc'][-1]), known)}")
        elif err["type"] == "missing":
            lines.append(f"{source}: field {where!r} is required but missing.")
        else:
            lines.append(f"{source}: field {where!r} has value {err.get('input')!r}: {err['msg']}.")
    return SweepError("\n".join(dict.fromkeys(lines)))


def _field_paths(raw: Any, where: str) -> list[str]:
    paths = [raw] if isinstance(raw, str) else raw
    if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
        raise SweepError(
            f"{where}.field' has value {raw!r}; give a field path such as 'shocks[0].value' (or a list "
            f"of paths that take the same value)."
        )
    return paths


def _dimension_values(raw: Any, where: str, source: str, d: int, mode: str) -> tuple[Any, ...]:
    if isinstance(raw, list):
        if not raw:
            raise SweepError(f"{where}.values' is empty; give at least one value.")
        return tuple(raw)
    if isinstance(raw, dict):
        try:
            r = _Range.model_validate(raw)
        except ValidationError as exc:
            raise _spec_error(exc, source, ("sweep", "dimension", d, "values")) from None
        n = _range_count(r, f"{where}.values'")
        if n > MAX_POINTS:
            raise _too_many(source, [n], mode)
        return _range_values(r, raw, n)
    raise SweepError(
        f"{where}.values' has value {raw!r}; give a list of values, or a range such as "
        f"{{start = 0, stop = 50, step = 10}} or {{start = 0, stop = 1, num = 5}}."
    )


def parse_sweep(text: str, source: str = "<string>") -> Sweep:
    """Parse a sweep file's text and expand it into its points.

    Every point's scenario is checked against the scenario schema here; the model-specific
    checks of every point (data set, shocks against its regions and sectors) are
    :func:`kaifang.sweep.validate_sweep`'s.

    Raises
    ------
    SweepError
        No or a malformed ``[sweep]`` section, an unknown field, values of unequal length in
        ``"list"`` mode, more than :data:`MAX_POINTS` points, or points that break the
        scenario schema (all of them reported at once).
    ScenarioError
        Malformed TOML, or a base scenario that is not valid.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}. Fix the syntax at that position.") from None
    raw = data.pop("sweep", None)
    if raw is None:
        raise SweepError(
            f"{source}: has no [sweep] section, so there is nothing to sweep. Add one (see docs/sweeps.md), "
            f"or solve the scenario once with `kaifang run {source}`."
        )
    if not isinstance(raw, dict):
        raise SweepError(f"{source}: 'sweep' must be a table ([sweep]), not {type(raw).__name__}.")
    if "source" in data or "text" in data:
        raise ScenarioError(f"{source}: 'source' and 'text' are reserved names, not scenario fields.")
    try:
        spec = _SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise _spec_error(exc, source) from None
    base_text = dump_toml(data)
    try:
        base = Scenario(**data, source=source, text=base_text)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, data)) from None

    # dimensions: paths checked against the base file, sizes counted before anything is built
    dims: list[Dimension] = []
    counts: list[int] = []
    seen_paths: dict[tuple[PathPart, ...], int] = {}
    parsed_paths: list[list[tuple[PathPart, ...]]] = []
    for d, dspec in enumerate(spec.dimension):
        where = f"{source}: field 'sweep.dimension[{d}]"
        paths = _field_paths(dspec.field, where)
        parts_list = []
        for p in paths:
            try:
                parts = parse_field_path(p)
            except ValueError as exc:
                raise SweepError(
                    f"{where}.field' has value {p!r}, which is not a field path ({exc}); write it like "
                    f"'shocks[0].value' or 'policy.retaliation[0].by'."
                ) from None
            base_value = _lookup(data, parts, f"{where}.field' = {p!r}")
            if parts[0] in ("name", "description"):
                raise SweepError(
                    f"{where}.field' = {p!r}: the {parts[0]} cannot be swept (each point is named and "
                    f"described for you from the base scenario and its values)."
                )
            if parts in seen_paths:
                raise SweepError(
                    f"{where}.field' = {p!r} is already swept by sweep.dimension[{seen_paths[parts]}]; "
                    f"a field can be varied by one dimension only."
                )
            if dspec.op == "scale" and (
                isinstance(base_value, bool) or not isinstance(base_value, (int, float))
            ):
                raise SweepError(
                    f"{where}.op' = 'scale' multiplies the base value, but the base scenario's {p!r} is "
                    f"{_show(base_value)}, not a number. Use op = 'set' with explicit values."
                )
            seen_paths[parts] = d
            parts_list.append(parts)
        parsed_paths.append(parts_list)
        values = _dimension_values(dspec.values, where, source, d, spec.mode)
        if dspec.op == "scale":
            bad = [v for v in values if isinstance(v, bool) or not isinstance(v, (int, float))]
            if bad:
                raise SweepError(f"{where}.values' must be numbers with op = 'scale'; got {_show(bad[0])}.")
        label = dspec.label or (paths[0] if len(paths) == 1 else "+".join(paths))
        dims.append(Dimension(fields=tuple(paths), values=values, label=label, op=dspec.op))
        counts.append(len(values))
    labels = [d.label for d in dims]
    dup = sorted({lab for lab in labels if labels.count(lab) > 1})
    if dup:
        raise SweepError(
            f"{source}: two sweep dimensions have the label {dup[0]!r}; give each its own label."
        )

    if spec.mode == "list":
        if len(set(counts)) > 1:
            sizes = ", ".join(f"sweep.dimension[{k}] has {c}" for k, c in enumerate(counts))
            raise SweepError(
                f"{source}: mode = 'list' zips the dimensions, which must have as many values each ({sizes}). "
                f"Give them equal lengths, or use mode = 'grid' for every combination."
            )
        n_points = counts[0]
        combos: Any = zip(*(d.values for d in dims), strict=True)
    else:
        n_points = math.prod(counts)
        combos = itertools.product(*(d.values for d in dims))
    if n_points > MAX_POINTS:
        raise _too_many(source, counts, spec.mode)

    name = spec.name or base.name
    sweep_sha = hashlib.sha256(text.encode()).hexdigest()
    width = len(str(n_points - 1))
    points: list[SweepPoint] = []
    errors: list[tuple[SweepPoint | int, str]] = []
    for i, combo in enumerate(combos):
        pdata = copy.deepcopy(data)
        values: dict[str, Any] = {}
        assignments: dict[str, Any] = {}
        for dim, parts_list, v in zip(dims, parsed_paths, combo, strict=True):
            values[dim.label] = v
            for path, parts in zip(dim.fields, parts_list, strict=True):
                new = v
                if dim.op == "scale":
                    new = _lookup(data, parts, source) * v
                _assign(pdata, parts, new)
                assignments[path] = new
        pname = f"{name}-p{i:0{width}d}"
        pdata["name"] = pname
        desc = ", ".join(f"{k} = {_show(v)}" for k, v in values.items())
        pdata["description"] = (
            base.description + " " if base.description else ""
        ) + f"[sweep {name}, point {i}: {desc}]"
        header = (
            f"# Point {i} of {n_points} of sweep {name!r} ({source}, sweep sha256 {sweep_sha[:12]}): {desc}\n"
        )
        ptext = header + dump_toml(pdata)
        try:
            sc = Scenario(**pdata, source=source, text=ptext)
        except ValidationError as exc:
            msg = format_validation_error(exc, source, pdata)
            errors.append((i, f"point {i} ({desc}): " + msg.replace(f"{source}: ", "")))
            continue
        points.append(SweepPoint(index=i, values=values, assignments=assignments, scenario=sc))
    if errors:
        raise SweepError(invalid_points_message(source, [m for _, m in errors], n_points))
    return Sweep(
        name=name,
        description=spec.description,
        mode=spec.mode,
        dimensions=tuple(dims),
        base=base,
        points=tuple(points),
        source=source,
        text=text,
    )


def invalid_points_message(
    source: str, messages: Sequence[str], n_points: int, *, n_invalid: int | None = None, limit: int = 20
) -> str:
    """One report for every invalid point: ``"<file>: 3 of 18 sweep points are invalid ..."``,
    then one line per message (``n_invalid`` points when lines group several)."""
    n = len(messages) if n_invalid is None else n_invalid
    shown = list(messages[:limit])
    more = f"\n  ... and {len(messages) - limit} more" if len(messages) > limit else ""
    return (
        f"{source}: {n} of {n_points} sweep points {'is' if n == 1 else 'are'} invalid, so no point was "
        f"solved. Fix the values (or the base scenario) and run again:\n  " + "\n  ".join(shown) + more
    )


def _too_many(source: str, counts: Sequence[int], mode: str) -> SweepError:
    total = math.prod(counts) if mode == "grid" else max(counts)
    shape = " x ".join(f"{c:,}" for c in counts)
    return SweepError(
        f"{source}: the sweep has {total:,} points ({shape} in mode = {mode!r}), more than the "
        f"{MAX_POINTS:,} one sweep may have. Coarsen a dimension (a larger 'step' or fewer values) or "
        f"split the sweep into several files."
    )


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file (a scenario file with a ``[sweep]`` section) and expand it.

    See :func:`parse_sweep` for what is checked.
    """
    p = Path(path)
    if not p.is_file():
        hint = suggest(p.name, [q.name for q in p.parent.glob("*.toml")]) if p.parent.is_dir() else ""
        raise SweepError(f"sweep file {str(p)!r} does not exist.{hint}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SweepError(f"{p}: not a UTF-8 text file; sweep files are TOML text.") from None
    return parse_sweep(text, source=str(p))


# -- a small TOML writer (the point scenarios' text) --------------------------------------------
_BARE = re.compile(r"[A-Za-z0-9_\-]+")


def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    out = json.dumps(s, ensure_ascii=False)  # JSON escapes are valid TOML basic-string escapes
    return out.replace("\x7f", "\\u007f")


def _inline(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_key(str(k))} = {_inline(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_inline(x) for x in v) + "]"
    raise TypeError(f"cannot write a {type(v).__name__} as TOML")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _table(out: list[str], prefix: str, data: Mapping[str, Any]) -> None:
    subs = []
    for k, v in data.items():
        if isinstance(v, Mapping) or _is_table_array(v):
            subs.append((k, v))
        else:
            out.append(f"{_key(str(k))} = {_inline(v)}")
    for k, v in subs:
        name = f"{prefix}.{_key(str(k))}" if prefix else _key(str(k))
        if isinstance(v, Mapping):
            out.extend(["", f"[{name}]"])
            _table(out, name, v)
        else:
            for item in v:
                out.extend(["", f"[[{name}]]"])
                _table(out, name, item)


def dump_toml(data: Mapping[str, Any]) -> str:
    """TOML text for ``data`` (what :func:`tomllib.loads` reads back as ``data``).

    Tables become ``[table]`` sections and lists of tables ``[[table]]`` sections; everything
    else is written inline.
    """
    out: list[str] = []
    _table(out, "", data)
    text = "\n".join(out).lstrip("\n")
    return text + "\n"
