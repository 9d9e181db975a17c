"""Default trade elasticities: every industry of WIOD 2013, WIOD 2016 and ICIO 2023 has one, and
the values are those of Caliendo and Parro (2015), recomputed here from their data files."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.baseline.elasticities import CP2015_THETA, MAPPINGS, SERVICE_THETA, WEIGHTED, default_theta
from kaifang.data.icio import INDUSTRY_NAMES as ICIO
from kaifang.data.wiod2013 import INDUSTRY_NAMES as WIOD13
from kaifang.data.wiod2016 import INDUSTRY_NAMES as WIOD16


@pytest.mark.parametrize(("name", "labels"), [("wiod2013", WIOD13), ("wiod2016", WIOD16), ("icio", ICIO)])
def test_every_industry_has_a_default(name, labels):
    assert set(MAPPINGS[name]) == set(labels)
    theta, origin = default_theta(list(labels), name)
    assert np.all(theta > 0) and set(origin) == set(labels)


def test_services_get_the_papers_value():
    theta, _ = default_theta(["c27", "c28", "c33"])
    np.testing.assert_array_equal(theta, SERVICE_THETA)
    assert SERVICE_THETA == 8.22
    theta, _ = default_theta(["J61", "K", "Q"])
    np.testing.assert_array_equal(theta, 8.22)


def test_unknown_labels_have_no_default():
    assert default_theta(["steel", "cars"]) is None


def test_values_are_those_of_the_cp2015_files():
    """T.txt of the article's data; the trade-weighted averages from its 1993 imports."""
    require_dataset("cp2015")
    from kaifang.data.cp2015 import SECTORS, TRADABLE_SECTORS, read_cp2015

    raw = read_cp2015()
    for k, s in enumerate(SECTORS[:TRADABLE_SECTORS]):
        assert CP2015_THETA[s] == raw.theta[k]
    trade = raw.imports.sum(axis=(0, 1))
    for members, value in WEIGHTED.items():
        idx = [SECTORS.index(m) for m in members]
        assert value == pytest.approx((trade[idx] * raw.theta[idx]).sum() / trade[idx].sum(), abs=5e-5)
