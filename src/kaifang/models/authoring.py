"""Writing scenarios: the JSON Schema of the scenario format and commented templates.

:func:`scenario_json_schema` builds the schema from the same pydantic models that validate
scenarios (the common fields, the shock types and every model's sections), as JSON Schema
draft 4, the draft the TOML language server taplo (VS Code's "Even Better TOML") reads. The
package ships it as ``kaifang/scenario/scenario.schema.json``; ``kaifang schema`` prints it.
:func:`scenario_template` writes a commented scenario for a model and data set (``kaifang new``)
that passes :func:`kaifang.models.validate_scenario`.

The schema checks the form of a file (fields, types, ranges, closed choices); whether a region
or sector exists in the data set, and how shocks compose, only ``kaifang validate`` can say.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from kaifang.errors import UserInputError, suggest
from kaifang.models import RUNNERS
from kaifang.scenario import Scenario
from kaifang.scenario.select import GroupSpec, SelectorField  # noqa: F401  (documented types)
from kaifang.scenario.shocks import SHOCK_MODELS

__all__ = ["SCHEMA_FILE", "TEMPLATE_DATASETS", "model_info", "scenario_json_schema", "scenario_template"]

#: Where the package keeps the generated schema (inside ``kaifang.scenario``).
SCHEMA_FILE = "scenario.schema.json"
_REF = "#/definitions/{model}"


def _datasets(mod: Any) -> tuple[str, ...]:
    """The data sets a runner takes: its ``DATASETS``, or every data set providing its ``WORLD_KIND``."""
    if hasattr(mod, "WORLD_KIND"):
        from kaifang.data.registry import providers

        return tuple(providers(mod.WORLD_KIND))
    return tuple(getattr(mod, "DATASETS", ()))


def model_info(model: str) -> dict[str, Any]:
    """What a model's runner declares: its data sets, shock types, own shock models and sections."""
    mod = importlib.import_module(RUNNERS[model].partition(":")[0])
    shocks = tuple(getattr(mod, "SHOCK_TYPES", ()))
    return {
        "datasets": _datasets(mod),
        "shock_types": shocks,
        "shock_models": {
            t: {**SHOCK_MODELS, **getattr(mod, "OWN_SHOCKS", {})}[t]
            for t in shocks
            if t in SHOCK_MODELS or t in getattr(mod, "OWN_SHOCKS", {})
        },
        "sections": dict(getattr(mod, "SECTION_MODELS", {})),
    }


