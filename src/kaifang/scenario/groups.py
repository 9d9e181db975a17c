"""Country and sector groups: built-in classifications, membership by year, user groups.

Country groups name ISO 3166-1 alpha-3 codes. Where a maintained classification library has
the group, kaifang takes it from there (``country_converter``'s data table, read directly);
where it does not, from the tables below, each with its source. ``NAME@YEAR`` gives the
members in that year for groups with a membership history (``EU@1995``, ``OECD@1990``,
``ASEAN@1995``, ``CPTPP@2019``, ``BRICS@2011``...): a country counts from the year it joined
and no longer from the year it left.

Built-in country groups (case-insensitive; aliases in brackets):

=================  =====================================================  ==========================
group              members                                                source
=================  =====================================================  ==========================
EU                 European Union, by year of accession (GBR left 2020)   own table (europa.eu)
EU6 EU12 EU15      the EU at 1958, 1986, 1995 (EU25 2004, EU27_2007,      own table, checked against
EU25 EU27_2007     EU28 2013; EU27 = the EU since 2020)                   country_converter
EU28 EU27
OECD               OECD members by year of accession                      country_converter
G7, G20, APEC      G20 includes the EU member states (the EU is a member) country_converter
BRIC               BRA CHN IND RUS                                        country_converter
BRICS              BRICS members by year (2024, 2025 enlargements)        own table (brics summits)
ASEAN              by year of admission (TLS 2025)                        own table (asean.org)
CPTPP              by year of entry into force for each party             own table (NZ MFAT, depositary)
RCEP               the 15 signatories (signed 2020)                       own table (rcepsec.org)
USMCA [NAFTA]      CAN MEX USA (NAFTA 1994, USMCA 2020)                   own table
MENA               World Bank Middle East & North Africa (before FY2025)  own table (World Bank)
LAC [LATAM]        Latin America & Caribbean (UN M49)                     country_converter (UN regions)
SSA                Sub-Saharan Africa (UN M49: Africa less Northern Af.)  country_converter (UN regions)
LLDC               the 32 landlocked developing countries                 own table (UN-OHRLLS)
CENTRAL_ASIA       KAZ KGZ TJK TKM UZB (UN M49)                           country_converter
AFRICA ASIA        continents                                             country_converter
EUROPE AMERICAS
OCEANIA
=================  =====================================================  ==========================

Sector groups depend on the data set (:data:`SECTOR_GROUPS`): ``goods``, ``services``,
``manufacturing`` (and ``primary``) where the data set's sectors allow.

User-defined groups come from the scenario's ``[groups]`` section: ``NAME = [members]``, where
a member is a region code, a sector name or another (built-in or user) group.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from kaifang.errors import ScenarioError, suggest

__all__ = [
    "BUILTIN_GROUPS",
    "GROUPS",
    "SECTOR_GROUPS",
    "CountryGroup",
    "country_name",
    "group_members",
    "is_group",
    "known_countries",
    "parse_group_name",
    "sector_groups",
]


@dataclass(frozen=True)
class CountryGroup:
    """A built-in country group.

    Attributes
    ----------
    name
        Canonical name (upper case).
    title
        What it is, in words.
    members
        ISO3 code -> (year joined, year left or ``None``); ``joined`` is ``None`` when the
        source gives no year (then ``NAME@YEAR`` is refused).
    source
        Where the membership comes from.
    aliases
        Other names for the same group.
    fixed_year
        For names like ``EU15``: the year whose membership the name means.
    """

    name: str
    title: str
    members: Mapping[str, tuple[int | None, int | None]]
    source: str
    aliases: tuple[str, ...] = ()
    fixed_year: int | None = None
    notes: str = ""
    has_history: bool = field(default=False)

    def at(self, year: int | None = None) -> tuple[str, ...]:
        """Members in ``year`` (current members when ``None``), sorted."""
        if year is None:
            year = self.fixed_year
        if year is None:
            return tuple(sorted(c for c, (_j, left) in self.members.items() if left is None))
        return tuple(
            sorted(
                c
                for c, (joined, left) in self.members.items()
                if (joined is not None and joined <= year) and (left is None or left > year)
            )
        )


# --------------------------------------------------------------------------------------
# country_converter's table (read directly: its CountryConverter class fails under pandas 3
# because Namibia's ISO2 code "NA" is read as a missing value).
@functools.cache
def _coco():
    import pandas as pd

    ref = resources.files("country_converter") / "country_data.tsv"
    with resources.as_file(ref) as p:
        df = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, na_values=[""])
    return df[df["obsolete"].isna()].reset_index(drop=True)


class _Deferred(Mapping[str, tuple[int | None, int | None]]):
    """Members computed on first use: building the group table reads nothing, so a scenario
    naming one group never pays for reading country_converter's table for the others."""

    def __init__(self, make: Callable[[], dict[str, tuple[int | None, int | None]]]) -> None:
        self._make = make
        self._data: dict[str, tuple[int | None, int | None]] | None = None

    def _get(self) -> dict[str, tuple[int | None, int | None]]:
        if self._data is None:
            self._data = self._make()
        return self._data

    def __getitem__(self, key: str) -> tuple[int | None, int | None]:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __repr__(self) -> str:
        return repr(self._get())


