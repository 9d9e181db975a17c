"""The JSON Schema of the scenario format and the templates of `kaifang new`."""

from __future__ import annotations

import json
import tomllib
import warnings
from pathlib import Path

import jsonschema
import pytest

from helpers import have_dataset, require_dataset
from kaifang.cli import main
from kaifang.errors import KaifangWarning
from kaifang.models import validate_scenario
from kaifang.models.authoring import (
    TEMPLATE_DATASETS,
    scenario_json_schema,
    scenario_template,
    shipped_schema,
)
from kaifang.scenario import load_scenario, parse_scenario

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.toml"))
TEMPLATES = [(m, d) for m, ds in TEMPLATE_DATASETS.items() for d in ds]


@pytest.fixture(scope="module")
def validator():
    schema = scenario_json_schema()
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema)


def test_the_shipped_schema_is_the_generated_one():
    assert shipped_schema() == scenario_json_schema(), (
        "regenerate: kaifang schema > src/kaifang/scenario/scenario.schema.json"
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_library_files_match_the_schema_and_validate(path, validator):
    data = tomllib.loads(path.read_text())
    errors = [e.message for e in validator.iter_errors(data)]
    assert not errors, errors
    if data["dataset"] != "demo":
        require_dataset(data["dataset"])
    report = validate_scenario(load_scenario(path))  # returns the warnings, emits none
    assert report.complete


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('[[shocks]]\ntype = "tariff"\nop = "add"\nvalue = true\n', "boolean for a number"),
        ('[[shocks]]\ntype = "tariff"\nop = "add"\nvalue = 5\nmirror = "yes"\n', "string for a boolean"),
        ("[solver]\ntol = 1.0\n", "tolerance above its range"),
        ("[solver]\nmax_iter = 0\n", "iterations below their range"),
        ("[output]\ndraws = 10\n", "a section caliendo_parro does not read"),
        ("shockz = []\n", "unknown top-level field"),
        ('[[shocks]]\ntype = "policy"\nvariable = "rta"\nvalue = 0\n', "a shock type of another model"),
        (
            '[[shocks]]\ntype = "tariff"\nop = "add"\nvalue = 5\nexporter = { exept = "CHN" }\n',
            "misspelt except",
        ),
    ],
)
def test_the_schema_rejects_what_validation_rejects(validator, body, why):
    data = tomllib.loads('name = "t"\nmodel = "caliendo_parro"\ndataset = "cp2015"\n' + body)
    assert list(validator.iter_errors(data)), why


def test_the_schema_accepts_exceptions_and_groups(validator):
    data = tomllib.loads(
        'name = "t"\nmodel = "caliendo_parro"\ndataset = "cp2015"\n[groups]\nNOGER = { select = "EU", except = ["DEU"] }\n'
        '[[shocks]]\ntype = "tariff"\nop = "set"\nimporter = "USA"\nexporter = { except = "CHN" }\nvalue = 10\n'
    )
    assert not list(validator.iter_errors(data))


@pytest.mark.parametrize(("model", "dataset"), TEMPLATES, ids=[f"{m}-{d}" for m, d in TEMPLATES])
def test_templates_pass_the_schema_and_validation(model, dataset, validator):
    text = scenario_template(model, dataset)
    assert not list(validator.iter_errors(tomllib.loads(text)))
    if dataset != "demo" and not have_dataset(dataset):
        pytest.skip(
            f"data set {dataset!r} not available locally (KAIFANG_DATA_MIRROR or `kaifang data fetch {dataset}`)"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error", KaifangWarning)
        report = validate_scenario(parse_scenario(text, source=f"{model}.toml"))
    assert report.complete and report.warnings == ()


def test_kaifang_new_writes_and_never_overwrites(tmp_path, capsys):
    assert main(["new", "--model", "caliendo_parro", "--dataset", "demo"]) == 0
    assert 'model = "caliendo_parro"' in capsys.readouterr().out
    f = tmp_path / "my.toml"
    assert main(["new", "--model", "caliendo_parro", "--dataset", "demo", "--out", str(f)]) == 0
    assert main(["validate", str(f)]) == 0
    f.write_text("mine")
    assert main(["new", "--model", "gravity", "--out", str(f)]) == 2
    assert "already exists" in capsys.readouterr().err and f.read_text() == "mine"
    assert main(["new", "--model", "gravity", "--dataset", "cp2015"]) == 2
    assert "the gravity model runs on agtpa, wiod44" in capsys.readouterr().err
    assert main(["new", "--model", "caliendo-parro"]) == 2
    assert "Did you mean 'caliendo_parro'" in capsys.readouterr().err


def test_kaifang_schema_prints_the_schema(capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == scenario_json_schema()
