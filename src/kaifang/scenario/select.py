"""Selecting regions and sectors by code, name or group.

A selector is ``"all"`` (or nothing), a label the data set has (region code or sector name),
a country's ISO3 code or English name, a group (built-in, ``NAME@YEAR``, or user-defined in
the scenario's ``[groups]`` section) or a list of these; or a table ``{ select = ..., except = ... }`` for a selection with
exceptions (``{ except = "CHN" }`` is everyone but China, ``{ select = "EU", except = "DEU" }``
the EU without Germany). Groups resolve onto the regions the data set has: members that are not separate regions of the data set are reported with a
:class:`~kaifang.errors.KaifangWarning` (they are part of the data set's ``ROW`` when it has
one) and listed in the run's provenance, never silently dropped. ``ROW`` itself is not added
to a group's selection (it holds non-members too); name ``ROW`` to include it.

A selection that ends up empty because of the data set (a group none of whose members is a
region of it, an exception that removes everything) raises :class:`EmptySelectionError`; the
shock composition turns it into a warning that the shock changes nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, WrapValidator

from kaifang.errors import KaifangWarning, ScenarioError, suggest
from kaifang.scenario.groups import (
    BUILTIN_GROUPS,
    GROUPS,
    country_code,
    country_name,
    group_members,
    parse_group_name,
    sector_groups,
)

__all__ = [
    "BUILTIN_GROUPS",
    "EmptySelectionError",
    "GroupSpec",
    "Selection",
    "Selector",
    "SelectorField",
    "label_resolver",
    "resolve",
    "toml_kind",
]

ROW_LABELS = ("ROW", "RoW", "Rest of world", "REST")


class EmptySelectionError(ScenarioError):
    """A selector that is valid but selects nothing in this data set (a group without a member
    that is a region of it, an exception that removes everything)."""


Names = str | list[str]


class Selection(BaseModel):
    """A selection with exceptions: ``{ select = "all", except = ["CHN"] }`` (TOML inline table).

    Attributes
    ----------
    select
        What to take (a name, group or list; default ``"all"``).
    except_
        What to leave out of it (TOML key ``except``): names, groups or a list. Each must
        remove something from ``select``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    select: Names = Field(default="all", description="what to take: a name, a group or a list (default all)")
    except_: Names = Field(alias="except", description="what to leave out of it: a name, a group or a list")


