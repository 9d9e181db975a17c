"""Selecting regions and sectors by code, name or group.

A selector is ``"all"`` (or nothing), a label the data set has (region code or sector name),
a country's ISO3 code or English name, a group (built-in, ``NAME@YEAR``, or user-defined in
the scenario's ``[groups]`` section) or a list of these. Groups resolve onto the regions the
data set has: members that are not separate regions of the data set are reported with a
:class:`~kaifang.errors.KaifangWarning` (they are part of the data set's ``ROW`` when it has
one) and listed in the run's provenance, never silently dropped. ``ROW`` itself is not added
to a group's selection (it holds non-members too); name ``ROW`` to include it.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, MutableMapping, Sequence
from typing import Any

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

__all__ = ["BUILTIN_GROUPS", "Selector", "resolve"]

Selector = str | Sequence[str] | None
ROW_LABELS = ("ROW", "RoW", "Rest of world", "REST")


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
    groups: Mapping[str, Sequence[str]] | None = None,
    dataset: str | None = None,
    report: MutableMapping[str, Any] | None = None,
) -> list[int]:
    """Return the positions in ``labels`` chosen by ``selector``.

    Parameters
    ----------
    selector
        ``None`` or ``"all"`` (everything), a label, a country code or name, a group name
        (``EU``, ``EU@2004``, a user group...), or a list of them.
    labels
        The labels the data set has (region codes or sector names).
    what
        ``"region"`` or ``"sector"`` (for messages and which groups apply).
    field
        The scenario field being resolved (for messages), e.g. ``"shocks[0].importer"``.
    source
        The scenario file (for messages).
    groups
        User-defined groups (name -> members), consulted before built-in groups.
    dataset
        The data set (for its sector groups).
    report
        When given, filled with one entry per group used: ``{"members", "present",
        "absent", "absent_in"}`` (``absent_in`` is the ROW label or ``None``).

    Raises
    ------
    ScenarioError
        An unknown label or group (with the closest names), a country that is not a
        separate region of the data set, an empty selection or an empty group.

    Warns
    -----
    KaifangWarning
        Members of a group that are not separate regions of the data set.
    """
    if selector is None or (isinstance(selector, str) and selector.lower() == "all"):
        return list(range(len(labels)))
    items = [selector] if isinstance(selector, str) else list(selector)
    if not items:
        raise ScenarioError(f"{source}: field {field!r} is an empty list; name at least one {what} or 'all'.")
    ctx = _Ctx(
        labels, what, field, source, {k.upper(): list(v) for k, v in (groups or {}).items()}, dataset, report
    )
    out: set[int] = set()
    for item in items:
        out.update(ctx.expand(str(item), stack=()))
    if not out:
        raise ScenarioError(
            f"{source}: field {field!r} selects no {what}; name at least one {what} the data set has."
        )
    return sorted(out)


class _Ctx:
    def __init__(self, labels, what, field, source, user, dataset, report) -> None:
        self.labels = list(labels)
        self.index = {lab.lower(): i for i, lab in enumerate(self.labels)}
        self.what = what
        self.field = field
        self.source = source
        self.user = user
        self.dataset = dataset
        self.report = report
        self.sector_groups = (
            {k.upper(): v for k, v in sector_groups(dataset, self.labels).items()} if what == "sector" else {}
        )
        self.row = _row_label(self.labels) if what == "region" else None

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

    def expand(self, item: str, stack: tuple[str, ...]) -> set[int]:
        key = item.lower()
        if key in self.index:
            return {self.index[key]}
        up = item.strip().upper()
        if up in self.user:
            if up in stack:
                raise ScenarioError(
                    f"{self.source}: group {item!r} contains itself (through {' -> '.join((*stack, up))}); "
                    f"remove the cycle from [groups]."
                )
            members = self.user[up]
            if not members:
                raise ScenarioError(
                    f"{self.source}: field 'groups.{item}' is an empty list; name at least one member."
                )
            if self.what == "region":
                return self._group(item, self._flatten_user(up, (*stack, up)))
            got: set[int] = set()
            for m in members:
                got |= self.expand(str(m), (*stack, up))
            return got
        if self.what == "sector":
            if up in self.sector_groups:
                members = [s for s in self.sector_groups[up] if s.lower() in self.index]
                if not members:
                    raise ScenarioError(
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
            where = (
                f"it is part of {self.row!r} in this data set; name {self.row!r} to shock the rest of the "
                f"world as a whole, or use a data set that has {code} as a region"
                if self.row
                else "use a data set that has it as a region"
            )
            raise ScenarioError(
                f"{self.source}: field {self.field!r}: country {item!r} ({code}, {country_name(code)}) is not a "
                f"separate region of this data set; {where}."
            )
        raise self._unknown(item)

    def _flatten_user(self, name: str, stack: tuple[str, ...]) -> list[str]:
        """Members of a user region group as labels or ISO3 codes (nested groups expanded)."""
        out: list[str] = []
        for m in self.user[name]:
            m = str(m)
            up = m.strip().upper()
            if m.lower() in self.index:
                out.append(self.labels[self.index[m.lower()]])
            elif up in self.user:
                if up in stack:
                    raise ScenarioError(
                        f"{self.source}: group {name!r} contains itself (through {' -> '.join((*stack, up))}); "
                        f"remove the cycle from [groups]."
                    )
                if not self.user[up]:
                    raise ScenarioError(
                        f"{self.source}: field 'groups.{m}' is an empty list; name at least one member."
                    )
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
            raise ScenarioError(
                f"{self.source}: field {self.field!r}: group {name!r} has no member that is a region of this "
                f"data set (members: {', '.join(members)}; data set regions: {', '.join(self.labels)})."
            )
        if absent:
            where = (
                f"they are part of {self.row!r}, which this selection does not include (name {self.row!r} too "
                f"to shock the rest of the world as a whole)"
                if self.row
                else "the data set has no rest-of-world region, so they are outside the model"
            )
            warnings.warn(
                f"{self.source}: group {name!r}: {len(absent)} of its {len(members)} members are not separate "
                f"regions of this data set: {_names(absent)}; {where}.",
                KaifangWarning,
                stacklevel=4,
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
