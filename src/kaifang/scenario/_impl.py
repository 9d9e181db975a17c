from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kaifang.errors import ScenarioError, suggest
from kaifang.scenario.select import GroupSpec, toml_kind

_SECTIONS = (
    "baseline",
    "parameters",
    "shocks",
    "solver",
    "groups",
    "estimation",
    "policy",
    "output",
    "uncertainty",
)


class Scenario(BaseModel):
    """A scenario file, validated at the boundary. Immutable.

    The common fields are checked here, with strict types (a string where a string belongs,
    ``true``/``false`` for booleans, no quoted numbers); the model named in ``model`` validates
    its own sections (``baseline``, ``parameters``, ``shocks``, ``solver``, ...):
    :func:`kaifang.models.validate_scenario` runs all of it without solving.

    Attributes
    ----------
    name, description
        Human-readable identity of the scenario.
    model
        Which model solves it (``caliendo_parro``, ``gravity``, ``ims2025``).
    dataset
        Registered data set (``kaifang data list``).
    source
        The file it came from (``"<string>"`` for text).
    text
        The exact text of the file (kept for provenance and the results store).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    description: str = ""
    model: str
    dataset: str
    baseline: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Any] = Field(default_factory=dict)
    shocks: list[dict[str, Any]] = Field(default_factory=list)
    solver: dict[str, Any] = Field(default_factory=dict)
    groups: dict[str, GroupSpec] = Field(default_factory=dict)
    estimation: dict[str, Any] = Field(default_factory=dict)
    policy: dict[str, Any] = Field(default_factory=dict)
    output: dict[str, Any] = Field(default_factory=dict)
    uncertainty: dict[str, Any] = Field(default_factory=dict)
    source: str = "<string>"
    text: str = ""

    @property
    def sha256(self) -> str:
        """SHA-256 of the scenario text (the scenario hash recorded in provenance)."""
        return hashlib.sha256(self.text.encode()).hexdigest()


#: Names pydantic puts into an error's location for the member of a union that failed
#: (``str``, ``list[str]``, ``function-wrap[...]``...) and the shock-type tags of the shock list.
_TYPE_PARTS = {"str", "int", "float", "bool", "none", "dict", "list", "tuple", "Selection"}
_EXPECT = {
    "bool_type": "true or false",
    "int_type": "a whole number (no quotes, no decimal point)",
    "int_from_float": "a whole number (no decimal point)",
    "float_type": "a number (no quotes)",
    "string_type": "a string in quotes",
    "list_type": "an array, e.g. [1, 2]",
    "dict_type": "a table",
    "model_type": "a table",
    "finite_number": "a finite number (not inf or nan)",
}


def _is_type_part(part: Any, tags: Sequence[str]) -> bool:
    if not isinstance(part, str):
        return False
    return part in _TYPE_PARTS or part in tags or "[" in part or part.startswith("function-")


def _loc(loc: Sequence[Any], tags: Sequence[str] = ()) -> str:
    out = ""
    for part in loc:
        if _is_type_part(part, tags):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _reason(err: Mapping[str, Any]) -> str:
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg.rstrip(".")


def format_errors(
    exc: ValidationError,
    source: str,
    *,
    prefix: Sequence[Any] = (),
    fields: Sequence[str] = (),
    tags: Sequence[str] = (),
) -> str:
    """Turn a pydantic error into sentences, one per field, naming file, field and value.

    Parameters
    ----------
    exc
        The pydantic error.
    source
        The scenario file.
    prefix
        Location of the validated data inside the scenario (e.g. ``("solver",)``).
    fields
        Valid field names at the top of the validated model (for "did you mean").
    tags
        Discriminator values to drop from locations (the shock types).
    """
    by_field: dict[str, list[Mapping[str, Any]]] = {}
    for err in exc.errors():
        field = _loc((*prefix, *err["loc"]), tags)
        by_field.setdefault(field, []).append(err)
    lines = []
    for field, errs in by_field.items():
        err = errs[0]
        shown = field or "the scenario"
        if err["type"] == "extra_forbidden":
            hint = suggest(str(err["loc"][-1]), fields)
            lines.append(f"{source}: unknown field {field!r}.{hint}")
        elif err["type"] == "missing":
            lines.append(f"{source}: field {field!r} is required but missing.")
        else:
            expected = [_EXPECT[e["type"]] for e in errs if e["type"] in _EXPECT]
            if len(expected) == len(errs) and len(errs) > 1:
                reason = "expected " + " or ".join(dict.fromkeys(expected))
            elif err["type"] in _EXPECT:
                reason = f"expected {_EXPECT[err['type']]}"
            else:
                reason = _reason(err)
            value = err.get("input")
            if isinstance(value, (Mapping, list)) or "input" not in err:
                lines.append(f"{source}: field {shown!r}: {reason}.")
            else:
                lines.append(f"{source}: field {shown!r} has value {toml_kind(value)}: {reason}.")
    return "\n".join(lines)


def format_validation_error(exc: ValidationError, source: str, data: Mapping[str, Any] | None = None) -> str:
    """Turn a pydantic error on the top-level fields into sentences naming file, field and value."""
    known = (*_SECTIONS, "name", "description", "model", "dataset")
    return format_errors(exc, source, fields=known)


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate scenario TOML text.

    Raises
    ------
    ScenarioError
        Malformed TOML (with line and column) or invalid fields (naming field and value).
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{source}: not valid TOML: {exc}. Fix the syntax at that position.") from None
    if "source" in data or "text" in data:
        raise ScenarioError(f"{source}: 'source' and 'text' are reserved names, not scenario fields.")
    if "sweep" in data:
        raise ScenarioError(
            f"{source}: has a [sweep] section, so it is a sweep file: solve all its points with "
            f"`kaifang sweep {source}` (docs/sweeps.md), or remove the section to solve the base scenario once."
        )
    try:
        return Scenario.model_validate({**data, "source": source, "text": text}, strict=True)
    except ValidationError as exc:
        raise ScenarioError(format_validation_error(exc, source, data)) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (TOML)."""
    p = Path(path)
    if not p.is_file():
        hint = ""
        if p.parent.is_dir():
            hint = suggest(p.name, [q.name for q in p.parent.glob("*.toml")])
        raise ScenarioError(f"scenario file {str(p)!r} does not exist.{hint}")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(f"{p}: not a UTF-8 text file; scenario files are TOML text.") from None
    return parse_scenario(text, source=str(p))


