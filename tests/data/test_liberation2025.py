"""The liberation2025 reader: labels, arrays, checks, and the calibrated one-sector baseline."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers import require_dataset
from kaifang.data import liberation2025 as lib
from kaifang.errors import DataError, DataUnavailableError


@pytest.fixture(scope="module")
def data():
    require_dataset("liberation2025")
    return lib.load()


@pytest.fixture
def folder(tmp_path) -> Path:
    """A writable copy of the data set's four files."""
    require_dataset("liberation2025")
    from kaifang.data import locate

    for name in lib.FILES:
        shutil.copy(locate("liberation2025", name), tmp_path / name)
    return tmp_path


def test_labels_are_iso3_in_file_order(data):
    # country_labels.csv: 194 economies, alphabetical by iso3; USA 185, China 34, Canada 31, Mexico 115
    assert data.n == 194
    assert list(data.regions) == sorted(data.regions)
    assert all(len(c) == 3 and c.isupper() for c in data.regions)
    for code, number in [("USA", 185), ("CHN", 34), ("CAN", 31), ("MEX", 115)]:
        assert data.index(code) == number - 1
    assert data.index("united states") == data.index("USA")  # names work too


def test_arrays_have_the_documented_shape_and_units(data):
    assert data.trade.shape == (194, 194)
    assert np.all(np.diag(data.trade) == 0) and (data.trade >= 0).all()
    assert data.gdp.shape == (194,) and (data.gdp > 0).all()
    # US GDP in 2023 was about 27 trillion USD (WDI); trade is in thousands of USD
    assert 2.5e13 < data.gdp[data.index("USA")] < 3.0e13
    us_imports = data.trade[:, data.index("USA")].sum() * 1e3
    assert 2.5e12 < us_imports < 3.5e12  # US goods imports 2023 ~ 3.1 trillion USD
    assert data.tariffs.shape == (194,) and (data.tariffs >= 0).all()
    # rates announced on 2 April 2025: EU members 20 %, Japan 24 %, Vietnam 46 %, UK 10 %
    for code, rate in [("DEU", 0.20), ("FRA", 0.20), ("JPN", 0.24), ("VNM", 0.46), ("GBR", 0.10)]:
        assert data.tariffs[data.index(code)] == pytest.approx(rate)
    assert set(data.files) == set(lib.FILES)


def test_trade_array_is_labelled(data):
    x = data.trade_array()
    assert x.dims == ("exporter", "importer")
    assert float(x.sel(exporter="CHN", importer="USA")) == data.trade[data.index("CHN"), data.index("USA")]


def test_unknown_region_label_suggests(data):
    with pytest.raises(DataError, match=r"region 'USX' is not a region of data set 'liberation2025'.*'USA'"):
        data.index("USX")


def test_tariff_file_of_wrong_length(folder):
    lines = (folder / "tariffs.csv").read_text().splitlines()
    (folder / "tariffs.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(DataError, match=r"tariffs.csv: the tariff file has 193 value\(s\), expected 194"):
        lib.load(folder)


def test_negative_tariff_rate(folder):
    lines = (folder / "tariffs.csv").read_text().splitlines()
    lines[3] = "-.05"
    (folder / "tariffs.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"the tariff on AGO \(row 4\) is -0.05, negative"):
        lib.load(folder)


def test_non_numeric_tariff(folder):
    lines = (folder / "tariffs.csv").read_text().splitlines()
    lines[2] = "abc"
    (folder / "tariffs.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"non-numeric value 'abc' in row 3"):
        lib.load(folder)


def test_missing_data_file(folder):
    (folder / "gdp.csv").unlink()
    with pytest.raises(
        DataUnavailableError, match=r"data file 'gdp.csv' of data set 'liberation2025' is missing"
    ):
        lib.load(folder)


def test_missing_user_tariff_file(folder):
    with pytest.raises(DataUnavailableError, match=r"tariff file .*mine.csv' does not exist"):
        lib.load(folder, tariff_file=folder / "mine.csv")


def test_trade_matrix_of_wrong_shape(folder):
    lines = (folder / "trade_cepii.csv").read_text().splitlines()
    (folder / "trade_cepii.csv").write_text("\n".join(lines[:-2]) + "\n")
    with pytest.raises(DataError, match=r"trade matrix has shape \(192, 194\), expected \(194, 194\)"):
        lib.load(folder)


def test_one_sector_baseline_is_consistent(data):
    """Flows incl. domestic add up to expenditure and output; transfers sum to zero."""
    from kaifang.baseline.ims2025 import one_sector_baseline

    b = one_sector_baseline(data)
    assert b["flows"].dims == ("importer", "exporter")
    flows = b["flows"]
    np.testing.assert_allclose(flows.sum("exporter").values, b["expenditure"].values, rtol=1e-12)
    np.testing.assert_allclose(flows.sum("importer").values, b["output"].values, rtol=1e-12)
    np.testing.assert_allclose(b["expenditure"] - b["income"], b["transfers"], rtol=0, atol=1e-6)
    assert abs(float(b["transfers"].sum())) < 1e-9 * float(b["expenditure"].sum())
    # off-diagonal flows are the data; the diagonal holds the domestic sales built from GDP
    usa, chn = "USA", "CHN"
    assert float(flows.sel(importer=usa, exporter=chn)) == data.trade[data.index(chn), data.index(usa)]
    assert (np.diag(flows.values) >= 0).all() and float(flows.sel(importer=usa, exporter=usa)) > 0


def test_the_trade_file_is_parsed_once_and_each_load_gets_its_own_arrays(folder, monkeypatch):
    calls = []
    real = lib.read_trade
    monkeypatch.setattr(lib, "read_trade", lambda path, n: calls.append(path) or real(path, n))
    a = lib.load(folder)
    a.trade[0, 1] = -1.0  # a caller's change stays its own
    b = lib.load(folder)
    assert len(calls) == 1
    assert b.trade[0, 1] != -1.0
    np.testing.assert_array_equal(b.trade, real(folder / "trade_cepii.csv", 194))
    # a user's own tariff file is read on every load (it may have just been edited)
    mine = folder / "mine.csv"
    mine.write_text("applied_tariff\n" + "0.5\n" * 194)
    assert (lib.load(folder, tariff_file=mine).tariffs == 0.5).all()
    mine.write_text("applied_tariff\n" + "0.25\n" * 194)
    assert (lib.load(folder, tariff_file=mine).tariffs == 0.25).all()
    assert len(calls) == 1


def test_a_changed_trade_file_is_read_again(folder):
    before = lib.load(folder)
    lines = (folder / "trade_cepii.csv").read_text().splitlines()
    (folder / "trade_cepii.csv").write_text("\n".join(lines[:-2]) + "\n")  # 192 rows now
    with pytest.raises(DataError, match=r"trade matrix has shape \(192, 194\)"):
        lib.load(folder)
    assert before.trade.shape == (194, 194)
