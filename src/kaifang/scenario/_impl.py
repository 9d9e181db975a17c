from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kaifang.errors import ScenarioError, suggest

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

    The common fields are checked here; the model named in ``model`` validates its own
    sections (``baseline``, ``parameters``, ``shocks``, ``solver``, ...) when it runs.

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
    groups: dict[str, list[str]] = Field(default_factory=dict)
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


def _loc(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def format_validation_error(exc: ValidationError, source: str, data: Mapping[str, Any] | None = None) -> str:
    """Turn a pydantic error into sentences naming file, field and value."""
    lines = []
    for err in exc.errors():
        field = _loc(err["loc"])
        if err["type"] == "extra_forbidden":
            known = (*_SECTIONS, "name", "description", "model", "dataset")
            hint = suggest(str(err["loc"][-1]), known) if len(err["loc"]) == 1 else ""
            lines.append(f"{source}: unknown field {field!r}.{hint}")
        elif err["type"] == "missing":
            lines.append(f"{source}: field {field!r} is required but missing.")
        else:
            lines.append(f"{source}: field {field!r} has value {err.get('input')!r}: {err['msg']}.")
    return "\n".join(lines)


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
    try:
        return Scenario(**data, source=source, text=text)
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


def validate_section(model: type[BaseModel], data: Any, scenario: Scenario, section: str) -> Any:
    """Validate one section of a scenario with a model-specific pydantic class.

    Errors name the scenario file and the full field path (e.g. ``shocks[2].op``).
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = _loc((section, *err["loc"]))
            if err["type"] == "extra_forbidden":
                fields = list(model.model_fields) if hasattr(model, "model_fields") else []
                lines.append(
                    f"{scenario.source}: unknown field {field!r}.{suggest(str(err['loc'][-1]), fields)}"
                )
            elif err["type"] == "missing":
                lines.append(f"{scenario.source}: field {field!r} is required but missing.")
            else:
                lines.append(
                    f"{scenario.source}: field {field!r} has value {err.get('input')!r}: {err['msg']}."
                )
        raise ScenarioError("\n".join(lines)) from None
