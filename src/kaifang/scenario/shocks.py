"""Policy shocks in a scenario and their composition into arrays aligned with a baseline.

Every model consumes the same shock language. Arrays use the axis order
``(importer, exporter, sector)``; one-sector models have a single sector. Selectors
(``importer``, ``exporter``, ``sector``, ``region``, ``members``) take codes, country names,
groups (``EU``, ``EU@2004``, ``ASEAN``, user ``[groups]``...), sector groups (``goods``,
``services``, ``manufacturing``), ``"all"``, or a selection with exceptions
``{ select = ..., except = ... }`` (see :mod:`kaifang.scenario.select`).
The full reference with examples is ``docs/scenarios.md``.

Shock types (the ``type`` field of each ``[[shocks]]`` table):

``tariff``
    ``op = "set" | "add" | "scale"``; ``value`` in percent for ``set``/``add`` (25 means
    25 %, or +25 points), a factor for ``scale``; or ``from_table = "<name>"`` with
    ``op = "set"`` to take the values from a tariff table the data set provides (e.g.
    ``tariffs2005`` of ``cp2015``). Domestic pairs are never tariffed. ``mirror = true``
    applies the same change with importer and exporter swapped right after (retaliation in
    kind).
``retaliation``
    the mirror image of an earlier tariff shock: ``against = <index or label>`` names it;
    importer and exporter are swapped; ``op``/``value``/``sector`` may override the original's.
``iceberg``
    a change in iceberg trade costs: ``value`` is the percent change of the cost factor
    (``-10`` lowers the cost of delivering one unit by 10 %), international pairs only unless
    ``include_domestic = true``.
``ntb``
    a non-tariff barrier as an ad-valorem equivalent (AVE): ``value`` is the change in AVE
    points; with the current AVE ``from_ave`` (percent, default 0) the iceberg factor changes
    by ``(1 + (from_ave + value)/100) / (1 + from_ave/100)`` (so ``value = 10`` from 0 is a
    factor 1.10). International pairs only.
``embargo``
    trade prohibited on the selected international pairs: the iceberg factor is multiplied by
    :data:`EMBARGO_FACTOR` (a large finite number, so every model's equations stay defined;
    with trade elasticities of 4 or more the pair's trade falls by at least 1e-16) and the
    cells are flagged in :attr:`ShockArrays.embargo` for models that set the flows to zero
    exactly. ``mirror = true`` embargoes both directions.
``agreement``
    joining (``op = "join"``, default) or leaving (``op = "leave"``) a trade agreement among
    ``members`` (every ordered pair of different members, or ``importer``/``exporter``): the
    size is an estimate of the agreement's partial effect on trade in log points
    (``estimate``, e.g. 0.5 from a PPML gravity regression) or the name of a coefficient
    (``coefficient``, e.g. ``"rta"``) that the model looks up in the scenario's estimation.
    Composed into :attr:`ShockArrays.agreement` (sum of ``+estimate`` for join, ``-estimate``
    for leave per cell) and :attr:`ShockArrays.agreements`; the gravity model applies it.
``productivity``
    a percent change in the productivity of ``region`` (producers located there) in
    ``sector``: :attr:`ShockArrays.productivity` over ``(region, sector)``, default ones.
``deficit``
    the trade deficits of ``region`` multiplied by ``value`` (0 closes them, 0.5 halves them):
    :attr:`ShockArrays.deficit_scale` over regions, default ones.

Composition order: shocks apply in file order; a ``mirror = true`` shock's mirror image
right after it. Tariffs: for each pair and sector a ``set`` replaces, ``add`` adds points,
``scale`` multiplies, in order. Iceberg, ntb and embargo factors multiply (order does not
matter); productivity factors multiply; agreement effects add. Conflicts are errors naming
both shocks: two tariff ``set`` shocks giving one cell different values; an agreement on an
embargoed pair; two deficit shocks on one region; a deficit shock when ``[baseline]
deficits = "zero"``. To state a general rate and a specific one, leave the specific pairs out of
the general shock with an exception (``exporter = { except = "CHN" }``).

A shock that changes nothing (its selection is empty in the data set, it selects no
international pair, or every selected cell keeps its value) is a
:class:`~kaifang.errors.KaifangWarning` and listed in :attr:`ShockArrays.unchanged`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kaifang.errors import KaifangWarning, ScenarioError, suggest
from kaifang.scenario._impl import Scenario, validate_section
from kaifang.scenario.fields import bounded
from kaifang.scenario.select import EmptySelectionError, SelectorField, resolve

__all__ = [
    "EMBARGO_FACTOR",
    "SHOCK_MODELS",
    "SHOCK_TYPES",
    "AgreementShock",
    "DeficitShock",
    "EmbargoShock",
    "IcebergShock",
    "NtbShock",
    "ProductivityShock",
    "RetaliationShock",
    "Shock",
    "ShockArrays",
    "TariffShock",
    "check_supported",
    "compose_shocks",
    "parse_shocks",
    "scale_deficits",
]

Selector = SelectorField
Percent = Annotated[float, Field(allow_inf_nan=False)]

#: Iceberg factor of an embargoed pair (see ``embargo`` above).
EMBARGO_FACTOR = 1.0e4
#: Largest tariff (percent) a shock may produce; beyond it use an embargo.
MAX_TARIFF_PCT = 2000.0


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
    value: Percent | None = None
    from_table: str | None = None
    mirror: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> TariffShock:
        if (self.value is None) == (self.from_table is None):
            raise ValueError("give exactly one of 'value' or 'from_table'")
        if self.from_table is not None and self.op != "set":
            raise ValueError("'from_table' works with op = 'set' only")
        if self.op == "scale" and self.value is not None and self.value < 0:
            raise ValueError("a scale factor must be >= 0")
        if self.op == "set" and self.value is not None and not -100 < self.value <= MAX_TARIFF_PCT:
            raise ValueError(
                f"a tariff must be above -100 and at most {MAX_TARIFF_PCT:g} percent; use type = 'embargo' "
                f"for prohibitive barriers"
            )
        if self.op == "add" and self.value is not None and abs(self.value) > MAX_TARIFF_PCT:
            raise ValueError(f"a tariff change of more than {MAX_TARIFF_PCT:g} points; use type = 'embargo'")
        return self


class RetaliationShock(BaseModel):
    """The mirror image of an earlier tariff shock (importer and exporter swapped)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["retaliation"]
    against: int | str
    op: Literal["set", "add", "scale"] | None = None
    value: Percent | None = None
    sector: Selector | None = None
    label: str = ""