def _draft4(node: Any) -> Any:
    """Rewrite pydantic's (2020-12) schema into draft 4: ``const`` -> one-value ``enum``, numeric
    ``exclusiveMinimum``/``exclusiveMaximum`` -> boolean flags, no ``discriminator``."""
    if isinstance(node, list):
        return [_draft4(v) for v in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "discriminator":
            continue
        if k == "const":
            out["enum"] = [v]
        elif k == "exclusiveMinimum" and not isinstance(v, bool):
            out["minimum"], out["exclusiveMinimum"] = v, True
        elif k == "exclusiveMaximum" and not isinstance(v, bool):
            out["maximum"], out["exclusiveMaximum"] = v, True
        else:
            out[k] = _draft4(v)
    if "$ref" in out and len(out) > 1:  # draft 4 ignores a $ref's siblings: keep the reference only
        out = {"$ref": out["$ref"]}
    return out


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 4) of scenario files, one branch per model.

    Each branch is a complete object schema (``additionalProperties: false``): the common
    fields, ``model`` fixed to the model's name, ``dataset`` one of its data sets, its own
    sections and its shock types.
    """
    common = Scenario.model_json_schema(ref_template=_REF)["properties"]
    pieces: list[tuple[type[BaseModel], str]] = []
    infos = {m: model_info(m) for m in RUNNERS if m in ("caliendo_parro", "gravity", "ims2025")}
    for info in infos.values():
        pieces += [(cls, "validation") for cls in info["sections"].values()]
        pieces += [(cls, "validation") for cls in info["shock_models"].values()]
    pieces = list(dict.fromkeys(pieces))
    keys, defs = models_json_schema(pieces, ref_template=_REF)
    definitions = dict(defs.get("$defs", {}))
    groups_schema = Scenario.model_json_schema(ref_template=_REF)
    definitions.update(groups_schema.get("$defs", {}))

    def ref(cls: type[BaseModel]) -> dict[str, Any]:
        return keys[(cls, "validation")]

    branches = []
    for model, info in infos.items():
        props: dict[str, Any] = {
            "name": {**common["name"], "description": "identity of the scenario (tables, the results store)"},
            "description": {"type": "string", "description": "what the scenario assumes"},
            "model": {"enum": [model], "description": "the model that solves the scenario"},
            "dataset": {"enum": list(info["datasets"]), "description": "a registered data set"},
            "groups": {
                "type": "object",
                "description": "your own groups: NAME = [members] or { select = ..., except = ... }",
                "additionalProperties": common["groups"]["additionalProperties"],
            },
            "shocks": {
                "type": "array",
                "description": "the policy changes, applied in file order",
                "items": {"oneOf": [ref(cls) for cls in info["shock_models"].values()]},
            },
        }
        for section, cls in info["sections"].items():
            props[section] = ref(cls)
        branches.append(
            {
                "title": f"{model} scenario",
                "type": "object",
                "properties": props,
                "required": ["name", "model", "dataset"],
                "additionalProperties": False,
            }
        )
    schema = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "kaifang scenario",
        "description": "A kaifang scenario file (TOML); see docs/scenarios.md. Generated by `kaifang schema`.",
        "oneOf": branches,
        "definitions": definitions,
    }
    # pydantic qualifies the names of same-named section classes by module: shorten to the model
    text = json.dumps(_draft4(schema))
    for model in infos:
        text = text.replace(f"kaifang__models__{model}__runner__", f"{model}__")
    return json.loads(text)


def shipped_schema() -> dict[str, Any]:
    """The schema file shipped in the package."""
    ref = resources.files("kaifang.scenario") / SCHEMA_FILE
    return json.loads(ref.read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------------------
# Templates


#: Data sets with a template, per model (the first is the default of ``kaifang new``).
TEMPLATE_DATASETS: dict[str, tuple[str, ...]] = {
    "caliendo_parro": ("cp2015", "wiod2013", "demo"),
    "gravity": ("agtpa", "wiod44", "liberation2025", "wiod2013", "demo"),
    "ims2025": ("liberation2025",),
}

_EXAMPLE = {  # importer, exporter, sector of the example shock; gravity: baseline year and file
    "cp2015": ("USA", "CHN", "goods"),
    "wiod2013": ("USA", "CHN", "goods"),
    "demo": ("XAA", "XBB", "all"),
    "agtpa": ("USA", "CAN", 2006),
    "wiod44": ("USA", "CAN", 2000),
    "liberation2025": ("USA", "CHN", "goods"),
}


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return repr(value)


def _commented_section(name: str, cls: type[BaseModel], skip: tuple[str, ...] = ()) -> list[str]:
    """``[name]`` and every field commented out with its default and description."""
    schema = cls.model_json_schema()
    lines = [f"[{name}]"]
    for field, info in cls.model_fields.items():
        if field in skip:
            continue
        prop = schema.get("properties", {}).get(info.alias or field, {})
        desc = prop.get("description") or info.description or ""
        for alt in prop.get("anyOf", []):
            desc = desc or alt.get("description", "")
        choices = prop.get("enum")
        if choices:
            desc = " | ".join(_toml(c) for c in choices) + (f"; {desc}" if desc else "")
        default = info.get_default(call_default_factory=True)
        if default is None:
            lines.append(f"# {info.alias or field} =    # optional, no default: {desc}".rstrip(": "))
        else:
            lines.append(f"# {info.alias or field} = {_toml(default)}" + (f"    # {desc}" if desc else ""))
    return lines


def _head(model: str, dataset: str, what: str) -> list[str]:
    return [
        "# A kaifang scenario (docs/scenarios.md). Check it without solving: kaifang validate FILE;",
        "# run it: kaifang run FILE. For completion and checks in your editor, write the schema",
        "# (kaifang schema > scenario.schema.json) and put '#:schema ./scenario.schema.json' on line 1.",
        'name = "my-scenario"',
        f'description = """{what}"""',
        f'model = "{model}"',
        f'dataset = "{dataset}"',
        "",
    ]


def scenario_template(model: str, dataset: str | None = None) -> str:
    """A commented scenario for ``model`` on ``dataset`` that passes validation.

    Raises
    ------
    UserInputError
        An unknown model, or a data set the model cannot run on.
    """
    if model not in TEMPLATE_DATASETS:
        raise UserInputError(
            f"--model {model!r} is not a model with a template.{suggest(model, TEMPLATE_DATASETS)} "
            f"Models: {', '.join(TEMPLATE_DATASETS)}."
        )
    choices = TEMPLATE_DATASETS[model]
    dataset = dataset or choices[0]
    if dataset not in choices:
        raise UserInputError(
            f"--dataset {dataset!r}: the {model} model runs on {', '.join(choices)}.{suggest(dataset, choices)}"
        )
    sections = model_info(model)["sections"]
    imp, exp, third = _EXAMPLE[dataset]
    if model == "caliendo_parro":
        lines = _head(
            model,
            dataset,
            f"{imp} raises its tariffs on goods from {exp} by 10 points; {exp} answers in kind.",
        )
        lines += [
            "[baseline]",
            'deficits = "zero"    # "zero" (Caliendo and Parro 2015, section 5.1) | "keep" the observed deficits',
            "",
            *_commented_section("solver", sections["solver"]),
            "",
            "[[shocks]]",
            'type = "tariff"      # tariff | retaliation | iceberg | ntb | embargo | productivity | deficit',
            'op = "add"           # set | add (points) | scale (factor)',
            f'importer = "{imp}"',
            f'exporter = "{exp}"  # or "all", a group ("EU@2004"), a list, or {{ except = "{exp}" }}',
            f'sector = "{third}"',
            "value = 10",
            "mirror = true       # the same change with importer and exporter swapped",
            f'label = "{imp} +10 points on {exp}; {exp} mirrors"',
            "",
        ]
    elif model == "gravity":
        panel = isinstance(third, int)  # a gravity panel (estimation possible) or another one-sector world
        year = third if panel else {"wiod2013": 2011}.get(dataset)
        lines = _head(
            model, dataset, f"Trade costs between {imp} and {exp} fall by 10 percent (iceberg), both ways."
        )
        if panel:
            lines += [
                "[baseline]",
                f"year = {year}         # the baseline year (a year of the data set)",
                'costs = "observed"  # "observed" flows | "estimated" (needs an [estimation] section)',
                "",
            ]
        elif year is not None:
            lines += ["[baseline]", f"year = {year}         # the year of the table", ""]
        lines += [
            "[parameters]",
            "sigma = 7           # elasticity of substitution (or theta = sigma - 1)",
            f'reference = "{imp}"  # the country whose inward resistance is fixed',
            '# imbalance = "multiplicative"   # "multiplicative" | "additive"',
            '# normalisation = "reference"    # "reference" | "world_output"',
            "",
        ]
        if panel:
            lines += [
                "# [estimation]      # PPML of the gravity equation (docs/gravity.md), e.g.",
                f"# years = [{year}]",
                '# regressors = ["ln_dist", "cntg", "intl_border"]',
                '# fixed_effects = ["exporter", "importer"]',
                "",
            ]
        lines += [
            *_commented_section("solver", sections["solver"]),
            "",
            *_commented_section("output", sections["output"]),
            "",
            "[[shocks]]",
            'type = "iceberg"    # '
            + ("policy | " if panel else "")
            + "iceberg | ntb | embargo | tariff_equivalent | agreement",
            f'importer = ["{imp}", "{exp}"]',
            f'exporter = ["{imp}", "{exp}"]',
            "value = -10         # percent change of the iceberg cost factor",
            f'label = "{imp}-{exp} trade costs -10 %"',
            "",
        ]
    else:
        lines = _head(
            model, dataset, "The tariffs announced by the United States in April 2025 (USTR), no retaliation."
        )
        lines += [
            *_commented_section("baseline", sections["baseline"]),
            "",
            "[parameters]",
            "eps = 4.0           # trade elasticity (paper: 4)",
            *_commented_section("parameters", sections["parameters"], skip=("eps",))[1:],
            "",
            *_commented_section("solver", sections["solver"]),
            "",
            "# [policy]",
            f'# optimal_tariff = "{imp}"            # the optimal uniform tariff of a region',
            "# [[policy.retaliation]]",
            '# kind = "reciprocal"                 # reciprocal | optimal',
            f'# against = "{imp}"',
            '# by = "all"',
            "",
            "[[shocks]]",
            'type = "tariff"     # tariff | retaliation',
            'op = "set"',
            f'importer = "{imp}"',
            'from_table = "ustr2025"   # the announced US tariffs (at least 10 %)',
            'label = "USTR tariffs of April 2025"',
            "",
        ]
    return "\n".join(lines)
