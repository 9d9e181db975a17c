"""File names from user-given names: a name is a label, never a path."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

__all__ = ["MAX_SLUG", "inside", "slug", "unique_filenames"]

#: Longest folder or file name made from a name (well below the usual 255-byte limit, in
#: characters of up to 4 bytes).
MAX_SLUG = 60
_UNSAFE = re.compile(r"[^\w.+-]+")
# names Windows reserves in every folder
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}


def slug(name: str, *, fallback: str = "run", max_len: int = MAX_SLUG) -> str:
    """A safe file or folder name for ``name``: letters, digits and ``. _ + -`` only (other
    characters, path separators and control characters become ``-``), no leading dot or dash
    (so never ``.`` or ``..``), at most ``max_len`` characters. A name that had to be
    shortened ends in 8 hex digits of its SHA-256, so different long names stay different.

    >>> slug("cp2015-nafta")
    'cp2015-nafta'
    >>> slug("../../etc/passwd")
    'etc-passwd'
    """
    text = unicodedata.normalize("NFC", str(name))
    s = _UNSAFE.sub("-", text).strip(".-_ ")
    s = re.sub(r"-{2,}", "-", s)
    if not s:
        s = fallback
    if s.split(".")[0].lower() in _RESERVED:
        s = "_" + s
    if len(s) > max_len:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        s = s[: max_len - 9].rstrip(".-_") + "-" + digest
    return s


def inside(path: Path, folder: Path) -> bool:
    """True when ``path`` lies inside ``folder`` (after resolving ``..`` and links)."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def unique_filenames(names: Iterable[object]) -> list[str]:
    """Safe, distinct file names (without extension) for table names (compared ignoring case)."""
    used: set[str] = set()
    out = []
    for name in names:
        base = slug(str(name), fallback="table")
        f, k = base, 2
        while f.lower() in used:
            f, k = f"{base}-{k}", k + 1
        used.add(f.lower())
        out.append(f)
    return out