def _coco_col_now(col: str) -> dict[str, tuple[int | None, int | None]]:
    df = _coco()
    out: dict[str, tuple[int | None, int | None]] = {}
    for iso, v in zip(df["ISO3"], df[col], strict=True):
        if isinstance(v, str):
            out[iso] = (int(v), None) if v.isdigit() else (None, None)
    return out


def _coco_where_now(col: str, values: Iterable[str]) -> dict[str, tuple[int | None, int | None]]:
    df = _coco()
    vals = set(values)
    return {iso: (None, None) for iso in df.loc[df[col].isin(vals), "ISO3"]}


def _coco_col(col: str) -> Mapping[str, tuple[int | None, int | None]]:
    return _Deferred(lambda: _coco_col_now(col))


def _coco_where(col: str, values: Iterable[str]) -> Mapping[str, tuple[int | None, int | None]]:
    vals = tuple(values)
    return _Deferred(lambda: _coco_where_now(col, vals))


@functools.cache
def known_countries() -> dict[str, str]:
    """ISO3 code -> short English name, for every current country and territory."""
    df = _coco()
    return dict(zip(df["ISO3"], df["name_short"], strict=True))


def country_name(code: str) -> str:
    """The short English name of an ISO3 code (the code itself when unknown)."""
    return known_countries().get(code.upper(), code)


@functools.cache
def _name_to_iso() -> dict[str, str]:
    df = _coco()
    out = {n.lower(): iso for n, iso in zip(df["name_short"], df["ISO3"], strict=True)}
    out.update(
        {n.lower(): iso for n, iso in zip(df["name_official"], df["ISO3"], strict=True) if isinstance(n, str)}
    )
    return out


@functools.cache
def _regexes() -> tuple[tuple[re.Pattern[str], str], ...]:
    df = _coco()
    return tuple(
        (re.compile(rx, re.IGNORECASE), iso)
        for rx, iso in zip(df["regex"], df["ISO3"], strict=True)
        if isinstance(rx, str)
    )


@functools.cache
def country_code(name: str) -> str | None:
    """ISO3 code for an ISO3 code or an English country name (``None`` when unknown).

    Names match country_converter's short and official names, then its name patterns
    (so "Korea", "UK", "Viet Nam" work); a name matching several countries is unknown.
    """
    if name.upper() in known_countries():
        return name.upper()
    hit = _name_to_iso().get(name.lower())
    if hit is not None:
        return hit
    hits = {iso for rx, iso in _regexes() if rx.search(name)}
    return hits.pop() if len(hits) == 1 else None


# --------------------------------------------------------------------------------------
# Own tables, with sources.
def _years(
    spec: Mapping[int, str], left: Mapping[str, int] | None = None
) -> dict[str, tuple[int | None, int | None]]:
    out: dict[str, tuple[int | None, int | None]] = {}
    for year, codes in spec.items():
        for c in codes.split():
            out[c] = (year, (left or {}).get(c))
    return out


