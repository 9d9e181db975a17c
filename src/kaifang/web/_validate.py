"""Scenario validation for the web app: the library's own checks, errors split by field.

A scenario from the browser goes through, in order:

1. :func:`kaifang.scenario.parse_scenario` (TOML syntax, the common fields), as on the command
   line; nesting deeper than :data:`MAX_DEPTH` levels is refused with a message;
2. what a server must refuse on top (:func:`web_checks`): a data set that is not a registered
   name, an unknown model, and **any field that names a file or folder** (``tariff_file``,
   ``path``, ``dir``...): the web app never opens a path that came from a request. The one
   exception is a field that *chooses* among a data set's registered files by name and is read
   through the data registry, never from disk by path (the gravity model's ``baseline.file``
   and ``estimation.file``);
3. :func:`complete_validation`: :func:`kaifang.models.validate_scenario`, the validation of
   ``kaifang validate`` and ``kaifang run`` (the model's sections, the shocks' regions and
   sectors against the data set, an estimation and what uses it), without solving; its
   warnings (a shock that changes nothing, group members outside the data set ...) come back
   with the verdict.

Messages name what the user made: "the scenario form", "the TOML editor" or, for other API
clients, "the submitted scenario".
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from kaifang.data import DATASETS
from kaifang.errors import ScenarioError, UserInputError, suggest
from kaifang.models import RUNNERS, ValidationReport, validate_scenario
from kaifang.scenario import Scenario, parse_scenario

__all__ = [
    "MAX_DEPTH",
    "SOURCES",
    "Checked",
    "FieldError",
    "Origin",
    "complete_validation",
    "split_errors",
    "validate_text",
    "web_checks",
]

log = logging.getLogger(__name__)

Origin = Literal["form", "editor", "api"]
SOURCES: dict[str, str] = {
    "form": "the scenario form",
    "editor": "the TOML editor",
    "api": "the submitted scenario",
}
"""What scenarios from the browser are called in messages, by where they were written."""

MAX_DEPTH = 32
"""Deepest nesting of tables and arrays accepted (scenario files use three or four levels)."""

_FIELD = re.compile(r"field '([^']+)'")
_SHOCK = re.compile(r"\b(shocks\[\d+\])")
_LINE = re.compile(r"at line (\d+), column (\d+)")
_PATHLIKE_KEY = re.compile(
    r"(file|files|filename|filenames|path|paths|dir|dirs|directory|directories|folder|folders)$",
    re.IGNORECASE,
)
# Fields that choose a data-set file by its registered name; the reader looks the name up in the
# data registry (kaifang.estimate.spec.read_dataset) and never opens it as a path.
_REGISTERED_FILE_FIELDS = {("gravity", "baseline.file"), ("gravity", "estimation.file")}


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


@dataclass(frozen=True)
class Checked:
    """The outcome of :func:`validate_text`: the scenario when valid, else the errors."""

    scenario: Scenario | None
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    complete: bool = True
    summary: dict[str, Any] = field(default_factory=dict)


def split_errors(message: str) -> list[FieldError]:
    """Split a kaifang error message (one problem a line) into :class:`FieldError` items.

    The field path is the first ``field '...'`` the sentence names (kaifang's messages and
    pydantic-derived messages both use that form), else a ``shocks[k]`` reference.
    """
    from kaifang.scenario.shocks import SHOCK_TYPES

    tag = re.compile(r"^(shocks\[\d+\])\.(?:" + "|".join(SHOCK_TYPES) + r")\b")
    out = []
    for line in [s for s in message.splitlines() if s.strip()] or [message]:
        fld = None
        m = _FIELD.search(line)
        if m:
            # pydantic puts the discriminator tag in the path (shocks[0].tariff.op): drop it
            fld = tag.sub(r"\1", m.group(1).lstrip("."))
        else:
            m2 = _SHOCK.search(line)
            if m2:
                fld = m2.group(1)
        pos = _LINE.search(line)
        out.append(
            FieldError(
                field=fld,
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


def _deepest(data: Any) -> tuple[int, str]:
    """Depth of the deepest nesting in ``data`` and the path to it (iterative: no recursion)."""
    best, best_path = 0, ""
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > best:
            best, best_path = depth, path
        if depth > MAX_DEPTH:
            break  # deep enough to refuse; no need to walk 40,000 levels
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))
    return best, best_path


def _deep_key_line(text: str) -> tuple[int, int] | None:
    """The first line whose key has more than :data:`MAX_DEPTH` dotted parts: ``(line, parts)``.

    Checked before the TOML parser sees the text: :mod:`tomllib` takes time quadratic in the
    parts of a dotted key (about a minute for 40,000), so such keys are refused unparsed. Dots
    inside quoted keys do not count.
    """
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.startswith("["):
            key = line.lstrip("[").split("]", 1)[0]
        elif "=" in line:
            key = line.split("=", 1)[0]
        else:
            continue
        if key.count(".") < MAX_DEPTH:
            continue
        parts, quote = 1, ""
        for ch in key:
            if quote:
                quote = "" if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == ".":
                parts += 1
        if parts > MAX_DEPTH:
            return number, parts
    return None


def _short(path: str, limit: int = 60) -> str:
    return path if len(path) <= limit else path[:limit] + "…"


def web_checks(sc: Scenario) -> None:
    """What the web app refuses on top of the library's checks (errors name the field).

    Raises
    ------
    ScenarioError
        A data set or model that is not registered, or a field that names a file.
    """
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
    files = sorted(f.name for f in DATASETS[sc.dataset].files)
    data = sc.model_dump(exclude={"source", "text", "name", "description", "model", "dataset"})
    for path, key, value in _walk(data, ""):
        if not _PATHLIKE_KEY.search(key):
            continue
        if (sc.model, path) in _REGISTERED_FILE_FIELDS:
            if isinstance(value, str) and value in files:
                continue
            raise ScenarioError(
                f"{sc.source}: field '{path}' has value {value!r}; it chooses one of the registered files of "
                f"data set {sc.dataset!r} by name ({', '.join(files) or 'none'}), and the web app never "
                f"reads a path. Use one of those names, or leave the field out for the data set's main file."
            )
        raise ScenarioError(
            f"{sc.source}: field '{path}' names a file ({value!r}), and files cannot be referenced from "
            "the web app: it would read them from the server's disk, not from your computer. Remove the "
            "field (the data set's own files are used), express the change as shocks ([[shocks]]), or run "
            "the scenario file with `kaifang run FILE` on your computer, which reads such files beside "
            "the scenario file."
        )


# -- the complete validation: the command line's, kaifang.models.validate_scenario ---------------

_VALIDATE_LOCK = threading.Lock()  # the warnings filters that collect warnings are process-wide
_CACHE_SIZE = 64
_cache: OrderedDict[tuple[str, str, str], ValidationReport] = OrderedDict()
_cache_lock = threading.Lock()


def complete_validation(sc: Scenario) -> ValidationReport:
    """Validate ``sc`` completely without solving it: :func:`kaifang.models.validate_scenario`.

    The same function ``kaifang validate`` runs (one code path with ``kaifang run``): the model's
    own sections, the data set, every shock composed onto its regions and sectors, groups
    resolved and, for the gravity model with an ``[estimation]`` section, the estimation and the
    policy variables and coefficients that use it. Its warnings are returned, not emitted.

    The reports of valid scenarios are kept (the last :data:`_CACHE_SIZE`, by scenario text and
    source): the browser validates the same text again when it is submitted, and an estimation
    takes a second or two.

    Raises
    ------
    UserInputError
        The first problem found, as the command line reports it.
    """
    key = (sc.source, sc.text, sc.dataset)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    with _VALIDATE_LOCK:
        report = validate_scenario(sc)
    with _cache_lock:
        _cache[key] = report
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return report


def validate_text(text: str, origin: Origin = "api") -> Checked:
    """Validate scenario TOML text as a run does, plus the web app's checks.

    Parameters
    ----------
    text
        The scenario (TOML).
    origin
        Where the user wrote it (names it in messages): ``"form"``, ``"editor"``, ``"api"``.
    """
    source = SOURCES.get(origin, SOURCES["api"])
    deep = _deep_key_line(text)
    if deep is not None:
        line, parts = deep
        return Checked(
            None,
            [
                FieldError(
                    None,
                    f"{source}: the key at line {line} has {parts} dotted parts, so it is nested more than "
                    f"{MAX_DEPTH} levels deep; scenarios use a few levels (a section, a table, a list). "
                    "Shorten the key.",
                    line=line,
                )
            ],
        )
    try:
        sc = parse_scenario(text, source=source)
    except RecursionError:
        return Checked(
            None,
            [
                FieldError(
                    None,
                    f"{source}: arrays or inline tables are nested too deeply to read (over "
                    f"{MAX_DEPTH} levels). A scenario needs only a few levels; remove the nesting.",
                )
            ],
        )
    except UserInputError as exc:
        return Checked(None, split_errors(str(exc)))
    depth, where = _deepest(sc.model_dump(exclude={"source", "text"}))
    if depth > MAX_DEPTH:
        return Checked(
            None,
            [
                FieldError(
                    where.split(".")[0].split("[")[0] or None,
                    f"{source}: field '{_short(where)}' is nested more than {MAX_DEPTH} levels deep; scenarios "
                    "use a few levels (a section, a table, a list). Remove the nesting.",
                )
            ],
        )
    try:
        web_checks(sc)
        report = complete_validation(sc)
    except UserInputError as exc:
        return Checked(None, split_errors(str(exc)))
    except RecursionError:
        return Checked(None, [FieldError(None, f"{source}: the scenario is nested too deeply to check.")])
    except Exception as exc:
        log.exception("validating a scenario raised an internal error")
        return Checked(
            None,
            [
                FieldError(
                    None,
                    f"{source}: checking this scenario raised an internal error ({type(exc).__name__}); "
                    "details are in the server log. A run would fail the same way.",
                )
            ],
        )
    return Checked(sc, [], list(report.warnings), complete=report.complete, summary=dict(report.summary))