class IcebergShock(_Base):
    """A percent change in iceberg trade costs."""

    type: Literal["iceberg"]
    value: bounded(
        float, "value", gt=-100.0, le=10000.0, description="percent change of the iceberg cost factor"
    )  # type: ignore[valid-type]
    include_domestic: bool = False


class NtbShock(_Base):
    """A change of a non-tariff barrier, in ad-valorem-equivalent (AVE) percentage points."""

    type: Literal["ntb"]
    value: bounded(float, "value", ge=-1000.0, le=1000.0, description="change of the AVE in points")  # type: ignore[valid-type]
    from_ave: bounded(float, "from_ave", ge=0.0, le=1000.0, description="the current AVE in percent") = 0.0  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _positive(self) -> NtbShock:
        if self.from_ave + self.value <= -100.0:
            raise ValueError(
                f"from_ave + value = {self.from_ave + self.value:g} must stay above -100 (an AVE of -100% "
                f"or less would make trade free or negative-cost)"
            )
        return self

    @property
    def factor(self) -> float:
        """The iceberg change factor (1 + (from_ave + value)/100) / (1 + from_ave/100)."""
        return (1.0 + (self.from_ave + self.value) / 100.0) / (1.0 + self.from_ave / 100.0)


class EmbargoShock(_Base):
    """Trade prohibited between the selected pairs (international pairs only)."""

    type: Literal["embargo"]
    mirror: bool = False


