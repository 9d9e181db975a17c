"""How freed memory is kept between the steps of a fit (Linux with glibc only).

A fit allocates and frees its working arrays (one value per row) at every step. glibc serves
arrays above its mmap threshold from fresh mappings and hands the top of its heap back to the
system once more than its trim threshold is free there; both thresholds start small (128 KiB and
256 KiB) and grow only as large mapped blocks are freed. Until they have grown, every working array
of a fit is mapped and zeroed by the kernel again: on the development machine a 200,000-row fit
took about 5,900 page faults and 12 to 30 ms of system time of its 110 to 130 ms.

:func:`keep_freed_memory` sets the two thresholds to the ceilings glibc's own adjustment reaches
(32 MiB and 64 MiB on 64-bit systems), once per process, before the first fit. The process then
keeps up to 64 MiB of freed memory for reuse instead of returning it at once. It changes nothing
when ``KAIFANG_MALLOC=default`` is set, when any of glibc's ``MALLOC_*`` variables is set (the
user's choice wins), or on another C library or system.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

__all__ = ["MMAP_THRESHOLD", "TRIM_THRESHOLD", "keep_freed_memory"]

#: Bytes: arrays up to this size come from the heap (glibc's ceiling, 4 MiB x sizeof(long)).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: Bytes of free memory the heap keeps at its top (twice the mmap threshold, as glibc sets it).
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


@functools.cache
def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds to :data:`MMAP_THRESHOLD` and
    :data:`TRIM_THRESHOLD`, once per process; return whether they are set by kaifang.

    Does nothing (and returns ``False``) with ``KAIFANG_MALLOC=default``, when a ``MALLOC_*``
    environment variable is set, or where the C library is not glibc.
    """
    user = os.environ.get("KAIFANG_MALLOC", "").strip().lower() == "default" or any(
        k.startswith("MALLOC_") for k in os.environ
    )
    if user or not sys.platform.startswith("linux") or not _glibc():
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION") is not None
    except (ValueError, OSError, AttributeError):
        return False
