"""Bad tables and options: a sentence that names what is wrong (and a suggestion), never a traceback."""

from __future__ import annotations

import numpy as np
import pytest
from gvc_worlds import random_table

from kaifang import valuechains as vc
from kaifang.baseline import InputOutputTable
from kaifang.errors import BaselineError, UserInputError


def arrays():
    t = random_table(11, G=2, N=2)
    return np.array(t.Z), np.array(t.Y), np.array(t.x)


LABELS = {"regions": ("A", "B"), "sectors": ("g", "s")}


def test_table_that_does_not_balance_names_the_worst_row_and_gap():
    Z, Y, x = arrays()
    x[2] *= 1.2  # B/g claims 20% more output than it sells
    with pytest.raises(BaselineError, match=r"does not balance: B/g sells .* a gap of"):
        InputOutputTable.from_arrays(Z, Y, x, **LABELS)


def test_negative_intermediate_flow_is_refused():
    Z, Y, _ = arrays()
    Z[0, 3] = -1.0
    with pytest.raises(BaselineError, match=r"intermediate flow from A/g to B/s is -1"):
        InputOutputTable.from_arrays(Z, Y, **LABELS)


def test_zero_output_industry_that_exports_is_refused():
    # A/s has no output and buys nothing, yet "exports" 0.4 of final goods to B: rounding-level
    # sales the table's balance check lets through, but exports without output have no origin.
    Z = np.array([[2.0, 0, 1, 1], [0, 0, 0, 0], [1, 0, 3, 2], [1, 0, 2, 3]])
    Y = np.array([[10.0, 5], [0, 0.4], [4, 12], [3, 15]])
    x = Z.sum(axis=1) + Y.sum(axis=1)
    x[1] = 0.0
    t = InputOutputTable.from_arrays(Z, Y, x, rounding=1.0, **LABELS)
    with pytest.raises(vc.ValueChainError, match=r"A/s has zero gross output but exports 0.4"):
        vc.prepare(t)
    assert issubclass(vc.ValueChainError, UserInputError)


def test_zero_output_industry_that_buys_inputs_is_refused():
    Z, Y, x = arrays()
    x[1] = 0.0
    Y[1] = 0.0
    Z[1] = 0.0
    with pytest.raises(BaselineError, match=r"A/s has zero gross output but buys"):
        InputOutputTable.from_arrays(Z, Y, x, **LABELS)


def test_zero_output_industry_without_trade_is_allowed():
    # C5: like WIOD 2011's 22 empty industries
    t = random_table(12, G=3, N=2, zero_output=True)
    assert t.x[1] == 0
    k = vc.kww(t)
    np.testing.assert_allclose(k[list(vc.KWW_TERMS)].sum(axis=1), k["texp"], rtol=1e-12)


def test_singular_leontief_matrix_is_a_sentence():
    # A/g sells its whole output to itself: no value added, I - A singular.
    Z = np.array([[10.0, 0, 0, 0], [1, 2, 1, 1], [0, 1, 2, 1], [0, 1, 1, 2]])
    Y = np.array([[0.0, 0], [10, 5], [4, 12], [3, 15]])
    t = InputOutputTable.from_arrays(Z, Y, **LABELS)
    with pytest.raises(
        vc.ValueChainError, match=r"Leontief inverse .* does not exist .* A/g uses inputs worth 1"
    ):
        vc.prepare(t)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (
            lambda t: vc.wwz(t, by="pairs"),
            r"wwz: by 'pairs' is not one of pair, sector. Did you mean 'pair'\?",
        ),
        (
            lambda t: vc.leontief(t, by="contry"),
            r"leontief: by 'contry' is not one of country, sector. Did you mean 'country'",
        ),
        (lambda t: vc.indicators(t, by="sectors"), r"Did you mean 'sector'"),
        (lambda t: vc.kww(t, fdc="residuals"), r"kww: fdc 'residuals' is not one of residual, closed"),
    ],
)
def test_option_typos_list_the_valid_values(call, pattern):
    with pytest.raises(vc.ValueChainError, match=pattern):
        call(random_table(13))


def test_not_a_table_is_a_type_error():
    with pytest.raises(TypeError, match="InputOutputTable"):
        vc.kww(np.eye(4))