# European Union accession years: European Union, "History of the EU / EU enlargement"
# (european-union.europa.eu); the United Kingdom left on 31 January 2020.
_EU = _years(
    {
        1958: "BEL DEU FRA ITA LUX NLD",
        1973: "DNK IRL GBR",
        1981: "GRC",
        1986: "ESP PRT",
        1995: "AUT FIN SWE",
        2004: "CYP CZE EST HUN LVA LTU MLT POL SVK SVN",
        2007: "BGR ROU",
        2013: "HRV",
    },
    left={"GBR": 2020},
)
# ASEAN member states by year of admission: ASEAN Secretariat, "ASEAN Member States"
# (asean.org); Timor-Leste admitted as the 11th member at the 47th summit, October 2025.
_ASEAN = _years(
    {1967: "IDN MYS PHL SGP THA", 1984: "BRN", 1995: "VNM", 1997: "LAO MMR", 1999: "KHM", 2025: "TLS"}
)
# CPTPP: year of entry into force for each party, New Zealand Ministry of Foreign Affairs
# and Trade (depositary), "CPTPP: status".
_CPTPP = _years(
    {2018: "AUS CAN JPN MEX NZL SGP", 2019: "VNM", 2021: "PER", 2022: "MYS", 2023: "CHL BRN", 2024: "GBR"}
)
# RCEP: the 15 signatories (signed 15 November 2020; in force 2022-2023 for most parties),
# RCEP Secretariat (rcepsec.org).
_RCEP = _years({2020: "BRN KHM IDN LAO MYS MMR PHL SGP THA VNM AUS CHN JPN KOR NZL"})
# NAFTA in force 1 January 1994, replaced by USMCA on 1 July 2020 (same three parties).
_USMCA = _years({1994: "CAN MEX USA"})
# BRICS: first summit 2009 (BRIC), South Africa from 2011, Egypt, Ethiopia, Iran and the
# United Arab Emirates from 2024, Indonesia from 2025 (BRICS summit declarations).
# Saudi Arabia was invited in 2023 but has not confirmed membership: not included.
_BRICS = _years({2009: "BRA CHN IND RUS", 2011: "ZAF", 2024: "EGY ETH IRN ARE", 2025: "IDN"})
# World Bank regional classification "Middle East & North Africa" (as used until FY2024;
# from FY2025 the World Bank region also covers Afghanistan and Pakistan).
_MENA = _years({0: "DZA BHR DJI EGY IRN IRQ ISR JOR KWT LBN LBY MLT MAR OMN QAT SAU SYR TUN ARE PSE YEM"})
# Landlocked developing countries: UN-OHRLLS list of the 32 LLDCs.
_LLDC = _years(
    {
        0: "AFG ARM AZE BTN BOL BWA BFA BDI CAF TCD SWZ ETH KAZ KGZ LAO LSO MWI MLI MDA MNG "
        "NPL NER MKD PRY RWA SSD TJK TKM UGA UZB ZMB ZWE"
    }
)


def _no_history(m: Mapping[str, tuple[int | None, int | None]]) -> dict[str, tuple[int | None, int | None]]:
    return {c: (None, None) for c in m}


