"""Full validation without solving: validate_scenario, `kaifang validate`, `kaifang run a b`,
strict types and bounded settings."""

from __future__ import annotations

import json

import pytest

from helpers import require_dataset
from kaifang.cli import main
from kaifang.errors import ScenarioError
from kaifang.models import validate_scenario
from kaifang.scenario import parse_scenario
from kaifang.store import ResultsStore

DEMO = 'name = "t"\nmodel = "caliendo_parro"\ndataset = "demo"\n'
TARIFF = '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAA"\nexporter = "XBB"\nvalue = 10\n'


def _sc(text: str, source: str = "s.toml"):
    return parse_scenario(text, source=source)


def test_validate_scenario_composes_shocks_against_the_data_set():
    require_dataset("cp2015")
    sc = _sc('name="t"\nmodel="caliendo_parro"\ndataset="cp2015"\n' + TARIFF.replace('"XAA"', '"Chna"'))
    with pytest.raises(
        ScenarioError,
        match=r"s\.toml: field 'shocks\[0\]\.importer': unknown region 'Chna'\. Did you mean 'CHN'",
    ):
        validate_scenario(sc)


def test_validate_scenario_solves_nothing(monkeypatch):
    """Validation goes through the runner's prepare step only: the solver is never called."""
    import kaifang.models.caliendo_parro.runner as cp

    def boom(*a, **k):
        raise AssertionError("validation must not solve")

    monkeypatch.setattr(cp, "solve", boom)
    report = validate_scenario(_sc(DEMO + TARIFF))
    assert report.complete and report.warnings == ()
    # 4 sectors of the demo world, one importer-exporter pair
    assert report.summary == {"regions": 5, "sectors": 4, "shocks": 1, "shocked_cells": 4}
    assert report.to_document()["valid"] is True
    with pytest.raises(ScenarioError, match=r"field 'solver\.tol' has value inf"):
        validate_scenario(_sc(DEMO + "[solver]\ntol = inf\n" + TARIFF))


def test_run_validates_every_file_before_solving_any(tmp_path, capsys):
    good, bad = tmp_path / "a.toml", tmp_path / "bad.toml"
    good.write_text(DEMO + TARIFF)
    bad.write_text(DEMO + "[solver]\nmax_iter = 0\n" + TARIFF)  # only the model's own section is wrong
    out = tmp_path / "results"
    rc = main(["run", str(good), str(bad), "--out", str(out)])
    cap = capsys.readouterr()
    assert rc == 2
    assert "1 of 2 scenario files are not valid; nothing was solved or stored" in cap.err
    assert (
        "bad.toml: field 'solver.max_iter' has value 0" in cap.err and "valid range: 1 <= max_iter" in cap.err
    )
    assert cap.out == ""  # no table of a.toml
    assert not out.exists() and ResultsStore().run_ids() == []


def test_validate_command_exit_codes_warnings_and_json(tmp_path, capsys):
    ok, noop, bad = tmp_path / "ok.toml", tmp_path / "noop.toml", tmp_path / "bad.toml"
    ok.write_text(DEMO + TARIFF)
    noop.write_text(DEMO + TARIFF.replace("value = 10", "value = 0"))
    bad.write_text(DEMO + TARIFF.replace('"XBB"', '"XBX"'))
    assert main(["validate", str(ok), str(noop)]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "shocks[0] changes nothing: it adds 0 points" in out
    assert main(["validate", str(noop), "--strict"]) == 2
    assert "strict mode (--strict) turns warnings into errors" in capsys.readouterr().out
    assert main(["validate", str(ok), str(bad), "--json"]) == 2
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["valid"] for d in docs] == [True, False]
    assert docs[0]["warnings"] == [] and docs[0]["summary"]["shocked_cells"] == 4
    assert "unknown region 'XBX'" in docs[1]["errors"][0] and "'XBB'" in docs[1]["errors"][0]


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            TARIFF.replace("value = 10", "value = true"),
            r"'shocks\[0\]\.value' has value true \(a boolean\): expected a number",
        ),
        (
            TARIFF.replace("value = 10", 'value = "25"'),
            r"'shocks\[0\]\.value' has value '25' \(a string\): expected a number",
        ),
        (
            TARIFF + 'mirror = "yes"\n',
            r"'shocks\[0\]\.mirror' has value 'yes' \(a string\): expected true or false",
        ),
        (
            TARIFF.replace('importer = "XAA"', "importer = 5"),
            r"'shocks\[0\]\.importer' has value 5 \(an integer\).*selector",
        ),
        (TARIFF + "label = 3\n", r"'shocks\[0\]\.label' has value 3 \(an integer\): expected a string"),
        ("[baseline]\ndeficits = 0\n" + TARIFF, r"'baseline\.deficits' has value 0"),
        (
            "[solver]\nmax_iter = 10.0\n" + TARIFF,
            r"'solver\.max_iter' has value 10\.0 \(a number\): expected a whole number",
        ),
    ],
)
def test_strict_types_name_file_field_and_value(body, pattern):
    with pytest.raises(ScenarioError, match=r"s\.toml: field " + pattern):
        validate_scenario(_sc(DEMO + body))


def test_strict_types_of_the_common_fields():
    with pytest.raises(
        ScenarioError, match=r"s\.toml: field 'name' has value 1 \(an integer\): expected a string"
    ):
        _sc('name = 1\nmodel = "gravity"\ndataset = "agtpa"\n')


