"""Expanding a [sweep] section into scenario points: order, values, substitution, and every
bad input as a sentence (kaifang.scenario.sweep)."""

from __future__ import annotations

import math
import sys
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from sweep_helpers import DEMO_BASE, GRID

from kaifang.cli import main
from kaifang.scenario import parse_scenario
from kaifang.scenario.sweep import (
    MAX_POINTS,
    SweepError,
    dump_toml,
    load_sweep,
    parse_field_path,
    parse_sweep,
)


def _text(sweep: str) -> str:
    return DEMO_BASE.format(sweep=sweep)


def test_grid_order_values_and_substitution():
    sw = parse_sweep(_text(GRID), source="s.toml")
    assert len(sw) == 6 and sw.labels == ("tariff", "coalition")
    # the first dimension varies slowest (itertools.product order)
    assert [tuple(p.values.values()) for p in sw.points] == [
        (0, ["XBB"]),
        (0, "all"),
        (10, ["XBB"]),
        (10, "all"),
        (30, ["XBB"]),
        (30, "all"),
    ]
    p = sw.points[3]
    shocks = p.scenario.shocks
    # both fields of the first dimension take the point's value; the rest of the base is kept
    assert shocks[0]["value"] == 10 and shocks[1]["value"] == 10 and shocks[1]["importer"] == "all"
    assert shocks[0]["importer"] == "XAA" and p.scenario.solver == {"tol": 1e-10, "max_iter": 5000}
    assert p.assignments == {"shocks[0].value": 10, "shocks[1].value": 10, "shocks[1].importer": "all"}
    assert p.scenario.name == "demo-war-p3"
    # the base scenario is the file without its [sweep] section and is not changed by the points
    assert sw.base.shocks[0]["value"] == 25 and "sweep" not in tomllib.loads(sw.base.text)


def test_point_text_is_a_complete_scenario_file():
    sw = parse_sweep(_text(GRID), source="s.toml")
    expected = tomllib.loads(_text(""))  # the base file as TOML, without a [sweep] section
    expected["shocks"][0]["value"] = expected["shocks"][1]["value"] = 30
    expected["shocks"][1]["importer"] = ["XBB"]
    p = sw.points[4]
    again = parse_scenario(p.scenario.text, source="again.toml")
    got = tomllib.loads(p.scenario.text)
    assert {k: got[k] for k in expected if k not in ("name", "description")} == {
        k: v for k, v in expected.items() if k not in ("name", "description")
    }
    assert again.name == "demo-war-p4" and "tariff = 30" in again.description
    assert sw.sha256 == __import__("hashlib").sha256(_text(GRID).encode()).hexdigest()


def test_list_mode_zips_and_requires_equal_lengths():
    zipped = GRID.replace('mode = "grid"', 'mode = "list"').replace(
        'values = [["XBB"], "all"]', 'values = [["XBB"], "all", ["XBB", "XCC"]]'
    )
    sw = parse_sweep(_text(zipped))
    assert [tuple(p.values.values()) for p in sw.points] == [(0, ["XBB"]), (10, "all"), (30, ["XBB", "XCC"])]
    with pytest.raises(
        SweepError,
        match=r"mode = 'list' zips the dimensions.*dimension\[0\] has 3, sweep.dimension\[1\] has 2",
    ):
        parse_sweep(_text(GRID.replace('mode = "grid"', 'mode = "list"')), source="s.toml")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("{start = 0, stop = 50, step = 10}", [0, 10, 20, 30, 40, 50]),
        ("{start = 50, stop = 0, step = -25}", [50, 25, 0]),
        ("{start = 0, stop = 45, step = 10}", [0, 10, 20, 30, 40]),  # stop not reached: not passed
        ("{start = 0.0, stop = 0.3, step = 0.1}", [0.0, 0.1, 0.2, 0.3]),  # exact decimal steps
        ("{start = 1, stop = 2, num = 5}", [1.0, 1.25, 1.5, 1.75, 2.0]),
    ],
)
def test_ranges(spec, expected):
    sw = parse_sweep(_text(f'[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = {spec}\n'))
    got = list(sw.dimensions[0].values)
    assert got == expected and [type(v) for v in got] == [type(v) for v in expected]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{start = 0, stop = 50, step = 0}", r"'step' must not be 0"),
        ("{start = 0, stop = 50, step = -10}", r"'step' = -10 goes away from 'stop' = 50.*flip its sign"),
        ("{start = 0, stop = 50}", r"give exactly one of 'step' or 'num'"),
        (
            "{start = 0, stop = 50, stpe = 10}",
            r"unknown field 'sweep.dimension\[0\].values.stpe'. Did you mean .*'step'",
        ),
        ("[]", r"'sweep.dimension\[0\].values' is empty"),
        ('"10"', r"give a list of values, or a range such as"),
    ],
)
def test_bad_values(spec, message):
    with pytest.raises(SweepError, match=message):
        parse_sweep(
            _text(f'[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = {spec}\n'),
            source="s.toml",
        )


