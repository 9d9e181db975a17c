"""The built front end: which sources it was built from (checked by the tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["SOURCE_FILES", "sources_sha256"]

#: Files of ``web/`` that make the build, besides everything under ``web/src/`` (keep in step
#: with ``web/scripts/build-info.mjs``).
SOURCE_FILES = ("index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts")


def sources_sha256(web_dir: Path) -> tuple[str, list[str]]:
    """SHA-256 over the front-end sources in ``web_dir``, as ``build-info.mjs`` computes it."""
    files = [web_dir / f for f in SOURCE_FILES]
    files += [p for p in (web_dir / "src").rglob("*") if p.is_file()]
    rel = sorted(p.relative_to(web_dir).as_posix() for p in files)
    h = hashlib.sha256()
    for r in rel:
        h.update((r + "\n").encode())
        h.update((web_dir / r).read_bytes())
        h.update(b"\n")
    return h.hexdigest(), rel
