"""Setting environment variables for a while and putting back what was there (standard library
only: the command line imports it before anything else)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

__all__ = ["environ", "restore"]


def restore(saved: Mapping[str, str | None]) -> None:
    """Put back the variables ``saved`` recorded (``None``: the variable was not set)."""
    for var, value in saved.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


@contextlib.contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in ``os.environ`` for the enclosed block, then the variables as they were."""
    saved = {var: os.environ.get(var) for var in values}
    os.environ.update(values)
    try:
        yield
    finally:
        restore(saved)
