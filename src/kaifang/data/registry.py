"""The registry of public data sets: where each file comes from and its SHA-256.

Nothing model-specific lives here: a data set is a named set of files with checksums.
Readers that turn files into tables live beside it, one module per data set or file format
(e.g. :mod:`kaifang.data.cp2015`, :mod:`kaifang.data.wiod2013`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DATASETS",
    "WORLD_KINDS",
    "Access",
    "DataFile",
    "Dataset",
    "WorldKind",
    "get_dataset",
    "providers",
]

#: Kinds of calibrated world a data set can provide and a model can need (``kaifang.baseline``):
#: ``multisector`` (flows by sector, input-output and final-demand shares: Caliendo-Parro),
#: ``inputoutput`` (a world input-output table: value chains), ``onesector`` (one square matrix
#: of flows, domestic sales included: one-sector structural gravity; a multi-sector world gives
#: one by summing its sectors), ``gravity_panel`` (a bilateral panel with domestic flows and
#: pair variables: gravity estimation), ``ims2025`` (the 2025 tariff-war world).
WorldKind = Literal["multisector", "inputoutput", "onesector", "gravity_panel", "ims2025"]
WORLD_KINDS: tuple[str, ...] = ("multisector", "inputoutput", "onesector", "gravity_panel", "ims2025")

#: How the files of a data set are obtained: ``files`` (registered files with checksums),
#: ``by_year`` (one file per year, fetched or placed locally on request; checksums recorded when
#: fetched), ``user_file`` (the user's own file, named in the scenario), ``generated`` (made locally).
Access = Literal["files", "by_year", "user_file", "generated"]

_GH = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class DataFile:
    """One file of a data set.

    Parameters
    ----------
    name
        File name inside the data set folder (also its name in the mirror).
    sha256
        Expected SHA-256 of the file's bytes.
    url
        Public download address; ``None`` for a file that only a local mirror provides.
    size
        Size in bytes (shown to users before downloads).
    """

    name: str
    sha256: str
    url: str | None
    size: int


@dataclass(frozen=True)
class Dataset:
    """A named public data set.

    Attributes
    ----------
    name, title, citation, source, notes
        Identity and description (shown by ``kaifang data list``).
    files
        Registered files with their SHA-256 (empty for data sets fetched by year or given by the user).
    synthetic
        True for generated illustrative data (flagged in every output).
    licence
        The licence or terms of use as the source states them ("see source" where the source
        states none).
    homepage
        The address of the source (or of the mirror the files are fetched from).
    provides
        The kinds of calibrated world it can be turned into (:data:`WORLD_KINDS`); a model that
        needs a kind runs on every data set that provides it.
    access
        How its files are obtained (:data:`Access`).
    years
        The years it covers (for tables published one file per year).
    """

    name: str
    title: str
    citation: str
    source: str
    files: tuple[DataFile, ...]
    synthetic: bool = False
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    licence: str = "see source"
    homepage: str = ""
    provides: tuple[str, ...] = ()
    access: Access = "files"
    years: tuple[int, ...] = ()

    @property
    def size(self) -> int:
        """Total size in bytes of all files."""
        return sum(f.size for f in self.files)

    def file(self, name: str) -> DataFile:
        """Return the file entry called ``name`` (KeyError with the list otherwise)."""
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(f"data set {self.name!r} has no file {name!r}; files: {[f.name for f in self.files]}")


def _agtpa_url(path: str) -> str:
    return f"{_GH}/pachadotdev/tradepolicy/main/{path}"


_AGTPA = Dataset(
    name="agtpa",
    title="An Advanced Guide to Trade Policy Analysis (WTO/UNCTAD 2016): structural gravity panels",
    citation=(
        "Yotov, Piermartini, Monteiro and Larch, An Advanced Guide to Trade Policy Analysis: "
        "The Structural Gravity Model, WTO and UNCTAD, 2016."
    ),
    source="github.com/pachadotdev/tradepolicy (branch main); UNCTAD Virtual Institute archive",
    licence="CC BY 4.0 (the tradepolicy package; copyright the United Nations)",
    homepage="https://github.com/pachadotdev/tradepolicy",
    files=(
        DataFile(
            "Chapter1Exercise1.dta",
            "bc6bf01c885e4f50cecb9de8af2c622efc8b3a4b4c2f0a0f46edecb1ca8d89b2",
            _agtpa_url("00-application-files/Chapter1/Datasets/Chapter1Exercise1.dta"),
            948182,
        ),
        DataFile(
            "Chapter1Exercise2.dta",
            "dad3bb71ccfb4c179b03d77ddb87d38641f723f94cf0b43de25a331153a379a2",
            _agtpa_url("00-application-files/Chapter1/Datasets/Chapter1Exercise2.dta"),
            1108542,
        ),
        DataFile(
            "Chapter2Application2.dta",
            "60ead74eb51db9c4d0406a4b7668e97cbedbeaccf324beba362123f7ae547547",
            _agtpa_url("00-application-files/Chapter2/Datasets/Chapter2Application2.dta"),
            3709529,
        ),
        DataFile(
            "agtpa_applications.rda",
            "b12e7e336d5d444aba1e38014a8776ccee58c9110d8dcf6d50fe0a4195375610",
            _agtpa_url("data/agtpa_applications.rda"),
            742369,
        ),
        DataFile(
            "agtpa_applications.csv.gz",
            "4e0c5a8b0af88f98ce9c67db84b4677e20989c2895716cb4e61411dc451f2003",
            None,  # a lossless CSV conversion of the .rda, provided by mirrors only
            2606559,
        ),
    ),
    notes="Manufacturing trade of 69 countries, 1986-2006, domestic flows included.",
    provides=("onesector", "gravity_panel"),
)

_CP = "paulofelipe/cp2015-jax/main/original_data"
_CP2015 = Dataset(
    name="cp2015",
    title="Caliendo and Parro (2015) NAFTA data: 31 regions x 40 sectors, 1993",
    citation=(
        "Caliendo, L. and F. Parro, 'Estimates of the Trade and Welfare Effects of NAFTA', "
        "Review of Economic Studies 82(1), 2015."
    ),
    source="supplementary data of the article, mirrored at github.com/paulofelipe/cp2015-jax",
    licence="see source (the article's supplementary data; no licence stated)",
    homepage="https://academic.oup.com/restud/article/82/1/1/1547758",
    files=tuple(
        DataFile(name, sha, f"{_GH}/{_CP}/{name}", size)
        for name, sha, size in [
            ("B.txt", "ab6f6686938468052112aeb69a9ece4005e3991faa54a6075994f3e4a28c032f", 14411),
            ("GO.txt", "ee6b27f50bde6f79cf275fe8037dd92be7a3fa4feda7b9ea89278b53a5d8b151", 13996),
            ("IO.txt", "844447e2b9db61b91aa64786d4a4dace1553f4c4c240174a9235a76a4b8ce05e", 475649),
            ("T.txt", "0e9daba39ed0a13bad5e516e459de221d2720f18f791823b8a9e62e8df61c6e8", 104),
            ("tariffs1993.txt", "f6824dac7831dbf0bffc2a1c2ff2c37292ef59eec10b9d67fbfb8f5bd1eeb506", 87480),
            ("tariffs2005.txt", "75f6c5113bb07e2e7c1d5ba3ff9f36b3c51491850ead998b60558e30e7ed90c8", 76823),
            ("xbilat1993.txt", "dcc0ae3a5b21ebc8e3c864df7e097da9bdbdf6a661ed6fc92d95aa25dc65a116", 146841),
        ]
    ),
    provides=("multisector", "onesector"),
)

_WIOD44 = Dataset(
    name="wiod44",
    title="ge_gravity example data (Baier, Yotov and Zylkin 2019): 44 economies, WIOD 2000-2014",
    citation=(
        "Baier, Yotov and Zylkin, 'On the Widely Differing Effects of Free Trade Agreements', "
        "Journal of International Economics 116, 2019."
    ),
    source="github.com/VKudlay/GEGravity (branch master), Stata/GE_gravity_example_data.dta",
    licence="GPL-3 (the GEGravity package)",
    homepage="https://github.com/VKudlay/GEGravity",
    files=(
        DataFile(
            "GE_gravity_example_data.dta",
            "7ee1449250cc98c2b508f2a346a6bbe1c528e68cb931b5857427afd708726a27",
            f"{_GH}/VKudlay/GEGravity/master/Stata/GE_gravity_example_data.dta",
            300187,
        ),
    ),
    provides=("onesector", "gravity_panel"),
)

_LD = "JoeLoera/liberation-day-replication/main/data/base_data"
_LIBERATION = Dataset(
    name="liberation2025",
    title="2023 trade among 194 economies and the 2025 US 'Liberation Day' tariffs",
    citation=(
        "Ignatenko, Lashkaripour, Macedoni and Simonovska, 'Making America Great Again? The "
        "Economic Impacts of Liberation Day Tariffs', Journal of International Economics, 2025."
    ),
    source="the authors' replication package (data/base_data), mirrored at github.com/JoeLoera/liberation-day-replication",
    licence="see source (the authors' terms; the mirror's MIT licence covers its code only)",
    homepage="https://github.com/JoeLoera/liberation-day-replication",
    files=tuple(
        DataFile(name, sha, f"{_GH}/{_LD}/{name}", size)
        for name, sha, size in [
            ("country_labels.csv", "f38268db3d579a6454313d7824d9d6f717be5a3c69cd05a64b713c6650ecf2ff", 3544),
            ("gdp.csv", "8b0fcf7a3af21bb98c8390f74a70724beb5bad84f7c0f765ec0a2f41b704a6df", 3582),
            ("tariffs.csv", "8355252af75c98bdaad720da2e64932099959ff4decdafccb18a10c23bc2bb25", 841),
            ("trade_cepii.csv", "bd11e31857895ee12bc636bc8c5f854918ce2ba2855faea0488df67b8a992e4d", 466205),
        ]
    ),
    provides=("ims2025", "onesector"),
)

_WIOD13 = "bquast/wiod/59a28ac22fbd7751ea84c0f33722b5246b0af46d/data"
_WIOD2013 = Dataset(
    name="wiod2013",
    title="World Input-Output Database, 2013 release: 41 regions x 35 industries, 1995-2011",
    citation=(
        "Timmer, Dietzenbacher, Los, Stehrer and de Vries, 'An Illustrated User Guide to the World "
        "Input-Output Database: the Case of Global Automotive Production', Review of International "
        "Economics 23, 2015."
    ),
    source=(
        "WIOD 2013 release (University of Groningen, www.wiod.org), in R format in the repository "
        "of the R package wiod, github.com/bquast/wiod (folder data/, commit 59a28ac)"
    ),
    licence=(
        "see source (no licence stated for the 2013 release; www.wiod.org asks users to cite "
        "Timmer et al. 2015; the wiod R package that carries the files is GPL-3)"
    ),
    homepage="https://www.rug.nl/ggdc/valuechain/wiod/",
    files=tuple(
        DataFile(f"wiot_{year}.RData", sha, f"{_GH}/{_WIOD13}/wiot_{year}.RData", size)
        for year, sha, size in [
            (1995, "99a6ab25f7bcca2870cfa83f8f6171eeb09d93b39263b2a15f8236b3302d1ad6", 350798),
            (1996, "19425170930dfd9cdd2f572d0ac63332a3571af42850fd8047629f49de4acf04", 358172),
            (1997, "7c9809158cdb324f1ab04e799888faaa5980f174167fc3e823653cf80a0565ae", 362818),
            (1998, "af7579310f67f9a1f247012f4f39f1d9d380609f31189c97355c8746194a6c13", 363465),
            (1999, "3a6e0498b08a39cb6624f513c29ec1a13f69b55dcf5a80f9cf11283264ff5dba", 365093),
            (2000, "da660ec5c0c6c50a592243bfbf59bab4601e9cc46fac348c96ab5079d542c96b", 377987),
            (2001, "f87eab8a1191436ab2fe3b405b62613758bb6ea5c8321cb16eae62cb3f62784e", 379500),
            (2002, "b118e5ea89350308a7ca0d5996ca69456ed2a0812539fbd6f69bb3c631b5b532", 389182),
            (2003, "9615154d61b42c8f46c28d42f411cf118045b8a24fd8e8f08e22eef741efeafe", 415930),
            (2004, "954e94099a9d07bf8561bda145e410101995ef1d256a3b0463a54e116585175d", 448643),
            (2005, "7cec43e8fcdf58ef8552fb6c1b4f34bb3b6810a6b59cadf569934537228454cc", 468263),
            (2006, "5f9bd9fa6f9e2937495bbd627755387f41e942ac4dc68d2e14e8e347522527d7", 493541),
            (2007, "c1dff55344680ad3a7dd2ecb377e034fff5e98221c616c4b0a3ed46c7f0f8690", 525035),
            (2008, "acfd78fd426fc9656933811b1065d9ef79f2cecf8e1d85eec4ca42626cf2648f", 551684),
            (2009, "f8001ea936f2dda6fbedf93168c24780920cf55145c309349d1e62856634fb7d", 508641),
            (2010, "9d4cc68266e3c723bbf308370e911b91f3b4cf41051b43af5036d1e6cc423148", 514130),
            (2011, "8345949612ef0ed824e4e07e140b0ce0b4c77a758975116544a2db660560efb0", 540904),
        ]
    ),
    notes=(
        "World input-output tables, millions of current US dollars at basic prices, rounded to "
        "integers; 40 countries and the rest of the world (RoW); services traded. Free to use "
        "with the citation."
    ),
    provides=("multisector", "inputoutput", "onesector"),
    years=tuple(range(1995, 2012)),
)

_DEMO = Dataset(
    name="demo",
    title="SYNTHETIC demo world generated by kaifang (not real data)",
    citation="Synthetic; generated deterministically by kaifang.data.demo. Not real data.",
    source="generated locally, no download",
    licence="MIT (generated by kaifang)",
    files=(),
    synthetic=True,
    notes="A small illustrative world (a handful of regions and sectors) for offline use.",
    provides=("multisector", "onesector"),
    access="generated",
)

_ICIO = Dataset(
    name="icio",
    title="OECD Inter-Country Input-Output tables, 2023 edition: 76 economies + rest of world x 45 industries, 1995-2020",
    citation="OECD (2023), OECD Inter-Country Input-Output Database, http://oe.cd/icio.",
    source=(
        "OECD, oe.cd/icio: one CSV per year, distributed in five-year zip bundles (the download addresses "
        "of the pymrio package); `kaifang data fetch icio --year YEAR` downloads one"
    ),
    files=(),
    notes=(
        "Millions of current US dollars at basic prices; China and Mexico split tables (CN1/CN2, MX1/MX2) "
        "are summed into CHN and MEX. The checksum of each year's file is recorded when it is fetched "
        "and checked on every later read."
    ),
    licence="OECD terms and conditions (free to use with attribution to the OECD)",
    homepage="https://www.oecd.org/en/data/datasets/inter-country-input-output-tables.html",
    provides=("multisector", "inputoutput", "onesector"),
    access="by_year",
    years=tuple(range(1995, 2021)),
    extra={
        "file_pattern": "ICIO2023_{year}.csv",
        "how_to_get": (
            "Run `kaifang data fetch icio --year {year}` (downloads the five-year bundle that holds it), or "
            "put the year's CSV of the 2023 edition there as ICIO2023_{year}.csv, or name your copy in "
            "[baseline] file."
        ),
    },
)

_WIOD2016 = Dataset(
    name="wiod2016",
    title="World Input-Output Database, 2016 release: 43 countries + rest of world x 56 industries, 2000-2014",
    citation=(
        "Timmer, Dietzenbacher, Los, Stehrer and de Vries, 'An Illustrated User Guide to the World "
        "Input-Output Database: the Case of Global Automotive Production', Review of International "
        "Economics 23, 2015."
    ),
    source=(
        "WIOD 2016 release, www.rug.nl/ggdc/valuechain/wiod/wiod-2016-release (R format: WIOTS_in_R.zip, "
        "files WIOT<year>_October16_ROW.RData); put the files in <cache or mirror>/wiod2016/ or name one "
        "in [baseline] file"
    ),
    files=(),
    notes="Millions of current US dollars at basic prices; services traded. Free to use with the citation.",
    licence="free to use with the citation of Timmer et al. (2015)",
    homepage="https://www.rug.nl/ggdc/valuechain/wiod/wiod-2016-release",
    provides=("multisector", "inputoutput", "onesector"),
    access="by_year",
    years=tuple(range(2000, 2015)),
    extra={
        "file_pattern": "WIOT{year}_October16_ROW.RData",
        "how_to_get": (
            "Download the R version of the release (WIOTS_in_R.zip) from "
            "https://www.rug.nl/ggdc/valuechain/wiod/wiod-2016-release, unzip WIOT{year}_October16_ROW.RData "
            "into <cache>/wiod2016/ (or the mirror's wiod2016/), or name the file in [baseline] file."
        ),
    },
)

_MRIO = Dataset(
    name="mrio",
    title="Your own multi-region input-output table (long format, CSV or Parquet)",
    citation="As given by the user (cite the source of your table).",
    source="a file named in the scenario's [baseline] file (see docs/datasets.md for the format)",
    files=(),
    notes="E.g. an export of a licensed GTAP database, or your own aggregation of WIOD or ICIO.",
    licence="yours (the licence of the table you give)",
    provides=("multisector", "inputoutput", "onesector"),
    access="user_file",
)

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (_CP2015, _AGTPA, _WIOD44, _LIBERATION, _WIOD2013, _ICIO, _WIOD2016, _MRIO, _DEMO)
}


def providers(kind: str) -> tuple[str, ...]:
    """Names of the registered data sets that provide a world of ``kind`` (see :data:`WORLD_KINDS`)."""
    return tuple(d.name for d in DATASETS.values() if kind in d.provides)


def get_dataset(name: str) -> Dataset:
    """Return the registered data set ``name`` or raise a :class:`~kaifang.errors.DataError`."""
    from kaifang.errors import DataError, suggest

    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(
            f"unknown data set {name!r}.{suggest(name, DATASETS)} "
            f"Known data sets: {', '.join(DATASETS)} (see `kaifang data list`)."
        ) from None