def scenario_file(value: str | None, scenario: Scenario | None) -> Path | None:
    """A file named in a scenario (``[baseline] file``, ``tariff_file``...), relative to the
    scenario file's folder; ``None`` when no file is named. Scenarios given as text (no file)
    and absolute names are taken as they are."""
    if value is None:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute() and scenario is not None and scenario.source not in ("<string>", ""):
        here = Path(scenario.source).parent
        if (here / p).exists() or not p.exists():
            p = here / p
    return p


def field_names(model: Any, _seen: set[Any] | None = None) -> set[str]:
    """Every field name of a pydantic model and of the models nested in it (for suggestions)."""
    import typing

    seen = _seen if _seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    out: set[str] = set()
    fields = getattr(model, "model_fields", None)
    if fields is not None:
        for name, info in fields.items():
            out.add(info.alias or name)
            out |= field_names(info.annotation, seen)
        return out
    for arg in typing.get_args(model):
        out |= field_names(arg, seen)
    return out


def validate_section(
    model: type[BaseModel], data: Any, scenario: Scenario, section: str, *, tags: Sequence[str] = ()
) -> Any:
    """Validate one section of a scenario with a model-specific pydantic class, strictly.

    Strict types: ``true`` is not a number, ``"25"`` is not a number, ``"yes"`` is not a boolean;
    integers are accepted where numbers are expected. Errors name the scenario file, the full
    field path (e.g. ``shocks[2].op``) and the value.
    """
    try:
        return model.model_validate(data, strict=True)
    except ValidationError as exc:
        fields = sorted(field_names(model))
        prefix = tuple(p for p in section.replace("]", "").replace("[", ".").split(".") if p)
        prefix = tuple(int(p) if p.isdigit() else p for p in prefix)
        raise ScenarioError(
            format_errors(exc, scenario.source, prefix=prefix, fields=fields, tags=tags)
        ) from None
