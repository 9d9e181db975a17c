"""Field types for the models' scenario sections: bounded numbers and unused sections.

Every solver, sampling and parameter setting of a scenario is a :func:`bounded` number: finite,
inside a stated range, and an error that names the file, the field, the value and the range
(``[solver] tol = inf`` -> ``field 'solver.tol' has value inf (a number): out of range; valid
range: 0 < tol <= 0.001``). The range also goes into the JSON Schema of the scenario format
(``kaifang schema``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from kaifang.errors import ScenarioError

__all__ = ["SECTIONS", "bounded", "range_text", "refuse_sections"]

#: The optional sections a scenario may have; each model names those it reads.
SECTIONS = ("baseline", "parameters", "solver", "estimation", "policy", "output", "uncertainty")


def _num(x: float) -> str:
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


def range_text(
    name: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> str:
    """The range as people write it: ``0 < tol <= 0.001``, ``draws >= 0``."""
    left = f"{_num(gt)} < " if gt is not None else (f"{_num(ge)} <= " if ge is not None else "")
    right = f" < {_num(lt)}" if lt is not None else (f" <= {_num(le)}" if le is not None else "")
    return f"{left}{name}{right}"


def bounded(
    kind: type[int] | type[float],
    name: str,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
    description: str = "",
) -> Any:
    """A strict, finite number in a range, as an annotated type for a pydantic field.

    Parameters
    ----------
    kind
        ``int`` (a whole number; ``true`` and ``2.0`` are refused) or ``float`` (an integer is
        taken as a number; ``true``, ``"25"``, ``inf`` and ``nan`` are refused).
    name
        The field name, for the range in messages.
    gt, ge, lt, le
        The bounds (strictly greater than, greater or equal, ...).
    description
        For the JSON Schema.
    """
    rng = range_text(name, gt=gt, ge=ge, lt=lt, le=le)
    word = "a whole number" if kind is int else "a number"

    def check(value: Any) -> int | float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected {word} (no quotes); valid range: {rng}")
        if kind is int and not isinstance(value, int):
            raise ValueError(f"expected a whole number (no decimal point); valid range: {rng}")
        if not math.isfinite(value):
            raise ValueError(f"not a finite number; valid range: {rng}")
        if (
            (gt is not None and not value > gt)
            or (ge is not None and not value >= ge)
            or (lt is not None and not value < lt)
            or (le is not None and not value <= le)
        ):
            raise ValueError(f"out of range; valid range: {rng}")
        return kind(value)

    schema: dict[str, Any] = {"type": "integer" if kind is int else "number"}
    for key, bound in (("exclusiveMinimum", gt), ("minimum", ge), ("exclusiveMaximum", lt), ("maximum", le)):
        if bound is not None:
            schema[key] = bound
    schema["description"] = (description + "; " if description else "") + f"valid range: {rng}"
    return Annotated[kind, PlainValidator(check), WithJsonSchema(schema)]


def refuse_sections(scenario: Any, used: Sequence[str], model: str) -> None:
    """Raise a :class:`ScenarioError` for a non-empty section that ``model`` does not read.

    A section the model would ignore is refused rather than silently dropped.
    """
    for section in SECTIONS:
        if section in used:
            continue
        if getattr(scenario, section, None):
            raise ScenarioError(
                f"{scenario.source}: field {section!r}: the {model} model has no [{section}] section, so "
                f"its settings would be ignored; remove it. This model reads: "
                f"{', '.join(f'[{s}]' for s in used) or 'no optional sections'}, [groups] and [[shocks]]."
            )