def test_scale_multiplies_the_base_value():
    sw = parse_sweep(
        _text(
            '[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nop = "scale"\nvalues = [0.02, 0.5, 1]\n'
        )
    )
    assert [p.assignments["shocks[0].value"] for p in sw.points] == [25 * 0.02, 12.5, 25]
    assert [p.values["shocks[0].value"] for p in sw.points] == [0.02, 0.5, 1]  # the summary shows the share
    with pytest.raises(
        SweepError,
        match=r"op' = 'scale' multiplies the base value, but the base scenario's 'shocks\[0\].importer' is \"XAA\"",
    ):
        parse_sweep(
            _text('[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].importer"\nop = "scale"\nvalues = [1]\n'),
            source="s.toml",
        )


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            "shocks[0].valeu",
            r"s.toml: field 'sweep.dimension\[0\].field' = 'shocks\[0\].valeu': the base scenario does not set 'shocks\[0\].valeu'. Did you mean 'shocks\[0\].value'",
        ),
        ("shock[0].value", r"'shock' is not a scenario field. Did you mean 'shocks'"),
        (
            "shocks[2].value",
            r"'shocks\[2\]' does not exist: the base scenario has entries shocks\[0\] to shocks\[1\]",
        ),
        (
            "parameters.eps",
            r"does not set 'parameters'.*write the field with its default value in the base file",
        ),
        ("solver.max_iters", r"does not set 'solver.max_iters'. Did you mean 'solver.max_iter'"),
        ("shocks.value", r"'shocks' is a list: index it, e.g. 'shocks\[0\]'"),
        ("shocks[0]..value", r"is not a field path \(expected a name after '.'"),
        ("name", r"the name cannot be swept"),
        ("description", r"the description cannot be swept"),
    ],
)
def test_unknown_or_bad_field_is_named_with_the_closest(field, message):
    with pytest.raises(SweepError, match=message):
        parse_sweep(
            _text(f'[sweep]\n[[sweep.dimension]]\nfield = "{field}"\nvalues = [1, 2]\n'), source="s.toml"
        )


def test_field_paths():
    assert parse_field_path("policy.retaliation[0].by") == ("policy", "retaliation", 0, "by")
    assert parse_field_path('groups."EU core"') == ("groups", "EU core")
    for bad in ("", "[0].x", "a[x]", "a b"):
        with pytest.raises(ValueError):
            parse_field_path(bad)


def test_a_field_in_two_dimensions_and_duplicate_labels_are_refused():
    two = '[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = [1]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = [2]\n'
    with pytest.raises(SweepError, match=r"is already swept by sweep.dimension\[0\]"):
        parse_sweep(_text(two))
    labels = two.replace("values = [2]", 'values = [2]\nlabel = "x"').replace(
        "values = [1]", 'values = [1]\nlabel = "x"'
    )
    labels = labels.replace(
        'field = "shocks[0].value"\nvalues = [2]', 'field = "shocks[1].value"\nvalues = [2]'
    )
    with pytest.raises(SweepError, match=r"two sweep dimensions have the label 'x'"):
        parse_sweep(_text(labels))


