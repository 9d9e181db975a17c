"""Default trade elasticities theta by industry for the world input-output tables.

Source: Caliendo, L. and F. Parro (2015), "Estimates of the Trade and Welfare Effects of NAFTA",
*Review of Economic Studies* 82(1), Table 1: the sectoral dispersion parameters theta_j of the 20
tradable sectors (ISIC rev. 3), as distributed with the article's data (file ``T.txt`` of the
``cp2015`` data set; where their estimate was not significant -- Auto, Other transport -- the
paper uses its aggregate estimate 8.22, and so does the file). The paper uses theta = 8.22 for the
service sectors (which have no trade in its data); kaifang uses the same 8.22 for every service
industry of WIOD and ICIO, where services are traded: no sectoral estimate for services is given
there, so this is an assumption, recorded as such in every run's provenance.

Mapping: each industry of WIOD 2013 (NACE rev. 1.1, ``c1``-``c35``), WIOD 2016 (ISIC rev. 4,
``A01``-``U``) and OECD ICIO 2023 (ISIC rev. 4, ``A01_02``-``T``) is mapped to the Caliendo-Parro
sectors it covers (:data:`MAPPINGS`). An industry that covers several of their sectors gets the
average of their theta weighted by the sectors' world trade in the cp2015 data (1993 imports,
``xbilat1993``): WIOD 2013 ``c12`` basic and fabricated metals (Basic metals 3.28, Metal
products 6.99 -> 4.3671), ``c14`` electrical and optical equipment (Office 12.95, Electrical
12.91, Communication 3.95, Medical 8.71 -> 8.9699), ``c15`` transport equipment (Auto 8.22, Other
transport 8.22 -> 8.22); ISIC rev. 4 ``C26`` computer, electronic and optical products (Office,
Communication, Medical -> 7.9229). These weighted values are recomputed from the data files in the
tests. Every theta can be overridden per sector in a scenario's ``[parameters] theta``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "CP2015_THETA",
    "MAPPINGS",
    "SERVICE_THETA",
    "SOURCE",
    "WEIGHTED",
    "default_theta",
    "known_classification",
]

SOURCE = (
    "Caliendo and Parro (2015), Table 1 (the cp2015 data's T.txt), mapped by industry; services 8.22 as "
    "in the paper (an assumption for traded services)"
)

#: Caliendo-Parro (2015) theta of their 20 tradable sectors (Table 1; file T.txt of cp2015).
CP2015_THETA: dict[str, float] = {
    "Agriculture": 9.11,
    "Mining": 13.53,
    "Food": 2.62,
    "Textile": 8.10,
    "Wood": 11.50,
    "Paper": 16.52,
    "Petroleum": 64.85,
    "Chemicals": 3.13,
    "Plastic": 1.67,
    "Minerals": 2.41,
    "Basic metals": 3.28,
    "Metal products": 6.99,
    "Machinery n.e.c.": 1.45,
    "Office": 12.95,
    "Electrical": 12.91,
    "Communication": 3.95,
    "Medical": 8.71,
    "Auto": 8.22,
    "Other transport": 8.22,
    "Other manufacturing": 3.98,
}

#: theta of the service sectors in Caliendo and Parro (2015).
SERVICE_THETA = 8.22

#: Trade-weighted averages for industries that cover several Caliendo-Parro sectors: the
#: members' theta weighted by their world imports of 1993 in the cp2015 data (xbilat1993.txt).
WEIGHTED: dict[tuple[str, ...], float] = {
    ("Basic metals", "Metal products"): 4.3671,
    ("Office", "Electrical", "Communication", "Medical"): 8.9699,
    ("Office", "Communication", "Medical"): 7.9229,
    ("Auto", "Other transport"): 8.22,
}

_S = ("services",)
_WIOD2013 = {
    "c1": ("Agriculture",),
    "c2": ("Mining",),
    "c3": ("Food",),
    "c4": ("Textile",),
    "c5": ("Textile",),
    "c6": ("Wood",),
    "c7": ("Paper",),
    "c8": ("Petroleum",),
    "c9": ("Chemicals",),
    "c10": ("Plastic",),
    "c11": ("Minerals",),
    "c12": ("Basic metals", "Metal products"),
    "c13": ("Machinery n.e.c.",),
    "c14": ("Office", "Electrical", "Communication", "Medical"),
    "c15": ("Auto", "Other transport"),
    "c16": ("Other manufacturing",),
    **{f"c{k}": _S for k in range(17, 36)},
}
_ISIC4_GOODS = {
    "C16": ("Wood",),
    "C19": ("Petroleum",),
    "C20": ("Chemicals",),
    "C21": ("Chemicals",),
    "C22": ("Plastic",),
    "C23": ("Minerals",),
    "C24": ("Basic metals",),
    "C25": ("Metal products",),
    "C26": ("Office", "Communication", "Medical"),
    "C27": ("Electrical",),
    "C28": ("Machinery n.e.c.",),
    "C29": ("Auto",),
    "C30": ("Other transport",),
}
_ICIO_SERVICES = "D E F G H49 H50 H51 H52 H53 I J58T60 J61 J62_63 K L M N O P Q R S T".split()
_ICIO = {
    "A01_02": ("Agriculture",),
    "A03": ("Agriculture",),
    "B05_06": ("Mining",),
    "B07_08": ("Mining",),
    "B09": ("Mining",),
    "C10T12": ("Food",),
    "C13T15": ("Textile",),
    **_ISIC4_GOODS,
    "C17_18": ("Paper",),
    "C31T33": ("Other manufacturing",),
    **{s: _S for s in _ICIO_SERVICES},
}
_WIOD2016_SERVICES = (
    "D35 E36 E37-E39 F G45 G46 G47 H49 H50 H51 H52 H53 I J58 J59_J60 J61 J62_J63 K64 K65 K66 L68 "
    "M69_M70 M71 M72 M73 M74_M75 N O84 P85 Q R_S T U"
).split()
_WIOD2016 = {
    "A01": ("Agriculture",),
    "A02": ("Agriculture",),
    "A03": ("Agriculture",),
    "B": ("Mining",),
    "C10-C12": ("Food",),
    "C13-C15": ("Textile",),
    **_ISIC4_GOODS,
    "C17": ("Paper",),
    "C18": ("Paper",),
    "C31_C32": ("Other manufacturing",),
    "C33": ("Machinery n.e.c.",),
    **{s: _S for s in _WIOD2016_SERVICES},
}

#: Industry -> the Caliendo-Parro sectors it covers (``("services",)`` for services), per
#: classification. WIOD 2016 ``C33`` (repair and installation of machinery) is mapped to
#: Machinery n.e.c., where ISIC rev. 3 put most of it; ICIO ``C31T33`` (which includes it) to
#: Other manufacturing, the larger part.
MAPPINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "wiod2013": _WIOD2013,
    "wiod2016": _WIOD2016,
    "icio": _ICIO,
}


def _theta_of(members: tuple[str, ...]) -> float:
    if members == _S:
        return SERVICE_THETA
    if len(members) == 1:
        return CP2015_THETA[members[0]]
    return WEIGHTED[members]


def known_classification(sectors: Sequence[str]) -> str | None:
    """The classification (``wiod2013``, ``wiod2016``, ``icio``) that has every label, or ``None``."""
    have = set(sectors)
    for name, mapping in MAPPINGS.items():
        if have <= set(mapping):
            return name
    return None


def default_theta(
    sectors: Sequence[str], classification: str | None = None
) -> tuple[np.ndarray, dict[str, str]] | None:
    """Default theta for ``sectors`` of a classification, and where each value comes from.

    Parameters
    ----------
    sectors
        Industry labels.
    classification
        ``wiod2013``, ``wiod2016`` or ``icio``; found from the labels when ``None``.

    Returns
    -------
    (theta, origin) or None
        ``origin`` maps each sector to the Caliendo-Parro sectors its value comes from; ``None``
        when the labels belong to no known classification.
    """
    name = classification if classification in MAPPINGS else known_classification(sectors)
    if name is None:
        return None
    mapping: Mapping[str, tuple[str, ...]] = MAPPINGS[name]
    if not set(sectors) <= set(mapping):
        return None
    theta = np.array([_theta_of(mapping[s]) for s in sectors])
    origin = {
        s: (
            "services (Caliendo-Parro use 8.22)"
            if mapping[s] == _S
            else " + ".join(mapping[s]) + (" (trade-weighted)" if len(mapping[s]) > 1 else "")
        )
        for s in sectors
    }
    return theta, origin
