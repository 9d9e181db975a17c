"""Policy shocks in a scenario and their composition into arrays aligned with a baseline.

Every model consumes the same shock language. Arrays use the axis order
``(importer, exporter, sector)``; one-sector models have a single sector.

Shock types (the ``type`` field of each ``[[shocks]]`` table):

``tariff``
    ``op = "set" | "add" | "scale"``; ``value`` in percent for ``set``/``add`` (25 means
    25 %, or +25 points), a factor for ``scale``; or ``from_table = "<name>"`` with
    ``op = "set"`` to take the values from a tariff table the data set provides (e.g.
    ``tariffs2005`` of ``cp2015``). Selected by ``importer``, ``exporter``, ``sector``
    (codes, names, groups or ``"all"``); domestic pairs are never tariffed.
``iceberg``
    a change in iceberg trade costs: ``value`` is the percent change of the cost factor
    (``-10`` lowers the cost of delivering one unit by 10 %), same selectors, international
    pairs only unless ``include_domestic = true``.

Composition order: shocks apply in file order; for each pair and sector a tariff ``set``
replaces, ``add`` adds points, ``scale`` multiplies. Two ``set`` shocks on the same cell
with different values are a conflict (an error naming both shocks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kaifang.errors import ScenarioError
from kaifang.scenario._impl import Scenario, validate_section
from kaifang.scenario.select import resolve

__all__ = ["IcebergShock", "Shock", "ShockArrays", "TariffShock", "compose_shocks", "parse_shocks"]

Selector = str | list[str]


class _Base(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    importer: Selector = "all"
    exporter: Selector = "all"
    sector: Selector = "all"
    label: str = ""


class TariffShock(_Base):
    """A change in ad-valorem tariffs (percent)."""

    type: Literal["tariff"]
    op: Literal["set", "add", "scale"]
    value: float | None = None
    from_table: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TariffShock:
        if (self.value is None) == (self.from_table is None):
            raise ValueError("give exactly one of 'value' or 'from_table'")
        if self.from_table is not None and self.op != "set":
            raise ValueError("'from_table' works with op = 'set' only")
        if self.op == "scale" and self.value is not None and self.value < 0:
            raise ValueError("a scale factor must be >= 0")
        return self


class IcebergShock(_Base):
    """A percent change in iceberg trade costs."""

    type: Literal["iceberg"]
    value: float = Field(gt=-100.0, description="percent change of the iceberg cost factor (> -100)")
    include_domestic: bool = False


Shock = Annotated[TariffShock | IcebergShock, Field(discriminator="type")]


class _ShockList(BaseModel):
    model_config = ConfigDict(frozen=True)
    shocks: list[Shock]


def parse_shocks(scenario: Scenario) -> list[TariffShock | IcebergShock]:
    """Validate the ``[[shocks]]`` tables of ``scenario`` (errors name ``shocks[k].field``)."""
    for k, s in enumerate(scenario.shocks):
        if "type" not in s:
            raise ScenarioError(
                f"{scenario.source}: field 'shocks[{k}].type' is required but missing. "
                f"Valid types: tariff, iceberg."
            )
    parsed = validate_section(_ShockList, {"shocks": scenario.shocks}, scenario, "")
    return list(parsed.shocks)


@dataclass(frozen=True)
class ShockArrays:
    """Shocks composed into arrays over ``(importer, exporter, sector)``.

    Attributes
    ----------
    tariff_new
        Counterfactual ad-valorem tariffs as fractions (0.25 = 25 %).
    dhat
        Change factor of iceberg costs (1 = unchanged).
    touched
        Which cells any shock selected (for reporting).
    """

    tariff_new: np.ndarray
    dhat: np.ndarray
    touched: np.ndarray


def compose_shocks(
    shocks: Sequence[TariffShock | IcebergShock],
    *,
    regions: Sequence[str],
    sectors: Sequence[str],
    tariff_base: np.ndarray,
    scenario: Scenario,
    tables: Mapping[str, Callable[[], np.ndarray]] | None = None,
) -> ShockArrays:
    """Compose validated shocks into counterfactual tariff and iceberg arrays.

    Parameters
    ----------
    shocks
        Parsed shocks (:func:`parse_shocks`), applied in order.
    regions, sectors
        Labels of the baseline, in array order.
    tariff_base
        Baseline tariffs as fractions, shape ``(N, N, J)`` (importer, exporter, sector).
    scenario
        The scenario (for its file name in messages and its user-defined groups).
    tables
        Named tariff tables the data set offers for ``from_table`` (loaded lazily), each
        returning fractions of shape ``(N, N, J)``.

    Raises
    ------
    ScenarioError
        Unknown labels or groups, an unknown table, conflicting ``set`` shocks, or a
        resulting tariff at or below -100 %.
    """
    n, j = len(regions), len(sectors)
    if tariff_base.shape != (n, n, j):
        raise ValueError(f"tariff_base has shape {tariff_base.shape}, expected {(n, n, j)}")
    tariff = tariff_base.astype(float).copy()
    dhat = np.ones((n, n, j))
    touched = np.zeros((n, n, j), dtype=bool)
    set_by = np.full((n, n, j), -1, dtype=int)
    offdiag = ~np.eye(n, dtype=bool)[:, :, None]
    src = scenario.source
    for k, s in enumerate(shocks):
        imp = resolve(
            s.importer,
            regions,
            what="region",
            field=f"shocks[{k}].importer",
            source=src,
            groups=scenario.groups,
        )
        exp = resolve(
            s.exporter,
            regions,
            what="region",
            field=f"shocks[{k}].exporter",
            source=src,
            groups=scenario.groups,
        )
        sec = resolve(s.sector, sectors, what="sector", field=f"shocks[{k}].sector", source=src, groups=None)
        mask = np.zeros((n, n, j), dtype=bool)
        mask[np.ix_(imp, exp, sec)] = True
        if isinstance(s, TariffShock):
            mask &= offdiag
            if not mask.any():
                raise ScenarioError(
                    f"{src}: shocks[{k}] selects no international pair (importer and exporter are the same "
                    f"region); tariffs apply between different regions only."
                )
            if s.op == "set":
                if s.from_table is not None:
                    if not tables or s.from_table not in tables:
                        avail = ", ".join(tables or {}) or "none"
                        raise ScenarioError(
                            f"{src}: field 'shocks[{k}].from_table' has unknown value {s.from_table!r}; "
                            f"tables this data set offers: {avail}."
                        )
                    new = np.asarray(tables[s.from_table](), dtype=float)
                else:
                    new = np.full((n, n, j), s.value / 100.0)
                clash = mask & (set_by >= 0) & ~np.isclose(tariff, new)
                if clash.any():
                    a, b, c = np.argwhere(clash)[0]
                    raise ScenarioError(
                        f"{src}: shocks[{set_by[a, b, c]}] and shocks[{k}] both set the tariff of "
                        f"{regions[a]} on {regions[b]} in {sectors[c]} to different values; remove one "
                        f"or narrow its selection."
                    )
                tariff = np.where(mask, new, tariff)
                set_by[mask] = k
            elif s.op == "add":
                tariff = np.where(mask, tariff + s.value / 100.0, tariff)
            else:
                tariff = np.where(mask, tariff * s.value, tariff)
            bad = mask & (tariff <= -1.0)
            if bad.any():
                a, b, c = np.argwhere(bad)[0]
                raise ScenarioError(
                    f"{src}: shocks[{k}] makes the tariff of {regions[a]} on {regions[b]} in {sectors[c]} "
                    f"{100 * tariff[a, b, c]:.1f}%, at or below -100% (a subsidy larger than the price); "
                    f"use a value above -100."
                )
        else:
            if not s.include_domestic:
                mask &= offdiag
            dhat = np.where(mask, dhat * (1.0 + s.value / 100.0), dhat)
        touched |= mask
    return ShockArrays(tariff_new=tariff, dhat=dhat, touched=touched)
