"""Scenario validation for the web app: the library's own checks, errors split by field.

The web app validates with exactly what the command line uses (:func:`kaifang.scenario.parse_scenario`,
the shared shock language :func:`kaifang.scenario.shocks.parse_shocks`, the model registry and the
data-set registry). On top, it refuses what a server must not do for a browser: a data set that is
not a registered name, and any scenario field named like a file or folder (``file``, ``path``,
``dir``...) unless its value is the name of one of that data set's registered files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from kaifang.data import DATASETS
from kaifang.errors import ScenarioError, UserInputError, suggest
from kaifang.models import RUNNERS
from kaifang.scenario import Scenario, parse_scenario
from kaifang.scenario.shocks import SHOCK_TYPES, parse_shocks

__all__ = ["SOURCE", "FieldError", "split_errors", "validate_text"]

SOURCE = "scenario.toml"
"""The name scenarios typed in the browser get in messages."""

_FIELD = re.compile(r"field '([^']+)'")
_SHOCK = re.compile(r"\b(shocks\[\d+\])")
_TAG = re.compile(r"^(shocks\[\d+\])\.(?:" + "|".join(SHOCK_TYPES) + r")\b")
_LINE = re.compile(r"at line (\d+), column (\d+)")
_PATHLIKE_KEY = re.compile(r"(file|files|path|paths|dir|directory|folder)$", re.IGNORECASE)


@dataclass(frozen=True)
class FieldError:
    """One validation message and where it points.

    Attributes
    ----------
    field
        Path of the field at fault (``"shocks[0].op"``, ``"dataset"``), or ``None``.
    message
        The sentence, as the command line prints it.
    line, column
        Position in the TOML text for syntax errors.
    """

    field: str | None
    message: str
    line: int | None = None
    column: int | None = None


def split_errors(message: str) -> list[FieldError]:
    """Split a kaifang error message (one problem a line) into :class:`FieldError` items.

    The field path is the first ``field '...'`` the sentence names (kaifang's messages and
    pydantic-derived messages both use that form), else a ``shocks[k]`` reference.
    """
    out = []
    for line in [s for s in message.splitlines() if s.strip()] or [message]:
        field = None
        m = _FIELD.search(line)
        if m:
            # pydantic puts the discriminator tag in the path (shocks[0].tariff.op): drop it
            field = _TAG.sub(r"\1", m.group(1).lstrip("."))
        else:
            m2 = _SHOCK.search(line)
            if m2:
                field = m2.group(1)
        pos = _LINE.search(line)
        out.append(
            FieldError(
                field=field,
                message=line.strip(),
                line=int(pos.group(1)) if pos else None,
                column=int(pos.group(2)) if pos else None,
            )
        )
    return out


def _walk(value: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            p = f"{path}.{k}" if path else str(k)
            yield p, str(k), v
            yield from _walk(v, p)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")


def _web_checks(sc: Scenario) -> None:
    """What the web app refuses on top of the library's checks (errors name the field)."""
    if sc.dataset not in DATASETS:
        raise ScenarioError(
            f"{sc.source}: field 'dataset' has value {sc.dataset!r}, which is not a registered data set."
            f"{suggest(sc.dataset, DATASETS)} Registered data sets: {', '.join(DATASETS)}. "
            "The web app only reads registered data sets, never a file path."
        )
    if sc.model not in RUNNERS:
        raise ScenarioError(
            f"{sc.source}: field 'model' has unknown value {sc.model!r}.{suggest(sc.model, RUNNERS)} "
            f"Valid models: {', '.join(RUNNERS)}."
        )
    files = {f.name for f in DATASETS[sc.dataset].files}
    data = sc.model_dump(exclude={"source", "text", "name", "description", "model", "dataset"})
    for path, key, value in _walk(data, ""):
        if _PATHLIKE_KEY.search(key) and not (isinstance(value, str) and value in files):
            raise ScenarioError(
                f"{sc.source}: field '{path}' has value {value!r}; the web app reads only the registered files "
                f"of data set {sc.dataset!r} ({', '.join(sorted(files)) or 'none'}), never a path. Use one of "
                "those names, or run this scenario with `kaifang run`."
            )


def validate_text(text: str) -> tuple[Scenario | None, list[FieldError]]:
    """Validate scenario TOML text as the command line does, plus the web app's checks.

    Returns
    -------
    (Scenario or None, list of FieldError)
        The scenario when valid (then the list is empty).
    """
    try:
        sc = parse_scenario(text, source=SOURCE)
        _web_checks(sc)
        if all(isinstance(x, dict) and x.get("type") in SHOCK_TYPES for x in sc.shocks):
            parse_shocks(sc)  # the shared shock language; a model's own shock types it checks when it runs
    except UserInputError as exc:
        return None, split_errors(str(exc))
    return sc, []