@functools.cache
def _groups() -> dict[str, CountryGroup]:
    cc = "country_converter (country_data.tsv)"
    un = "UN M49 regions, via country_converter"
    gs = [
        CountryGroup(
            "EU", "European Union", _EU, "own table: europa.eu enlargement history", has_history=True
        ),
        CountryGroup("EU6", "the six founding members (1958)", _EU, "own table", fixed_year=1958),
        CountryGroup("EU12", "the EU of 1986", _EU, "own table", fixed_year=1986),
        CountryGroup("EU15", "the EU of 1995", _EU, "own table", fixed_year=1995),
        CountryGroup("EU25", "the EU of 2004", _EU, "own table", fixed_year=2004),
        CountryGroup("EU27_2007", "the EU of 2007 (with GBR)", _EU, "own table", fixed_year=2007),
        CountryGroup("EU28", "the EU of 2013-2019", _EU, "own table", fixed_year=2013),
        CountryGroup("EU27", "the EU since 2020 (without GBR)", _EU, "own table", fixed_year=2020),
        CountryGroup("OECD", "OECD members", _coco_col("OECD"), cc, has_history=True),
        CountryGroup("G7", "Group of Seven", _coco_col("G7"), cc),
        CountryGroup(
            "G20",
            "Group of Twenty (the 19 member countries and the EU member states)",
            _coco_col("G20"),
            cc,
        ),
        CountryGroup("APEC", "Asia-Pacific Economic Cooperation", _coco_col("APEC"), cc),
        CountryGroup("BRIC", "Brazil, Russia, India, China", _coco_col("BRIC"), cc),
        CountryGroup(
            "BRICS", "BRICS members", _BRICS, "own table: BRICS summit declarations", has_history=True
        ),
        CountryGroup(
            "ASEAN",
            "Association of Southeast Asian Nations",
            _ASEAN,
            "own table: asean.org",
            has_history=True,
        ),
        CountryGroup(
            "CPTPP",
            "Comprehensive and Progressive Agreement for Trans-Pacific Partnership",
            _CPTPP,
            "own table: NZ MFAT (depositary)",
            has_history=True,
        ),
        CountryGroup(
            "RCEP",
            "Regional Comprehensive Economic Partnership (signatories)",
            _RCEP,
            "own table: rcepsec.org",
            has_history=True,
        ),
        CountryGroup(
            "USMCA",
            "USMCA (NAFTA before 2020)",
            _USMCA,
            "own table",
            aliases=("NAFTA", "CUSMA", "T-MEC"),
            has_history=True,
        ),
        CountryGroup(
            "MENA",
            "Middle East & North Africa (World Bank)",
            _no_history(_MENA),
            "own table: World Bank regions",
        ),
        CountryGroup(
            "LAC",
            "Latin America & Caribbean (UN M49)",
            _coco_where("UNregion", ["Caribbean", "Central America", "South America"]),
            un,
            aliases=("LATAM", "LATIN_AMERICA_CARIBBEAN", "LATIN_AMERICA"),
        ),
        CountryGroup(
            "SSA",
            "Sub-Saharan Africa (UN M49: Africa less Northern Africa)",
            _Deferred(
                lambda: {
                    k: v
                    for k, v in _coco_where_now("continent", ["Africa"]).items()
                    if k not in _coco_where_now("UNregion", ["Northern Africa"])
                }
            ),
            un,
            aliases=("SUB_SAHARAN_AFRICA",),
        ),
        CountryGroup(
            "LLDC",
            "landlocked developing countries (UN-OHRLLS)",
            _no_history(_LLDC),
            "own table: UN-OHRLLS",
            aliases=("LANDLOCKED_DEVELOPING",),
        ),
        CountryGroup("CENTRAL_ASIA", "Central Asia (UN M49)", _coco_where("UNregion", ["Central Asia"]), un),
        CountryGroup("AFRICA", "Africa", _coco_where("continent", ["Africa"]), cc),
        CountryGroup("ASIA", "Asia", _coco_where("continent", ["Asia"]), cc),
        CountryGroup("EUROPE", "Europe", _coco_where("continent", ["Europe"]), cc),
        CountryGroup("AMERICAS", "the Americas", _coco_where("continent", ["America"]), cc),
        CountryGroup("OCEANIA", "Oceania", _coco_where("continent", ["Oceania"]), cc),
    ]
    out: dict[str, CountryGroup] = {}
    for g in gs:
        for n in (g.name, *g.aliases):
            out[n.upper()] = g
    return out


class _LazyGroups(Mapping[str, CountryGroup]):
    def __getitem__(self, key: str) -> CountryGroup:
        return _groups()[key.upper()]

    def __iter__(self):
        return iter(_groups())

    def __len__(self) -> int:
        return len(_groups())


#: Built-in country groups by (upper-case) name and alias.
GROUPS: Mapping[str, CountryGroup] = _LazyGroups()


class _CurrentMembers(Mapping[str, tuple[str, ...]]):
    """Name -> current members, for every built-in group (compatible with the old dict)."""

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return _groups()[key.upper()].at()

    def __iter__(self):
        return iter(_groups())

    def __len__(self) -> int:
        return len(_groups())


#: Built-in groups as name -> current members (ISO3 codes).
BUILTIN_GROUPS: Mapping[str, tuple[str, ...]] = _CurrentMembers()

_AT = re.compile(r"^(?P<name>.+?)@(?P<year>\d{4})$")


def parse_group_name(name: str) -> tuple[str, int | None]:
    """Split ``"EU@1995"`` into ``("EU", 1995)``; a plain name gives ``(NAME, None)``."""
    m = _AT.match(name.strip())
    if m:
        return m["name"].upper(), int(m["year"])
    return name.strip().upper(), None


def is_group(name: str, user_groups: Mapping[str, Sequence[str]] | None = None) -> bool:
    """Whether ``name`` names a built-in group (with or without ``@YEAR``) or a user group."""
    base, _ = parse_group_name(str(name))
    return base in _groups() or base in {k.upper() for k in (user_groups or {})}


