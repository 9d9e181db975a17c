"""Selecting regions and sectors by code, name or group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kaifang.errors import ScenarioError, suggest

# Built-in groups. Issue-4 work extends this into a full classification (by year for the EU).
BUILTIN_GROUPS: dict[str, tuple[str, ...]] = {
    "NAFTA": ("CAN", "MEX", "USA"),
    "USMCA": ("CAN", "MEX", "USA"),
}

Selector = str | Sequence[str] | None


def resolve(
    selector: Selector,
    labels: Sequence[str],
    *,
    what: str,
    field: str,
    source: str,
    groups: Mapping[str, Sequence[str]] | None = None,
) -> list[int]:
    """Return the positions in ``labels`` chosen by ``selector``.

    Parameters
    ----------
    selector
        ``None`` or ``"all"`` (everything), a label, a group name, or a list of them.
    labels
        The labels the data set has (region codes or sector names).
    what
        ``"region"`` or ``"sector"`` (for messages).
    field
        The scenario field being resolved (for messages), e.g. ``"shocks[0].importer"``.
    source
        The scenario file (for messages).
    groups
        User-defined groups (name -> members), consulted before built-in groups.

    Raises
    ------
    ScenarioError
        An unknown label or group (with the closest names), or an empty selection.
    """
    if selector is None or (isinstance(selector, str) and selector.lower() == "all"):
        return list(range(len(labels)))
    items = [selector] if isinstance(selector, str) else list(selector)
    if not items:
        raise ScenarioError(f"{source}: field {field!r} is an empty list; name at least one {what} or 'all'.")
    index = {lab.lower(): i for i, lab in enumerate(labels)}
    all_groups = {k.upper(): v for k, v in BUILTIN_GROUPS.items()}
    all_groups.update({k.upper(): v for k, v in (groups or {}).items()})
    out: list[int] = []
    for item in items:
        key = str(item).lower()
        if key in index:
            out.append(index[key])
        elif str(item).upper() in all_groups:
            members = [m for m in all_groups[str(item).upper()] if m.lower() in index]
            if not members:
                raise ScenarioError(
                    f"{source}: field {field!r}: group {item!r} has no member in this data set "
                    f"(members: {', '.join(all_groups[str(item).upper()])})."
                )
            out.extend(index[m.lower()] for m in members)
        else:
            hint = suggest(str(item), list(labels) + list(all_groups))
            raise ScenarioError(
                f"{source}: field {field!r}: unknown {what} {item!r}.{hint} "
                f"Valid {what}s: {', '.join(labels)}."
            )
    return sorted(set(out))
