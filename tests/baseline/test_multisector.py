"""The multi-sector baseline: construction from raw tables and validation messages."""

from __future__ import annotations

import numpy as np
import pytest

from cp_worlds import random_raw
from kaifang.baseline import MultiSectorBaseline, from_raw
from kaifang.data.demo import generate
from kaifang.errors import BaselineError


@pytest.fixture(scope="module")
def demo():
    return from_raw(generate())


def test_demo_world_is_consistent_and_synthetic(demo):
    assert demo.synthetic and demo.dataset == "demo"
    assert len(demo.regions) == 5 and all(r.startswith("X") for r in demo.regions)
    assert list(demo.tradable) == [True, True, True, False]
    np.testing.assert_allclose(demo.gamma_va + demo.gamma_io.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(demo.alpha.sum(axis=1), 1.0, atol=1e-12)
    assert (demo.flows[:, :, :3] > 0).all()
    assert np.abs(demo.deficit / demo.value_added).max() > 0.01  # non-zero deficits
    assert demo.deficit.sum() == pytest.approx(0, abs=1e-6 * demo.value_added.sum())


def test_demo_is_deterministic():
    a, b = generate(), generate()
    assert a.files == b.files
    np.testing.assert_array_equal(a.imports, b.imports)
    assert generate(seed=1).files != a.files


def test_derived_quantities_follow_their_definitions(demo):
    np.testing.assert_allclose(demo.shares.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(demo.gross_output, demo.flows.sum(axis=0))
    np.testing.assert_allclose(demo.income, demo.value_added + demo.tariff_revenue + demo.deficit)
    xr = demo.to_xarray()
    assert xr["flows"].dims == ("importer", "exporter", "sector")
    assert float(xr["flows"].sel(importer="XAA", exporter="XBB", sector="Farming")) == demo.flows[0, 1, 0]


def test_baseline_is_immutable(demo):
    with pytest.raises(ValueError):
        demo.flows[0, 0, 0] = 1.0
    with pytest.raises(AttributeError):
        demo.flows = demo.flows  # type: ignore[misc]


def test_negative_flow_names_label_and_value(demo):
    flows = np.array(demo.flows)
    flows[0, 1, 2] = -5.0
    with pytest.raises(BaselineError, match=r"flows\[importer=XAA, exporter=XBB, sector=Machinery\] is -5"):
        demo.replace(flows=flows)


def test_shares_not_summing_to_one(demo):
    alpha = np.array(demo.alpha)
    alpha[2, 0] += 0.1
    with pytest.raises(BaselineError, match=r"final-demand shares alpha of XCC sum to 1.1"):
        demo.replace(alpha=alpha)
    gva = np.array(demo.gamma_va)
    gva[1, 3] += 0.01
    with pytest.raises(BaselineError, match=r"cost shares of Services in XBB .* sum to 1.01"):
        demo.replace(gamma_va=gva)


def test_inconsistent_labels(demo):
    with pytest.raises(BaselineError, match=r"duplicate region labels \['XAA'\]"):
        demo.replace(regions=("XAA", "XAA", "XCC", "XDD", "XEE"))
    with pytest.raises(BaselineError, match=r"flows has shape \(5, 5, 4\), expected \(6, 6, 4\)"):
        demo.replace(regions=(*demo.regions, "XFF"))


def test_zero_expenditure_and_tariffs(demo):
    tau = np.array(demo.tariff)
    tau[0, 1, 0] = -1.5
    with pytest.raises(
        BaselineError, match=r"tariff\[importer=XAA, exporter=XBB, sector=Farming\] is -150.0%"
    ):
        demo.replace(tariff=tau)
    flows = np.array(demo.flows)
    flows[:, :, 3] = 0.0
    flows[0, 0, 3] = 0.0
    with pytest.raises(BaselineError, match=r"expenditure of XAA on Services is 0"):
        demo.replace(flows=flows)


def test_from_raw_rejects_bad_value_added_share():
    raw = random_raw(0, 3, 2)
    beta = raw.va_share.copy()
    beta[1, 0] = 1.2
    with pytest.raises(BaselineError, match=r"value-added share of S0 in R1 is 1.2, outside \[0, 1\]"):
        from_raw(type(raw)(**{**raw.__dict__, "va_share": beta}))


def test_from_raw_rejects_io_columns_far_from_one():
    raw = random_raw(0, 3, 2)
    io = raw.io.copy()
    io[2, :, 1] *= 0.5
    with pytest.raises(BaselineError, match=r"input-output coefficients of S1 in R2 sum to 0.5"):
        from_raw(type(raw)(**{**raw.__dict__, "io": io}))


def test_cp2015_baseline_construction():
    from helpers import require_dataset

    require_dataset("cp2015")
    from kaifang.data.cp2015 import read_cp2015

    raw = read_cp2015()
    b = from_raw(raw)
    assert isinstance(b, MultiSectorBaseline)
    # gross output raised to exports where the data has less, domestic sales = GO - EX >= 0
    np.testing.assert_allclose(
        b.gross_output, np.maximum(raw.gross_output, raw.imports.sum(axis=0)), rtol=1e-12
    )
    # the one negative IO coefficient in the files is recorded, not hidden
    assert "IO[CAN, Other manufacturing -> Basic metals]" in b.note
    assert set(b.files) >= {"xbilat1993.txt", "IO.txt"}