def test_too_many_points_refused_before_anything_is_built():
    big = '[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = {start = 0, stop = 399, step = 1}\n[[sweep.dimension]]\nfield = "shocks[1].value"\nvalues = {start = 0, stop = 299, step = 1}\n'
    t0 = time.perf_counter()
    with pytest.raises(
        SweepError,
        match=r"s.toml: the sweep has 120,000 points \(400 x 300 in mode = 'grid'\), more than the 100,000 one sweep may have",
    ):
        parse_sweep(_text(big), source="s.toml")
    assert time.perf_counter() - t0 < 5  # refused from the counts, not by building 120,000 scenarios
    huge = '[sweep]\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = {start = 0, stop = 1, num = 1000000000}\n'
    with pytest.raises(SweepError, match=r"1,000,000,000 points"):
        parse_sweep(_text(huge), source="s.toml")
    assert MAX_POINTS == 100_000


def test_section_errors():
    with pytest.raises(SweepError, match=r"s.toml: has no \[sweep\] section.*kaifang run s.toml"):
        parse_sweep(_text(""), source="s.toml")
    with pytest.raises(SweepError, match=r"unknown field 'sweep.dimensions'. Did you mean 'dimension'"):
        parse_sweep(
            _text('[sweep]\n[[sweep.dimensions]]\nfield = "shocks[0].value"\nvalues = [1]\n'), source="s.toml"
        )
    with pytest.raises(SweepError, match=r"field 'sweep.mode' has value 'product'"):
        parse_sweep(
            _text(
                '[sweep]\nmode = "product"\n[[sweep.dimension]]\nfield = "shocks[0].value"\nvalues = [1]\n'
            ),
            source="s.toml",
        )
    with pytest.raises(SweepError, match=r"field 'sweep.dimension' is required but missing"):
        parse_sweep(_text('[sweep]\nmode = "grid"\n'), source="s.toml")
    with pytest.raises(SweepError, match=r"sweep file 'nope.toml' does not exist"):
        load_sweep("nope.toml")


def test_points_breaking_the_scenario_schema_are_reported_together():
    # the model's name must be text: points 0 and 2 are invalid, point 1 is fine; all are reported at once
    sw = '[sweep]\n[[sweep.dimension]]\nfield = "model"\nvalues = [1, "caliendo_parro", 2.5]\n'
    with pytest.raises(SweepError) as info:
        parse_sweep(_text(sw), source="s.toml")
    msg = str(info.value)
    assert msg.startswith("s.toml: 2 of 3 sweep points are invalid, so no point was solved")
    assert "point 0 (model = 1)" in msg and "point 2 (model = 2.5)" in msg and "point 1" not in msg


def test_kaifang_run_on_a_sweep_file_points_to_kaifang_sweep(write_sweep, capsys):
    path = write_sweep()
    assert main(["run", str(path), "--no-save", "--no-store"]) == 2
    assert "has a [sweep] section, so it is a sweep file" in capsys.readouterr().err


_keys = st.text(min_size=1, max_size=8)
_scalars = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(max_size=12),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)
_tables = st.recursive(
    st.dictionaries(_keys, _values, max_size=4),
    lambda inner: st.dictionaries(
        _keys, st.one_of(_values, inner, st.lists(inner, min_size=1, max_size=2)), max_size=4
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(_tables)
def test_dump_toml_round_trips(data):
    """What the point files are written with reads back (tomllib) as the same data."""
    back = tomllib.loads(dump_toml(data))

    def same(a, b):
        if isinstance(a, float) and isinstance(b, float):
            return a == b or (math.isinf(a) and a == b)
        if isinstance(a, dict):
            return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        return type(a) is type(b) and a == b

    assert same(data, back)
