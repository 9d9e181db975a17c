"""Shared fixtures of the ims2025 tests: the data set, its calibration, the benchmark economy."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import require_dataset


@pytest.fixture(scope="session")
def data():
    require_dataset("liberation2025")
    from kaifang.data import liberation2025 as lib

    return lib.load()


@pytest.fixture(scope="session")
def cal(data):
    from kaifang.models.ims2025 import calibrate

    return calibrate(data.trade, data.gdp, data.regions)


@pytest.fixture(scope="session")
def econ(cal):
    from kaifang.models.ims2025 import ModelSettings, build_economy

    return build_economy(cal, ModelSettings())


@pytest.fixture(scope="session")
def ustr(data, cal) -> np.ndarray:
    from kaifang.models.ims2025.policy import ustr_tariffs

    return ustr_tariffs(data.tariffs, cal.us)