def group_members(name: str, *, source: str = "<string>", field: str = "groups") -> tuple[str, ...]:
    """The ISO3 members of a built-in group, ``NAME`` (current) or ``NAME@YEAR``.

    Raises
    ------
    ScenarioError
        Unknown group (with the closest names), or a year for a group without history.
    """
    base, year = parse_group_name(name)
    g = _groups().get(base)
    if g is None:
        raise ScenarioError(
            f"{source}: field {field!r}: unknown group {name!r}.{suggest(base, list(_groups()))} "
            f"Built-in groups: {', '.join(sorted({x.name for x in _groups().values()}))}."
        )
    if year is not None:
        if not g.has_history:
            hist = sorted({x.name for x in _groups().values() if x.has_history})
            raise ScenarioError(
                f"{source}: field {field!r}: group {g.name!r} has no membership history, so {name!r} "
                f"cannot be resolved; drop '@{year}'. Groups with a history: {', '.join(hist)}."
            )
        if year < 1900 or year > 2100:
            raise ScenarioError(
                f"{source}: field {field!r}: year {year} in {name!r} is out of range 1900-2100."
            )
        members = g.at(year)
        if not members:
            raise ScenarioError(
                f"{source}: field {field!r}: group {g.name!r} had no members in {year} "
                f"(first members joined in {min(j for j, _ in g.members.values() if j)})."
            )
        return members
    return g.at()


# --------------------------------------------------------------------------------------
# Sector groups by data set.
_CP2015_SECTORS = (
    "Agriculture Mining Food Textile Wood Paper Petroleum Chemicals Plastic Minerals "
    "Basic_metals Metal_products Machinery_n.e.c. Office Electrical Communication Medical Auto "
    "Other_transport Other_manufacturing Electricity Construction Retail Hotels Land_transport "
    "Water_transport Air_transport Auxiliary_transport Post Finance Real_estate "
    "Renting_of_machinery Computer R&D Other_business Public Education Health Other_services "
    "Private_households"
)
_CP = [s.replace("_", " ") for s in _CP2015_SECTORS.split()]

#: Sector groups per data set: data set -> group name -> sector names. ``cp2015``: the first
#: 20 sectors are goods (2 primary + 18 manufacturing), the last 20 services (Caliendo and
#: Parro 2015, table of sectors; services have no trade data in the 1993 files).
SECTOR_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "cp2015": {
        "goods": tuple(_CP[:20]),
        "services": tuple(_CP[20:]),
        "manufacturing": tuple(_CP[2:20]),
        "primary": tuple(_CP[:2]),
    },
}


def _table_groups() -> None:
    """Goods (agriculture, mining, manufacturing) and services of the world input-output tables:
    WIOD 2013 c1-c16 / c17-c35 (Timmer et al. 2015); WIOD 2016 and ICIO 2023 ISIC rev. 4 sections
    A-C / D-U."""
    from kaifang.data.icio import INDUSTRY_NAMES as ICIO
    from kaifang.data.wiod2013 import INDUSTRY_NAMES as WIOD13
    from kaifang.data.wiod2016 import INDUSTRY_NAMES as WIOD16

    for name, labels in (("wiod2013", list(WIOD13)), ("wiod2016", list(WIOD16)), ("icio", list(ICIO))):
        if name == "wiod2013":
            goods = labels[:16]
        else:
            goods = [s for s in labels if s[0] in "ABC"]
        SECTOR_GROUPS[name] = {
            "goods": tuple(goods),
            "services": tuple(s for s in labels if s not in goods),
            "manufacturing": tuple(
                s for s in goods if s.startswith("C") or (name == "wiod2013" and s not in ("c1", "c2"))
            ),
            "primary": tuple(s for s in goods if s in ("c1", "c2") or s[0] in "AB"),
        }


_table_groups()


def sector_groups(dataset: str | None, labels: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Sector groups for a data set, restricted to sectors it has.

    A data set registered in :data:`SECTOR_GROUPS` gets its table. Otherwise, when every
    sector name of some registered table is among ``labels`` (e.g. an aggregated copy), that
    table is used; a data set with one sector gets ``goods`` = that sector when it is
    ``manufacturing``/``goods``-like.
    """
    if dataset in SECTOR_GROUPS:
        return {k: tuple(s for s in v if s in labels) for k, v in SECTOR_GROUPS[dataset].items()}
    have = set(labels)
    for table in SECTOR_GROUPS.values():
        if all(s in have for v in table.values() for s in v):
            return dict(table)
    low = {s.lower(): s for s in labels}
    out: dict[str, tuple[str, ...]] = {}
    goods = tuple(s for s in labels if s.lower() in {"goods", "manufacturing", "agriculture", "mining"})
    services = tuple(s for s in labels if s.lower() in {"services", "service"})
    if goods:
        out["goods"] = goods
    if services:
        out["services"] = services
    if "manufacturing" in low:
        out["manufacturing"] = (low["manufacturing"],)
    return out
