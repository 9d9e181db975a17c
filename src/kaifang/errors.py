"""Errors raised by kaifang.

Every error a user can cause derives from :class:`UserInputError` (a ``ValueError``);
the command line prints its message and exits with code 2. Anything else is an internal
failure (exit code 1).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BaselineError",
    "ChecksumError",
    "ConvergenceError",
    "DataError",
    "DataUnavailableError",
    "KaifangError",
    "ScenarioError",
    "UserInputError",
    "suggest",
]


class KaifangError(Exception):
    """Base class of every error kaifang raises on purpose."""


class UserInputError(KaifangError, ValueError):
    """A mistake in what the user gave: a file, a field, a value. Exit code 2."""


class DataError(UserInputError):
    """A data set is malformed or inconsistent."""


class DataUnavailableError(DataError):
    """A data set could be neither found in the mirror/cache nor downloaded."""


class ChecksumError(DataError):
    """A data file does not match its registered SHA-256."""


class ScenarioError(UserInputError):
    """A scenario file is malformed or asks for something the data set lacks."""


class BaselineError(DataError):
    """A baseline failed validation (negative flows, shares not summing to one, ...)."""


class ConvergenceError(UserInputError, RuntimeError):
    """An equilibrium solver did not converge.

    Raised with a message saying what was tried (method, iterations, tolerance, last
    residual) and what to change. Treated as a user-facing error (exit code 2) because
    the usual cause is an extreme scenario or too strict solver settings.
    """

    def __init__(self, message: str, *, iterations: int = 0, residual: float = float("nan")):
        super().__init__(message)
        self.iterations = iterations
        self.residual = residual


def suggest(value: str, choices: Iterable[str], n: int = 3) -> str:
    """Return a ``" Did you mean ...?"`` hint listing the closest of ``choices``.

    Parameters
    ----------
    value
        The unknown name the user typed.
    choices
        The valid names.
    n
        At most this many suggestions.

    Returns
    -------
    str
        An empty string when nothing is close, else a sentence starting with a space.
    """
    choices = [str(c) for c in choices]
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(str(value).lower(), list(lower), n=n, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(lower[c]) for c in close) + "?"


class KaifangWarning(UserWarning):
    """Warnings kaifang emits on purpose (e.g. group members folded into ROW).

    They are errors under the project's own pytest settings.
    """


__all__ += ["KaifangWarning"]
