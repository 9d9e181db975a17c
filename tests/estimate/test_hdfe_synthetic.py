"""The synthetic gravity-panel generator: seeded, sized, zero share, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.errors import UserInputError
from kaifang.estimate.synthetic import TRUE_COEF, gravity_panel


def test_same_seed_same_panel_and_requested_size():
    a = gravity_panel(5_000, n_years=5, seed=4, zero_share=0.2)
    b = gravity_panel(5_000, n_years=5, seed=4, zero_share=0.2)
    assert len(a.data) == 5_000
    assert a.data.equals(b.data)
    assert not a.data.equals(gravity_panel(5_000, n_years=5, seed=5, zero_share=0.2).data)
    assert a.coef == TRUE_COEF


def test_zero_share_and_conditional_mean():
    p = gravity_panel(40_000, n_years=5, seed=1, zero_share=0.46)
    share = float((p.data["trade"] == 0).mean())
    assert abs(share - 0.46) < 0.01  # binomial sd is 0.0025
    # E[trade] = mean: the ratio trade / mean has expectation 1 at any share of zeros
    ratio = p.data["trade"].to_numpy() / p.mean
    assert abs(ratio.mean() - 1.0) < 0.03


def test_fixed_effect_codes_are_consistent():
    d = gravity_panel(3_000, n_years=3, seed=2).data
    assert (d["exp_year"] == d["exporter"] * 3 + d["year"]).all()
    assert (d.groupby("pair")[["exporter", "importer"]].nunique() == 1).all().all()
    assert (d["exporter"] != d["importer"]).all()
    assert np.isfinite(d[["rta", "ln_tariff", "x1", "x2"]].to_numpy()).all()


def test_bad_arguments():
    with pytest.raises(UserInputError, match=r"zero_share must be in \[0, 1\)"):
        gravity_panel(1_000, zero_share=1.0)
    with pytest.raises(UserInputError, match="unknown coefficient"):
        gravity_panel(1_000, coef={"tariff": 1.0})
    with pytest.raises(UserInputError, match="n_rows >= 4"):
        gravity_panel(10, n_years=10)


def test_agtpa_profile_has_real_data_spread_and_small_flow_zeros():
    a = gravity_panel(40_000, n_years=6, seed=1, zero_share=0.2, profile="agtpa")
    s = gravity_panel(40_000, n_years=6, seed=1, zero_share=0.2)
    trade = a.data["trade"].to_numpy()
    assert abs(float((trade == 0).mean()) - 0.2) < 0.01
    # zeros sit on small expected flows (as in the Advanced Guide panel), not at random
    assert np.median(a.mean[trade == 0]) < 0.01 * np.median(a.mean[trade > 0])
    # the spread of log flows is that of real gravity data (3.5 in the Advanced Guide panel),
    # much wider than the simple profile's
    sd_agtpa = np.log(trade[trade > 0]).std()
    sd_simple = np.log(s.data["trade"].to_numpy()[s.data["trade"].to_numpy() > 0]).std()
    assert sd_agtpa > 2.5 > sd_simple
    # E[trade] = mean row by row: the ratio's average is 1 within 4 standard errors
    ratio = trade / a.mean
    assert abs(ratio.mean() - 1.0) < 4 * ratio.std() / np.sqrt(ratio.size)
    with pytest.raises(UserInputError, match="profile must be"):
        gravity_panel(1_000, profile="real")