def toml_kind(value: Any) -> str:
    """How a value reads in TOML words (for messages): ``true (a boolean)``, ``"25" (a string)``."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (an integer)"
    if isinstance(value, float):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return repr(value)


_SELECTOR_FORM = (
    'a selector is a name ("USA"), a group ("EU"), a list (["USA", "CHN"]) or a table with '
    'exceptions ({ select = "all", except = ["CHN"] })'
)


def _check_names(value: Any, what: str) -> None:
    if isinstance(value, str):
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            if not isinstance(v, str):
                raise ValueError(f"{what} item {i} is {toml_kind(v)}; list items are names (strings)")
        return
    raise ValueError(f"{what} is {toml_kind(value)}; {_SELECTOR_FORM}")


def _check_selector(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """One clear message for a malformed selector (instead of one per member of the union)."""
    if isinstance(value, Selection):
        return value
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in ("select", "except")]
        if unknown:
            raise ValueError(
                f"unknown key {unknown[0]!r} in a selection table.{suggest(str(unknown[0]), ['select', 'except'])} "
                f"A selection table has 'select' (default \"all\") and 'except'"
            )
        if "except" not in value:
            raise ValueError(
                "a selection table needs 'except' (without exceptions write the selection itself)"
            )
        for key in ("select", "except"):
            if key in value:
                _check_names(value[key], f"its {key!r}")
        return handler(dict(value))
    _check_names(value, "the value")
    return handler(value)


#: A selector field of the scenario language: a name, a list of names, or a :class:`Selection`.
SelectorField = Annotated[Names | Selection, WrapValidator(_check_selector)]
#: What :func:`resolve` accepts (``None`` means all).
Selector = str | Sequence[str] | Selection | Mapping[str, Any] | None


def _check_group(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, str):
        raise ValueError(
            f'a group is a list of members (["{value}"]) or a selection table, not a single string'
        )
    return _check_selector(value, handler)


#: A ``[groups]`` entry: a list of members, or a selection with exceptions.
GroupSpec = Annotated[list[str] | Selection, WrapValidator(_check_group)]


def _as_table(selector: Any) -> Mapping[str, Any] | None:
    if isinstance(selector, Selection):
        return selector.model_dump(by_alias=True)
    if isinstance(selector, Mapping):
        return selector
    return None


def describe(selector: Any) -> str:
    """A selector as the user wrote it, for messages (``'EU'``, ``['USA', 'CHN']``, ``{...}``)."""
    t = _as_table(selector)
    if t is not None:
        return "{ " + ", ".join(f"{k} = {v!r}" for k, v in t.items()) + " }"
    return repr(selector)


def _row_label(labels: Sequence[str]) -> str | None:
    for lab in labels:
        if lab.upper() in {x.upper() for x in ROW_LABELS}:
            return lab
    return None


def _names(codes: Sequence[str]) -> str:
    return ", ".join(f"{c} ({country_name(c)})" if country_name(c) != c else c for c in codes)


def resolve(
    selector: Selector,
    labels: Sequence[str],
    *,
    what: str,
    field: str,
    source: str,
    groups: Mapping[str, Any] | None = None,
    dataset: str | None = None,
    report: MutableMapping[str, Any] | None = None,
    aggregates: Mapping[str, Sequence[str]] | None = None,
) -> list[int]:
    """Return the positions in ``labels`` chosen by ``selector``.

    Parameters
    ----------
    selector
        ``None`` or ``"all"`` (everything), a label, a country code or name, a group name
        (``EU``, ``EU@2004``, a user group...), a list of them, or a selection with exceptions
        (``{"select": "all", "except": ["CHN"]}`` or a :class:`Selection`).
    labels
        The labels the data set has (region codes or sector names).
    what
        ``"region"`` or ``"sector"`` (for messages and which groups apply).
    field
        The scenario field being resolved (for messages), e.g. ``"shocks[0].importer"``.
    source
        The scenario file (for messages).
    groups
        User-defined groups (name -> members or selection table), consulted before built-in groups.
    dataset
        The data set (for its sector groups).
    report
        When given, filled with one entry per group used: ``{"members", "present",
        "absent", "absent_in"}`` (``absent_in`` is the ROW label or ``None``).
    aggregates
        For a world whose regions were aggregated (``[baseline.regions]``): new label -> the
        original regions it holds, so that messages about a country inside one name it.

    Raises
    ------
    ScenarioError
        An unknown label or group (with the closest names), a country that is not a
        separate region of the data set, an empty list, a cycle among user groups, an
        exception that removes nothing from its selection.
    EmptySelectionError
        A valid selector that selects nothing in this data set: a group with no member
        that is a region (sector) of it, or exceptions that remove everything.

    Warns
    -----
    KaifangWarning
        Members of a group that are not separate regions of the data set.
    """
    ctx = _Ctx(
        labels,
        what,
        field,
        source,
        {k.upper(): v for k, v in (groups or {}).items()},
        dataset,
        report,
        aggregates,
    )
    return sorted(ctx.selector(selector, field))


def label_resolver(scenario: Any) -> Callable[[Any, Sequence[str], str, str], list[str]]:
    """A resolver of the scenario's selectors to labels, for aggregations of a data set's table.

    ``resolver(selector, labels, what, field)`` returns the chosen labels of ``labels`` (in their
    order), resolving groups as the scenario's shocks do (its own ``[groups]`` first).
    """

    def resolver(selector: Any, labels: Sequence[str], what: str, fld: str) -> list[str]:
        idx = resolve(
            selector,
            labels,
            what=what,
            field=fld,
            source=scenario.source,
            groups=scenario.groups,
            dataset=scenario.dataset,
        )
        return [labels[i] for i in idx]

    return resolver


def _items(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


class _Ctx:
    def __init__(self, labels, what, field, source, user, dataset, report, aggregates=None) -> None:
        self.labels = list(labels)
        self.index = {lab.lower(): i for i, lab in enumerate(self.labels)}
        self.what = what
        self.field = field
        self.source = source
        self.user = user
        self.dataset = dataset
        self.report = report
        self.excepting = False
        self.sector_groups = (
            {k.upper(): v for k, v in sector_groups(dataset, self.labels).items()} if what == "sector" else {}
        )
        self.row = _row_label(self.labels) if what == "region" else None
        #: original region (lower case) -> the aggregated region that holds it
        self.part_of = {
            str(m).lower(): new
            for new, members in (aggregates or {}).items()
            for m in members
            if new in self.labels
        }

    # -- selectors -------------------------------------------------------------------
    def selector(self, selector: Any, field: str) -> set[int]:
        """Positions chosen by a whole selector (``None``/``"all"``, a name, a list, a table)."""
        self.field = field
        table = _as_table(selector)
        if table is not None:
            return self._with_exceptions(table, field)
        if selector is None or (isinstance(selector, str) and selector.strip().lower() == "all"):
            return set(range(len(self.labels)))
        items = _items(selector)
        if not items:
            raise ScenarioError(
                f"{self.source}: field {field!r} is an empty list; name at least one {self.what} or 'all'."
            )
        if len(items) == 1:
            return self.expand(items[0], stack=())
        out: set[int] = set()
        empty: list[str] = []
        for item in items:
            try:
                out |= self.expand(item, stack=())
            except EmptySelectionError as exc:
                empty.append(str(exc))
        if not out:
            raise EmptySelectionError(" ".join(empty))
        for msg in empty:  # a list item that adds nothing: say so, the rest still applies
            warnings.warn(f"{msg} It adds nothing to this list.", KaifangWarning, stacklevel=5)
        return out

    def _with_exceptions(self, table: Mapping[str, Any], field: str) -> set[int]:
        select = table.get("select", "all")
        exc = table.get("except", [])
        base = self.selector(select, f"{field}.select")
        exc_field = f"{field}.except"
        items = _items(exc)
        if not items:
            raise ScenarioError(
                f"{self.source}: field {exc_field!r} is an empty list; name what to leave out, or write the "
                f"selection without a table."
            )
        removed: set[int] = set()
        self.field, self.excepting = exc_field, True
        try:
            for item in items:
                try:
                    got = self.expand(item, stack=())
                except EmptySelectionError as e:
                    raise ScenarioError(
                        f"{e} An exception must name part of the selection; remove {item!r} from {exc_field!r}."
                    ) from None
                hit = got & base
                if not hit:
                    raise ScenarioError(
                        f"{self.source}: field {exc_field!r}: {item!r} is not part of the selection "
                        f"{describe(select)}, so leaving it out changes nothing; remove it or correct the selection."
                    )
                removed |= hit
        finally:
            self.field, self.excepting = field, False
        out = base - removed
        if not out:
            raise EmptySelectionError(
                f"{self.source}: field {field!r}: the exceptions {describe(exc)} remove every {self.what} of "
                f"the selection {describe(select)}, so it selects nothing."
            )
        return out

    # -- one name ----------------------------------------------------------------------
    def _unknown(self, item: str) -> ScenarioError:
        if self.what == "region":
            choices = self.labels + sorted({g.name for g in GROUPS.values()}) + list(self.user)
            valid = f"Valid regions: {', '.join(self.labels)}; or a group (see docs/scenarios.md)."
        else:
            choices = self.labels + [k.lower() for k in self.sector_groups] + list(self.user)
            groups = ", ".join(k.lower() for k in self.sector_groups) or "none for this data set"
            valid = f"Valid sectors: {', '.join(self.labels)}; sector groups: {groups}."
        return ScenarioError(
            f"{self.source}: field {self.field!r}: unknown {self.what} {item!r}.{suggest(item, choices)} {valid}"
        )

    def _cycle(self, item: str, up: str, stack: tuple[str, ...]) -> None:
        if up in stack:
            raise ScenarioError(
                f"{self.source}: group {item!r} contains itself (through {' -> '.join((*stack, up))}); "
                f"remove the cycle from [groups]."
            )

    def expand(self, item: str, stack: tuple[str, ...]) -> set[int]:
        key = item.lower()
        if key in self.index:
            return {self.index[key]}
        if key.strip() == "all":
            return set(range(len(self.labels)))
        up = item.strip().upper()
        if up in self.user:
            self._cycle(item, up, stack)
            if self.what == "region":
                return self._group(item, self._flatten_user(up, (*stack, up)))
            return self._sector_user(item, up, (*stack, up))
        if self.what == "sector":
            if up in self.sector_groups:
                members = [s for s in self.sector_groups[up] if s.lower() in self.index]
                if not members:
                    raise EmptySelectionError(
                        f"{self.source}: field {self.field!r}: sector group {item!r} has no sector in this data set."
                    )
                return {self.index[s.lower()] for s in members}
            raise self._unknown(item)
        base, _year = parse_group_name(item)
        if base in GROUPS:
            codes = group_members(item, source=self.source, field=self.field)
            return self._group(item, list(codes))
        code = country_code(item)
        if code is not None:
            if code.lower() in self.index:
                return {self.index[code.lower()]}
            home = self.part_of.get(code.lower())
            if home is not None:
                where = (
                    f"[baseline.regions] merged it into {home!r}; name {home!r} to select that region as a "
                    f"whole, or take {code} out of the aggregation"
                )
            elif self.row:
                where = (
                    f"it is part of {self.row!r} in this data set; name {self.row!r} to shock the rest of the "
                    f"world as a whole, or use a data set that has {code} as a region"
                )
            else:
                where = "use a data set that has it as a region"
            raise ScenarioError(
                f"{self.source}: field {self.field!r}: country {item!r} ({code}, {country_name(code)}) is not a "
                f"separate region of this data set; {where}."
            )
        raise self._unknown(item)

    # -- user groups ----------------------------------------------------------------------
    def _empty_group(self, name: str) -> ScenarioError:
        return ScenarioError(
            f"{self.source}: field 'groups.{name}' is an empty list; name at least one member."
        )

    def _sector_user(self, item: str, up: str, stack: tuple[str, ...]) -> set[int]:
        spec = self.user[up]
        table = _as_table(spec)
        if table is None:
            if not spec:
                raise self._empty_group(item)
            got: set[int] = set()
            for m in spec:
                got |= self.expand(str(m), stack)
            return got
        base: set[int] = set()
        for m in _items(table.get("select", "all")):
            base |= self.expand(m, stack)
        out = set(base)
        for m in _items(table.get("except", [])):
            hit = self.expand(m, stack) & base
            if not hit:
                raise ScenarioError(
                    f"{self.source}: field 'groups.{item}.except': {m!r} is not part of the group's selection "
                    f"{describe(table.get('select', 'all'))}; remove it."
                )
            out -= hit
        if not out:
            raise ScenarioError(
                f"{self.source}: field 'groups.{item}': its exceptions remove every member; the group is empty."
            )
        return out

    def _flatten_user(self, name: str, stack: tuple[str, ...]) -> list[str]:
        """Members of a user region group as labels or ISO3 codes (nested groups expanded)."""
        spec = self.user[name]
        table = _as_table(spec)
        if table is None:
            if not spec:
                raise self._empty_group(name)
            return self._flatten_items([str(m) for m in spec], name, stack)
        members = self._flatten_items(_items(table.get("select", "all")), name, stack)
        out = list(members)
        excepted = _items(table.get("except", []))
        if not excepted:
            raise ScenarioError(
                f"{self.source}: field 'groups.{name}.except' is an empty list; name what to leave out."
            )
        for m in excepted:
            drop = {x.upper() for x in self._flatten_items([m], name, stack)}
            if not any(x.upper() in drop for x in out):
                raise ScenarioError(
                    f"{self.source}: field 'groups.{name}.except': {m!r} is not a member of the group's selection "
                    f"{describe(table.get('select', 'all'))}; remove it."
                )
            out = [x for x in out if x.upper() not in drop]
        if not out:
            raise ScenarioError(
                f"{self.source}: field 'groups.{name}': its exceptions remove every member; the group is empty."
            )
        return out

    def _flatten_items(self, items: Sequence[str], name: str, stack: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        for m in items:
            up = m.strip().upper()
            if m.lower() in self.index:
                out.append(self.labels[self.index[m.lower()]])
            elif up == "ALL":
                out.extend(self.labels)
            elif up in self.user:
                self._cycle(m, up, stack)
                out.extend(self._flatten_user(up, (*stack, up)))
            elif parse_group_name(m)[0] in GROUPS:
                out.extend(group_members(m, source=self.source, field=f"groups.{name}"))
            elif country_code(m) is not None:
                out.append(country_code(m) or m)
            else:
                choices = self.labels + sorted({g.name for g in GROUPS.values()}) + list(self.user)
                raise ScenarioError(
                    f"{self.source}: field 'groups.{name}': unknown member {m!r}.{suggest(m, choices)} "
                    f"Members are region codes, ISO3 country codes or names, or groups."
                )
        return out

    def _group(self, name: str, members: list[str]) -> set[int]:
        members = list(dict.fromkeys(members))
        present = [m for m in members if m.lower() in self.index]
        absent = [m for m in members if m.lower() not in self.index]
        if self.report is not None:
            self.report[name] = {
                "members": members,
                "present": [self.labels[self.index[m.lower()]] for m in present],
                "absent": absent,
                "absent_in": self.row if absent else None,
            }
        if not present:
            merged = sorted({self.part_of[m.lower()] for m in members if m.lower() in self.part_of})
            hint = (
                f"; [baseline.regions] merged its members into {', '.join(repr(h) for h in merged)}: name "
                f"{'that region' if len(merged) == 1 else 'those regions'} instead"
                if merged
                else ""
            )
            raise EmptySelectionError(
                f"{self.source}: field {self.field!r}: group {name!r} has no member that is a region of this "
                f"data set (members: {', '.join(members)}; data set regions: {', '.join(self.labels)}){hint}."
            )
        homes = []
        if any(m.lower() in self.part_of for m in absent):
            homes = sorted({self.part_of.get(m.lower(), self.row) for m in absent} - {None})
        if absent and homes:
            what = "exception does not leave out" if self.excepting else "selection does not include"
            warnings.warn(
                f"{self.source}: group {name!r}: {len(absent)} of its {len(members)} members are not separate "
                f"regions of this data set: {_names(absent)}; [baseline.regions] merged them into "
                f"{', '.join(repr(h) for h in homes)}, which this {what} (name "
                f"{', '.join(repr(h) for h in homes)} to include the merged region as a whole).",
                KaifangWarning,
                stacklevel=5,
            )
        elif absent:
            if self.excepting:
                where = (
                    f"they are part of {self.row!r}, which this exception does not leave out (add {self.row!r} "
                    f"to the exception to leave out the rest of the world as a whole)"
                    if self.row
                    else "the data set has no rest-of-world region, so they are outside the model"
                )
            else:
                where = (
                    f"they are part of {self.row!r}, which this selection does not include (name {self.row!r} "
                    f"too to shock the rest of the world as a whole)"
                    if self.row
                    else "the data set has no rest-of-world region, so they are outside the model"
                )
            warnings.warn(
                f"{self.source}: group {name!r}: {len(absent)} of its {len(members)} members are not separate "
                f"regions of this data set: {_names(absent)}; {where}.",
                KaifangWarning,
                stacklevel=5,
            )
        return {self.index[m.lower()] for m in present}


def selection_report(scenario: Any, regions: Sequence[str]) -> dict[str, Any]:
    """For every group named by a region selector of ``scenario``'s shocks: its members,
    those that are regions of the data set, those that are not (absent) and where they are
    (the ROW label or ``None``). For the run's provenance; warnings are not repeated here."""
    report: dict[str, Any] = {}
    keys = ("importer", "exporter", "region", "members")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", KaifangWarning)
        for k, s in enumerate(scenario.shocks):
            for key in keys:
                sel = s.get(key)
                if sel is None:
                    continue
                try:
                    resolve(
                        sel,
                        regions,
                        what="region",
                        field=f"shocks[{k}].{key}",
                        source=scenario.source,
                        groups=scenario.groups,
                        report=report,
                    )
                except ScenarioError:
                    continue
    return report
