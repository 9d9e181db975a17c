"""Saying so while numba compiles the engine's kernels (the first fit on a machine).

Numba compiles each kernel the first time a problem of its shape needs it (a few seconds in
all for a typical specification, longer for the multi-threaded kernels of large problems)
and keeps it in its on-disk cache, so later runs load it in milliseconds. :func:`compile_notice`
reports the first compilation of a fit through a progress callback and the log; it learns
of compilations from numba's own ``numba:compile`` event, which fires only when a kernel is
really compiled (not when it is loaded from the cache).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("kaifang.estimate.hdfe")

#: the message shown while kernels compile
MESSAGE = (
    "compiling the estimation kernels for this problem (first run on this machine, "
    "typically 5-20 s; cached for later runs)"
)


@contextmanager
def compile_notice(progress: Callable[[str], None] | None = None) -> Iterator[dict[str, float]]:
    """Within the block, call ``progress(MESSAGE)`` (and log it) when numba starts compiling.

    Yields a dict that holds, after the block, ``compiled`` (number of top-level compilations)
    and ``seconds`` (time spent in them).
    """
    from numba.core import event

    stats = {"compiled": 0.0, "seconds": 0.0}
    state = {"depth": 0, "t0": 0.0}

    class _Listener(event.Listener):
        def on_start(self, ev: event.Event) -> None:
            if state["depth"] == 0:
                if stats["compiled"] == 0:
                    log.info(MESSAGE)
                    if progress is not None:
                        progress(MESSAGE)
                state["t0"] = time.perf_counter()
                stats["compiled"] += 1
            state["depth"] += 1

        def on_end(self, ev: event.Event) -> None:
            state["depth"] -= 1
            if state["depth"] == 0:
                stats["seconds"] += time.perf_counter() - state["t0"]

    listener = _Listener()
    event.register("numba:compile", listener)
    try:
        yield stats
    finally:
        event.unregister("numba:compile", listener)
        if stats["compiled"]:
            log.info(
                "compiled %d kernels in %.1f s (cached for later runs)", stats["compiled"], stats["seconds"]
            )