def test_integers_are_numbers():
    sc = _sc(DEMO + "[solver]\ntol = 0\n" + TARIFF)
    with pytest.raises(
        ScenarioError,
        match=r"'solver\.tol' has value 0 \(an integer\): out of range; valid range: 1e-15 <= tol <= 0\.001",
    ):
        validate_scenario(sc)
    assert validate_scenario(_sc(DEMO + "[solver]\ndamping = 1\n" + TARIFF)).complete  # 1 is a number


GRAVITY = (
    'name = "g"\nmodel = "gravity"\ndataset = "agtpa"\n[baseline]\nyear = {year}\n[parameters]\nsigma = {sigma}\n'
    'reference = "DEU"\n[solver]\ntol = {tol}\n[output]\nseed = {seed}\ndraws = {draws}\n'
    '[[shocks]]\ntype = "iceberg"\nimporter = "USA"\nexporter = "CAN"\nvalue = -10\n'
)
OK = {"year": 2006, "sigma": 7, "tol": 1e-12, "seed": 1, "draws": 0}
IMS = 'name = "i"\nmodel = "ims2025"\ndataset = "liberation2025"\n[parameters]\neps = {eps}\n[solver]\ntol = {tol}\n'


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        (
            GRAVITY.format(**{**OK, "year": '"1994"'}),
            r"'baseline\.year' has value '1994' \(a string\): expected a whole number",
        ),
        (
            GRAVITY.format(**{**OK, "tol": "inf"}),
            r"'solver\.tol' has value inf .*valid range: 1e-15 <= tol <= 0\.001",
        ),
        (
            GRAVITY.format(**{**OK, "sigma": "inf"}),
            r"'parameters\.sigma' has value inf .*valid range: 1\.1 <= sigma <= 100",
        ),
        (
            GRAVITY.format(**{**OK, "seed": -1}),
            r"'output\.seed' has value -1 .*valid range: 0 <= seed <= 4294967295",
        ),
        (
            GRAVITY.format(**{**OK, "draws": 1000000000}),
            r"'output\.draws' has value 1000000000 .*0 <= draws <= 100000",
        ),
        (
            IMS.format(eps="1e-6", tol=1e-12),
            r"'parameters\.eps' has value 1e-06 .*valid range: 0\.5 <= eps <= 50",
        ),
        (IMS.format(eps=4, tol="nan"), r"'solver\.tol' has value nan .*not a finite number"),
        (DEMO + "[solver]\nmemory = 1000\n", r"'solver\.memory' has value 1000 .*1 <= memory <= 100"),
    ],
)
def test_bounded_settings_name_file_field_value_and_range(text, pattern):
    """Sections are checked before any data is read, so these need no data set."""
    with pytest.raises(ScenarioError, match=r"s\.toml: field " + pattern):
        validate_scenario(_sc(text))


def test_draws_that_do_not_fit_in_memory_are_refused_before_drawing(monkeypatch):
    from kaifang.models.gravity import runner

    monkeypatch.setattr(runner, "_available_memory", lambda: 2**30)  # 1 GiB free
    sc = _sc(GRAVITY.format(**OK))
    # 100,000 draws for 69 countries, 10 float64 arrays of (draws, N, N) at the peak
    per_draw = 69**2 * 8 * 10
    need_gib, fit = 100_000 * per_draw / 2**30, 2**30 // per_draw  # 35.5 GiB; 2819 draws fit
    with pytest.raises(
        ScenarioError,
        match=rf"'output\.draws' has value 100000: .* about {need_gib:.1f} GiB .*use at most {fit} draws",
    ):
        runner._check_draw_memory(100_000, 69, sc)
    runner._check_draw_memory(fit, 69, sc)
    with pytest.raises(ScenarioError):
        runner._check_draw_memory(fit + 1, 69, sc)


def test_a_section_the_model_does_not_read_is_refused():
    with pytest.raises(
        ScenarioError, match=r"field 'policy': the caliendo_parro model has no \[policy\] section"
    ):
        validate_scenario(_sc(DEMO + '[policy]\noptimal_tariff = "XAA"\n' + TARIFF))


def test_other_warnings_pass_through_validation_once(monkeypatch):
    """A library warning (not a KaifangWarning) raised while a scenario is prepared reaches the
    caller once, also inside an outer recorder that records everything (as the web app does);
    it used to be recorded and re-emitted in a loop without end."""
    import warnings

    import kaifang
    from kaifang.models import caliendo_parro as _cp  # noqa: F401
    from kaifang.models import validate_scenario
    from kaifang.models.caliendo_parro import runner

    real = runner.load_baseline

    def noisy(*args, **kwargs):
        warnings.warn("a library's deprecation", DeprecationWarning, stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "load_baseline", noisy)
    sc = kaifang.parse_scenario(
        'name = "d"\nmodel = "caliendo_parro"\ndataset = "demo"\n[[shocks]]\ntype = "tariff"\n'
        'op = "add"\nimporter = "XAA"\nexporter = "XBB"\nvalue = 10\n'
    )
    with warnings.catch_warnings(record=True) as outer:
        warnings.simplefilter("always")
        validate_scenario(sc)
    assert [str(w.message) for w in outer if w.category is DeprecationWarning] == ["a library's deprecation"]