class AgreementShock(BaseModel):
    """Joining or leaving a trade agreement; its size an estimate or a named coefficient."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["agreement"]
    op: Literal["join", "leave"] = "join"
    members: Selector | None = None
    importer: Selector | None = None
    exporter: Selector | None = None
    sector: Selector = "all"
    estimate: (
        bounded(float, "estimate", ge=-10.0, le=10.0, description="partial effect in log points") | None
    ) = None  # type: ignore[valid-type]
    coefficient: str | None = None
    standard_error: bounded(float, "standard_error", ge=0.0, le=10.0) | None = None  # type: ignore[valid-type]
    source: str = ""
    label: str = ""

    @model_validator(mode="after")
    def _check(self) -> AgreementShock:
        if (self.estimate is None) == (self.coefficient is None):
            raise ValueError("give exactly one of 'estimate' (log points) or 'coefficient' (a name)")
        if self.members is not None and (self.importer is not None or self.exporter is not None):
            raise ValueError("give either 'members' or 'importer'/'exporter', not both")
        if self.members is None and (self.importer is None or self.exporter is None):
            raise ValueError("give 'members' (all pairs among them) or both 'importer' and 'exporter'")
        return self

    @property
    def signed_estimate(self) -> float | None:
        """``estimate`` for join, ``-estimate`` for leave (``None`` for a named coefficient)."""
        if self.estimate is None:
            return None
        return self.estimate if self.op == "join" else -self.estimate


class ProductivityShock(BaseModel):
    """A percent change of productivity of producers in ``region`` and ``sector``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["productivity"]
    region: Selector = "all"
    sector: Selector = "all"
    value: bounded(float, "value", gt=-100.0, le=1000.0, description="percent change of productivity")  # type: ignore[valid-type]
    label: str = ""


