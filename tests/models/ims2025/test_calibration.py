"""Calibration identities (docs/ims2025.md, "Calibration", steps 1-4) and the calibrated ν
against the authors' values."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from scipy.optimize import fsolve

from kaifang.baseline.ims2025 import (
    NU_TARGETS,
    aggregate_two_regions,
    calibrate,
    nu_moments,
    transfers,
)
from kaifang.models.ims2025 import ModelSettings, build_economy
from kaifang.models.ims2025.model import phi_tilde
from reference import ims2025 as pub

pytestmark = pytest.mark.data


def _raw_csv(name: str) -> np.ndarray:
    """A file of the data set as numbers, straight from the CSV (empty cells are 0): no kaifang reader."""
    from kaifang.data import locate

    with open(locate("liberation2025", name), newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(x) if x.strip() else 0.0 for x in r] for r in rows])


def test_nu_equals_the_authors_values():
    """ν = (0.114335, 0.270471) (non-US, USA) as the authors' replication code gets them.

    The two-region moments are written out here from the raw files: region 1 = the 193 non-US
    economies, region 2 = the USA; X11 is the trade among non-US economies (about 17 trillion
    USD) and stays in the sums, X22 = 0.
    """
    X = _raw_csv("trade_cepii.csv")
    np.fill_diagonal(X, 0.0)
    Y = _raw_csv("gdp.csv")[:, 0] / 1000.0
    us = 184  # USA is number 185 in country_labels.csv
    non = np.arange(X.shape[0]) != us
    X2 = np.array([[X[non][:, non].sum(), X[non, us].sum()], [X[us, non].sum(), 0.0]])
    Y2 = np.array([Y[non].sum(), Y[us]])
    assert 1.6e13 < X2[0, 0] * 1e3 < 1.8e13  # thousands of USD -> USD

    def moments(nu):
        E = Y2 + (1 - nu) * (X2.sum(axis=0) - X2 @ (1 - nu))
        r11 = (E[0] - X2[1, 0]) / (E[0] - X2[1, 0] + X2[0, 1])
        r22 = (E[1] - X2[0, 1]) / (E[1] - X2[0, 1] + X2[1, 0])
        return [(1 - r11) * nu[1] + r11 * nu[0] - 0.12, r22 * nu[1] + (1 - r22) * nu[0] - 0.26]

    own = fsolve(moments, [0.1, 0.24], xtol=1e-13)
    np.testing.assert_allclose(own, pub.NU_AUTHORS, rtol=0, atol=0.5 * 10.0**-pub.NU_DECIMALS)
    from kaifang.data import liberation2025 as lib

    d = lib.load()
    cal = calibrate(d.trade, d.gdp, d.regions)
    np.testing.assert_allclose(cal.nu_pair, pub.NU_AUTHORS, rtol=0, atol=0.5 * 10.0**-pub.NU_DECIMALS)
    np.testing.assert_allclose(moments(np.array(cal.nu_pair)), 0.0, atol=1e-12)


def test_nu_targets_are_met(data, cal):
    """Both ν moments (0.12 and 0.26) hold at the calibrated pair, on the two-region aggregate."""
    X2, Y2 = aggregate_two_regions(data.trade, data.gdp / 1000.0, cal.us)
    assert NU_TARGETS == (0.12, 0.26)
    np.testing.assert_allclose(nu_moments(np.array(cal.nu_pair), X2, Y2), 0.0, atol=1e-12)
    assert 0 < cal.nu_pair[0] < 1 and 0 < cal.nu_pair[1] < 1
    assert cal.nu[cal.us] == cal.nu_pair[1]
    assert np.all(np.delete(cal.nu, cal.us) == cal.nu_pair[0])


def test_spending_equals_income_plus_transfers(cal):
    np.testing.assert_allclose(cal.E, cal.Y + cal.T, rtol=1e-13)
    np.testing.assert_allclose(cal.E, cal.X.sum(axis=0), rtol=1e-13)  # E_i = sum_j X_ji
    # Y_i = sum_k (1 - nu_k) X_ik + nu_i sum_j X_ji
    np.testing.assert_allclose(
        cal.Y, (cal.X * (1 - cal.nu)[None, :]).sum(axis=1) + cal.nu * cal.E, rtol=1e-13
    )
    assert abs(cal.T.sum()) <= 1e-12 * cal.E.sum()  # world transfers net out


def test_shares_sum_to_one(cal):
    np.testing.assert_allclose(cal.lam.sum(axis=0), 1.0, rtol=0, atol=1e-14)
    assert (cal.lam >= 0).all()


def test_domestic_sales_from_first_pass_spending(data, cal):
    """X_ii = max(Y_i + T_i - imports_i, 0) with T from the raw flows (step 3)."""
    Y = data.gdp / 1000.0
    E1 = Y + transfers(data.trade, cal.nu)
    expected = np.maximum(E1 - data.trade.sum(axis=0), 0.0)
    np.testing.assert_allclose(np.diag(cal.X), expected, rtol=1e-13)
    off = ~np.eye(cal.n, dtype=bool)
    assert np.array_equal(cal.X[off], data.trade[off])  # off-diagonal flows are the data


def test_given_nu_skips_the_calibration(data):
    c = calibrate(data.trade, data.gdp, data.regions, nu=(0.1, 0.2))
    assert c.nu_pair == (0.1, 0.2)


def test_phi_tilde_closed_form():
    """With nu = 0, phi_tilde = (1 + theta)/theta - 1/theta - 1 = 0, so phi = 1 (complete)."""
    assert phi_tilde(np.array([0.0]), 6.0)[0] == pytest.approx(0.0, abs=1e-15)
    # and it rises with nu: 1/(1 - nu) scaling of (1 + theta)/theta
    assert phi_tilde(np.array([0.2]), 6.0)[0] == pytest.approx((7 / 6) / 0.8 - 1 / 6 - 1)


def test_variants(cal):
    bench = build_economy(cal, ModelSettings())
    theta = 4 / 0.67
    np.testing.assert_allclose(bench.phi, 1 + phi_tilde(cal.nu, theta))
    assert bench.psi == pytest.approx(0.67 / 4)
    inc = build_economy(cal, ModelSettings(pass_through="incomplete"))
    np.testing.assert_allclose(inc.phi, 0.25 + phi_tilde(cal.nu, theta))
    ek = build_economy(cal, ModelSettings(variant="eaton_kortum"))
    assert (ek.nu == 0).all() and (ek.phi == 1).all()
    np.testing.assert_allclose(ek.Y, cal.X.sum(axis=1))
    np.testing.assert_allclose(ek.T, cal.E - ek.Y)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="pass_through must be one of"):
        ModelSettings(pass_through="partial")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps must be > 0"):
        ModelSettings(eps=0)