class DeficitShock(BaseModel):
    """Trade deficits of ``region`` multiplied by ``value``."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    type: Literal["deficit"]
    region: Selector = "all"
    value: bounded(float, "value", ge=-10.0, le=10.0, description="factor on deficits")  # type: ignore[valid-type]
    label: str = ""


AnyShock = (
    TariffShock
    | RetaliationShock
    | IcebergShock
    | NtbShock
    | EmbargoShock
    | AgreementShock
    | ProductivityShock
    | DeficitShock
)
Shock = Annotated[AnyShock, Field(discriminator="type")]
SHOCK_TYPES = ("tariff", "retaliation", "iceberg", "ntb", "embargo", "agreement", "productivity", "deficit")
#: The pydantic model of each shock type (for the JSON Schema of the scenario format).
SHOCK_MODELS: dict[str, type[BaseModel]] = {
    "tariff": TariffShock,
    "retaliation": RetaliationShock,
    "iceberg": IcebergShock,
    "ntb": NtbShock,
    "embargo": EmbargoShock,
    "agreement": AgreementShock,
    "productivity": ProductivityShock,
    "deficit": DeficitShock,
}


class _ShockList(BaseModel):
    model_config = ConfigDict(frozen=True)
    shocks: list[Shock]


def parse_shocks(scenario: Scenario) -> list[Any]:
    """Validate the ``[[shocks]]`` tables of ``scenario`` (errors name ``shocks[k].field``)."""
    for k, s in enumerate(scenario.shocks):
        if "type" not in s:
            raise ScenarioError(
                f"{scenario.source}: field 'shocks[{k}].type' is required but missing. "
                f"Valid types: {', '.join(SHOCK_TYPES)}."
            )
        if s["type"] not in SHOCK_TYPES:
            raise ScenarioError(
                f"{scenario.source}: field 'shocks[{k}].type' has unknown value {s['type']!r}."
                f"{suggest(str(s['type']), SHOCK_TYPES)} Valid types: {', '.join(SHOCK_TYPES)}."
            )
    parsed = validate_section(_ShockList, {"shocks": scenario.shocks}, scenario, "", tags=SHOCK_TYPES)
    shocks = list(parsed.shocks)
    for k, s in enumerate(shocks):
        if isinstance(s, RetaliationShock):
            _find_target(s, k, shocks, scenario)
    return shocks


def _find_target(s: RetaliationShock, k: int, shocks: Sequence[Any], scenario: Scenario) -> int:
    src = scenario.source
    if isinstance(s.against, int):
        t = s.against
        if not 0 <= t < k:
            raise ScenarioError(
                f"{src}: field 'shocks[{k}].against' has value {t}: a retaliation answers an earlier "
                f"shock; give the index (0 to {k - 1}) or label of a tariff shock above it."
            )
    else:
        hits = [i for i, x in enumerate(shocks[:k]) if getattr(x, "label", "") == s.against]
        if not hits:
            labels = [x.label for x in shocks[:k] if getattr(x, "label", "")]
            raise ScenarioError(
                f"{src}: field 'shocks[{k}].against' has value {s.against!r}, the label of no earlier "
                f"shock.{suggest(s.against, labels)} Labels above it: {', '.join(map(repr, labels)) or 'none'}."
            )
        t = hits[-1]
    if not isinstance(shocks[t], TariffShock):
        raise ScenarioError(
            f"{src}: field 'shocks[{k}].against' points at shocks[{t}] of type {shocks[t].type!r}; "
            f"a retaliation answers a tariff shock."
        )
    return t


def _mirror_of(s: TariffShock, r: RetaliationShock | None = None) -> TariffShock:
    upd: dict[str, Any] = {"importer": s.exporter, "exporter": s.importer, "mirror": False}
    if r is not None:
        if r.op is not None:
            upd["op"] = r.op
        if r.value is not None:
            upd["value"] = r.value
            upd["from_table"] = None
        if r.sector is not None:
            upd["sector"] = r.sector
        upd["label"] = r.label or f"retaliation against {s.label or 'tariff'}"
    data = {**s.model_dump(by_alias=True), **upd}
    return TariffShock.model_validate(data)


@dataclass(frozen=True)
class ShockArrays:
    """Shocks composed into arrays.

    Attributes
    ----------
    tariff_new
        Counterfactual ad-valorem tariffs as fractions (0.25 = 25 %), ``(importer, exporter, sector)``.
    dhat
        Change factor of iceberg costs (1 = unchanged), including ntb and embargo factors.
    touched
        Which cells any trade-cost shock selected (for reporting).
    productivity
        Change factor of productivity over ``(region, sector)`` (1 = unchanged).
    deficit_scale
        Factor on each region's trade deficit, ``(region,)`` (1 = unchanged).
    embargo
        Cells under an embargo, ``(importer, exporter, sector)``.
    agreement
        Sum of agreement effects given as ``estimate`` (log points, + join, - leave) per cell.
    agreements
        Every agreement shock with its cell mask, in file order (for models that look up a
        named ``coefficient``).
    groups
        For every group a selector used: members, those present, those absent and where
        they are (the data set's ROW) — for the run's provenance.
    types
        The shock types present.
    unchanged
        Indices of the shocks that changed nothing (each was warned about).
    """

    tariff_new: np.ndarray
    dhat: np.ndarray
    touched: np.ndarray
    productivity: np.ndarray | None = None
    deficit_scale: np.ndarray | None = None
    embargo: np.ndarray | None = None
    agreement: np.ndarray | None = None
    agreements: tuple[tuple[AgreementShock, np.ndarray], ...] = ()
    groups: Mapping[str, Any] = field(default_factory=dict)
    types: frozenset[str] = frozenset()
    unchanged: tuple[int, ...] = ()

    def cost_factor(self) -> np.ndarray:
        """Change of the cost of delivering one unit, ``dhat / productivity[exporter, sector]``.

        Valid in Ricardian models (Eaton–Kortum, Caliendo–Parro), where a Hicks-neutral
        productivity change of the producers in ``i``, sector ``j``, lowers the cost of every
        unit they deliver, to every destination including their own, by the same factor.
        """
        if self.productivity is None:
            return self.dhat
        prod = self.productivity[None, :, :]
        return self.dhat / prod


def check_supported(shocks: Sequence[Any], supported: Sequence[str], scenario: Scenario, model: str) -> None:
    """Raise a :class:`ScenarioError` when a shock's type is one ``model`` does not handle.

    Every model calls this with the types it applies, so that no shock is silently ignored.
    """
    for k, s in enumerate(shocks):
        t = s.type if s.type != "retaliation" else "tariff"
        if t not in supported:
            raise ScenarioError(
                f"{scenario.source}: shocks[{k}] has type {s.type!r}, which model {model!r} does not apply "
                f"(it applies: {', '.join(supported)}). Use another model or remove the shock."
            )


def scale_deficits(deficits: np.ndarray, scale: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Counterfactual deficits: ``deficits * scale``, the world total kept at its baseline sum.

    The change of the world total that scaling makes is spread over the regions whose
    deficits were not scaled (``scale == 1``), in proportion to ``weights`` (e.g. value
    added); when every region is scaled, over all regions. Deficits of a closed world sum to
    zero, so this keeps the counterfactual consistent.
    """
    d = np.asarray(deficits, dtype=float)
    s = np.asarray(scale, dtype=float)
    w = np.asarray(weights, dtype=float)
    new = d * s
    gap = new.sum() - d.sum()
    free = s == 1.0
    if not free.any():
        free = np.ones_like(free)
    share = np.where(free, w, 0.0)
    return new - gap * share / share.sum()


class _Nothing(Exception):
    """A shock selects no cell it can change (raised inside :func:`compose_shocks`)."""


def _no_change_reason(s: Any) -> str:
    """Why a shock that selected cells left every one of them as it was."""
    op = getattr(s, "op", None)
    if s.type in ("tariff", "retaliation"):
        if op == "scale":
            return (
                f"it scales tariffs by {s.value:g}, but every selected tariff is zero in the baseline (a zero "
                f"tariff scaled stays zero); use op = 'set' or 'add' to impose a tariff"
            )
        if op == "add":
            return "it adds 0 points"
        return "it sets every selected tariff to the value it already has"
    if s.type == "embargo":
        return "every selected pair is already under an embargo"
    if s.type == "agreement":
        return "its estimate is 0"
    if s.type == "deficit":
        return "value = 1 leaves deficits as they are"
    return "its value is 0"


def _label(s: Any) -> str:
    return f" ({s.label!r})" if getattr(s, "label", "") else ""


def compose_shocks(
    shocks: Sequence[Any],
    *,
    regions: Sequence[str],
    sectors: Sequence[str],
    tariff_base: np.ndarray,
    scenario: Scenario,
    tables: Mapping[str, Callable[[], np.ndarray]] | None = None,
    aggregates: Mapping[str, Sequence[str]] | None = None,
) -> ShockArrays:
    """Compose validated shocks into counterfactual arrays (see the module docstring).

    Parameters
    ----------
    shocks
        Parsed shocks (:func:`parse_shocks`), applied in order.
    regions, sectors
        Labels of the baseline, in array order.
    tariff_base
        Baseline tariffs as fractions, shape ``(N, N, J)`` (importer, exporter, sector).
    scenario
        The scenario (for its file name in messages, its data set and its user groups).
    tables
        Named tariff tables the data set offers for ``from_table`` (loaded lazily), each
        returning fractions of shape ``(N, N, J)``.
    aggregates
        New region -> the regions it merges, for a world aggregated by ``[baseline.regions]``
        (messages then name the merged region that holds a country).

    Raises
    ------
    ScenarioError
        Unknown labels or groups, an unknown table, conflicting shocks, or a resulting
        tariff at or below -100 %.

    Warns
    -----
    KaifangWarning
        A shock that changes nothing: its selection is empty in this data set (a group with
        no member in it, exceptions that remove everything), it selects no international pair
        where only those can change, or it leaves every selected cell as it was (scaling zero
        tariffs, a value of 0). Such shocks are listed in :attr:`ShockArrays.unchanged`.
    """
    n, j = len(regions), len(sectors)
    if tariff_base.shape != (n, n, j):
        raise ValueError(f"tariff_base has shape {tariff_base.shape}, expected {(n, n, j)}")
    tariff = tariff_base.astype(float).copy()
    dhat = np.ones((n, n, j))
    touched = np.zeros((n, n, j), dtype=bool)
    set_by = np.full((n, n, j), -1, dtype=int)
    embargo = np.zeros((n, n, j), dtype=bool)
    embargo_by = np.full((n, n, j), -1, dtype=int)
    agreement = np.zeros((n, n, j))
    agreement_by = np.full((n, n, j), -1, dtype=int)
    agreements: list[tuple[AgreementShock, np.ndarray]] = []
    productivity = np.ones((n, j))
    deficit_scale = np.ones(n)
    deficit_by = np.full(n, -1, dtype=int)
    offdiag = ~np.eye(n, dtype=bool)[:, :, None]
    src = scenario.source
    report: dict[str, Any] = {}
    unchanged: list[int] = []

    def regions_of(sel: Any, fld: str) -> list[int]:
        return resolve(
            sel,
            regions,
            what="region",
            field=fld,
            source=src,
            groups=scenario.groups,
            report=report,
            aggregates=aggregates,
        )

    def sectors_of(sel: Any, fld: str) -> list[int]:
        return resolve(
            sel,
            sectors,
            what="sector",
            field=fld,
            source=src,
            groups=scenario.groups,
            dataset=scenario.dataset,
        )

    def cells(
        imp_sel: Any, exp_sel: Any, sec_sel: Any, k: int, names: tuple[str, str] = ("importer", "exporter")
    ) -> np.ndarray:
        imp = regions_of(imp_sel, f"shocks[{k}].{names[0]}")
        exp = regions_of(exp_sel, f"shocks[{k}].{names[1]}")
        sec = sectors_of(sec_sel, f"shocks[{k}].sector")
        mask = np.zeros((n, n, j), dtype=bool)
        mask[np.ix_(imp, exp, sec)] = True
        return mask

    def need_international(mask: np.ndarray, k: int, what: str) -> np.ndarray:
        mask = mask & offdiag
        if not mask.any():
            raise _Nothing(
                f"it selects no international pair (importer and exporter are the same region), and {what} "
                f"apply between different regions only"
            )
        return mask

    def apply_tariff(s: TariffShock, k: int, mask: np.ndarray) -> None:
        nonlocal tariff
        mask = need_international(mask, k, "tariffs")
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
                    f"or narrow its selection. To state a general rate and a specific one, leave the "
                    f'specific pairs out of the general shock, e.g. exporter = {{ except = "{regions[b]}" }}.'
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
        high = mask & (tariff > MAX_TARIFF_PCT / 100.0)
        if high.any():
            a, b, c = np.argwhere(high)[0]
            raise ScenarioError(
                f"{src}: shocks[{k}] makes the tariff of {regions[a]} on {regions[b]} in {sectors[c]} "
                f"{100 * tariff[a, b, c]:.0f}%, above {MAX_TARIFF_PCT:g}%; use type = 'embargo' for "
                f"prohibitive barriers."
            )
        touched[:] |= mask

    def apply_embargo(k: int, mask: np.ndarray) -> None:
        nonlocal dhat
        mask = need_international(mask, k, "embargoes")
        clash = mask & (agreement_by >= 0)
        if clash.any():
            a, b, c = np.argwhere(clash)[0]
            raise ScenarioError(
                f"{src}: shocks[{agreement_by[a, b, c]}] (agreement) and shocks[{k}] (embargo) both cover "
                f"{regions[a]} and {regions[b]} in {sectors[c]}: an agreement between embargoed partners "
                f"is a contradiction; remove one or narrow its selection."
            )
        new = mask & ~embargo  # an embargo twice on a cell is the same embargo
        dhat = np.where(new, dhat * EMBARGO_FACTOR, dhat)
        embargo[:] |= mask
        embargo_by[new] = k
        touched[:] |= mask

    def apply(k: int, s: Any) -> None:
        nonlocal dhat, agreement
        if isinstance(s, TariffShock):
            apply_tariff(s, k, cells(s.importer, s.exporter, s.sector, k))
            if s.mirror:
                m = _mirror_of(s)
                apply_tariff(m, k, cells(m.importer, m.exporter, m.sector, k, ("exporter", "importer")))
        elif isinstance(s, RetaliationShock):
            t = _find_target(s, k, shocks, scenario)
            m = _mirror_of(shocks[t], s)
            apply_tariff(m, k, cells(m.importer, m.exporter, m.sector, k))
        elif isinstance(s, IcebergShock):
            mask = cells(s.importer, s.exporter, s.sector, k)
            if not s.include_domestic:
                mask = need_international(mask, k, "iceberg shocks without include_domestic = true")
            dhat = np.where(mask, dhat * (1.0 + s.value / 100.0), dhat)
            touched[:] |= mask
        elif isinstance(s, NtbShock):
            mask = need_international(cells(s.importer, s.exporter, s.sector, k), k, "non-tariff barriers")
            dhat = np.where(mask, dhat * s.factor, dhat)
            touched[:] |= mask
        elif isinstance(s, EmbargoShock):
            apply_embargo(k, cells(s.importer, s.exporter, s.sector, k))
            if s.mirror:
                apply_embargo(k, cells(s.exporter, s.importer, s.sector, k, ("exporter", "importer")))
        elif isinstance(s, AgreementShock):
            if s.members is not None:
                mask = cells(s.members, s.members, s.sector, k, ("members", "members"))
            else:
                mask = cells(s.importer, s.exporter, s.sector, k)
            mask = need_international(mask, k, "agreements")
            clash = mask & embargo
            if clash.any():
                a, b, c = np.argwhere(clash)[0]
                raise ScenarioError(
                    f"{src}: shocks[{embargo_by[a, b, c]}] (embargo) and shocks[{k}] (agreement) both cover "
                    f"{regions[a]} and {regions[b]} in {sectors[c]}: an agreement between embargoed partners "
                    f"is a contradiction; remove one or narrow its selection."
                )
            if s.signed_estimate is not None:
                agreement = np.where(mask, agreement + s.signed_estimate, agreement)
            agreement_by[mask] = k
            agreements.append((s, mask))
            touched[:] |= mask
        elif isinstance(s, ProductivityShock):
            reg = regions_of(s.region, f"shocks[{k}].region")
            sec = sectors_of(s.sector, f"shocks[{k}].sector")
            productivity[np.ix_(reg, sec)] *= 1.0 + s.value / 100.0
        elif isinstance(s, DeficitShock):
            if scenario.baseline.get("deficits") == "zero":
                raise ScenarioError(
                    f"{src}: shocks[{k}] scales trade deficits, but [baseline] deficits = 'zero' removes them "
                    f"first (nothing to scale); set [baseline] deficits = 'keep' or remove the shock."
                )
            reg = regions_of(s.region, f"shocks[{k}].region")
            twice = [r for r in reg if deficit_by[r] >= 0]
            if twice:
                r = twice[0]
                raise ScenarioError(
                    f"{src}: shocks[{deficit_by[r]}] and shocks[{k}] both scale the deficit of {regions[r]}; "
                    f"give each region one deficit shock."
                )
            deficit_scale[reg] = s.value
            deficit_by[reg] = k
        else:  # pragma: no cover - parse_shocks admits no other type
            raise TypeError(type(s))

    def state() -> tuple[np.ndarray, ...]:
        return (tariff, dhat, embargo.copy(), agreement, productivity.copy(), deficit_scale.copy())

    for k, s in enumerate(shocks):
        before, n_agreements = state(), len(agreements)
        reason = None
        try:
            apply(k, s)
        except EmptySelectionError as exc:
            reason = (
                f"its selection is empty in this data set ({str(exc).removeprefix(f'{src}: ').rstrip('.')})"
            )
        except _Nothing as exc:
            reason = str(exc)
        else:
            same = all(np.array_equal(a, b) for a, b in zip(before, state(), strict=True))
            named = len(agreements) > n_agreements and agreements[-1][0].estimate is None
            if same and not named:
                reason = _no_change_reason(s)
        if reason is not None:
            unchanged.append(k)
            warnings.warn(
                f"{src}: shocks[{k}]{_label(s)} changes nothing: {reason}. "
                f"Correct or remove the shock (--strict turns this warning into an error).",
                KaifangWarning,
                stacklevel=2,
            )
    if not np.all(np.isfinite(dhat)) or not all(math.isfinite(x) for x in productivity.ravel()):
        raise ScenarioError(f"{src}: the shocks compose to non-finite trade costs or productivities.")
    return ShockArrays(
        tariff_new=tariff,
        dhat=dhat,
        touched=touched,
        productivity=productivity,
        deficit_scale=deficit_scale,
        embargo=embargo,
        agreement=agreement,
        agreements=tuple(agreements),
        groups=report,
        types=frozenset(s.type for s in shocks),
        unchanged=tuple(unchanged),
    )
