"""Finding data files: local mirror, per-user cache, download (with checksum check).

Order of lookup for a file of a registered data set:

1. the mirror folder ``$KAIFANG_DATA_MIRROR/<dataset>/<file>`` (read in place, never written);
2. the cache ``$KAIFANG_DATA_DIR/<dataset>/<file>`` (default: the per-user cache folder);
3. a download from the file's public address into the cache, via :mod:`pooch`.

Every file is checked against its registered SHA-256 before it is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kaifang.data.registry import DataFile, Dataset, get_dataset
from kaifang.errors import ChecksumError, DataUnavailableError

__all__ = [
    "FileStatus",
    "cache_dir",
    "fetch",
    "locate",
    "mirror_dir",
    "status",
    "verify",
]

log = logging.getLogger(__name__)

_HASHES: dict[tuple[str, int, int], str] = {}


def cache_dir() -> Path:
    """The per-user cache folder (``KAIFANG_DATA_DIR`` overrides the platform default)."""
    env = os.environ.get("KAIFANG_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import pooch

    return Path(pooch.os_cache("kaifang"))


def mirror_dir() -> Path | None:
    """The local mirror folder from ``KAIFANG_DATA_MIRROR``, or ``None`` when unset."""
    env = os.environ.get("KAIFANG_DATA_MIRROR")
    return Path(env).expanduser() if env else None


def sha256(path: Path) -> str:
    """SHA-256 of a file, memoised by path, size and modification time."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASHES:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _HASHES[key] = h.hexdigest()
    return _HASHES[key]


def _check(path: Path, ds: Dataset, f: DataFile) -> Path:
    got = sha256(path)
    if got != f.sha256:
        raise ChecksumError(
            f"checksum mismatch for {path} (data set {ds.name!r}, file {f.name!r}): "
            f"expected SHA-256 {f.sha256}, got {got}. The file is corrupt or a different "
            f"version; delete it (or fix the mirror) and run `kaifang data fetch {ds.name}` again."
        )
    return path


def _how_to_get(ds: Dataset, f: DataFile) -> str:
    mirror = mirror_dir()
    where = f"{mirror}/{ds.name}/{f.name}" if mirror else f"<mirror>/{ds.name}/{f.name}"
    src = f.url or f"a mirror of {ds.source}"
    return (
        f"Download {src} and put it at {where} (set KAIFANG_DATA_MIRROR=<mirror> to a folder "
        f"holding <dataset>/<file>), or run `kaifang data fetch {ds.name}` on a machine with "
        f"internet. To try kaifang offline, use the synthetic demo: "
        f"`kaifang run scenarios/demo-tariff.toml`."
    )


def locate(dataset: str, name: str, *, download: bool = True) -> Path:
    """Return the local path of one verified file of a registered data set.

    Parameters
    ----------
    dataset
        Registered data-set name (see ``kaifang data list``).
    name
        File name inside the data set.
    download
        Whether to download into the cache when neither mirror nor cache has the file.

    Returns
    -------
    pathlib.Path
        A path whose bytes match the registered SHA-256.

    Raises
    ------
    DataUnavailableError
        The file is in no mirror or cache and cannot be downloaded (offline).
    ChecksumError
        A file was found but its bytes differ from the registered checksum.
    """
    ds = get_dataset(dataset)
    try:
        f = ds.file(name)
    except KeyError as exc:
        raise DataUnavailableError(str(exc.args[0])) from None
    mirror = mirror_dir()
    if mirror is not None:
        p = mirror / ds.name / f.name
        if p.is_file():
            return _check(p, ds, f)
    p = cache_dir() / ds.name / f.name
    if p.is_file():
        return _check(p, ds, f)
    if not download or f.url is None:
        raise DataUnavailableError(
            f"data file {f.name!r} of data set {ds.name!r} is not available locally "
            f"(mirror: {mirror or 'KAIFANG_DATA_MIRROR not set'}; cache: {cache_dir()}). "
            + _how_to_get(ds, f)
        )
    import pooch

    log.info("downloading %s (%.1f MB) from %s", f.name, f.size / 1e6, f.url)
    try:
        got = pooch.retrieve(
            url=f.url,
            known_hash=f"sha256:{f.sha256}",
            fname=f.name,
            path=cache_dir() / ds.name,
            progressbar=False,
        )
    except ValueError as exc:  # pooch raises ValueError on hash mismatch
        raise ChecksumError(f"downloaded {f.url} but {exc}") from None
    except Exception as exc:  # network errors of many kinds
        raise DataUnavailableError(
            f"could not download {f.name!r} of data set {ds.name!r} from {f.url} "
            f"({type(exc).__name__}: {exc}). " + _how_to_get(ds, f)
        ) from None
    return Path(got)


def fetch(dataset: str, *, download: bool = True) -> dict[str, Path]:
    """Locate (downloading if needed) every file of a data set; return name -> path."""
    ds = get_dataset(dataset)
    return {f.name: locate(ds.name, f.name, download=download) for f in ds.files}


@dataclass(frozen=True)
class FileStatus:
    """Where a data file was found and whether it verified."""

    dataset: str
    file: str
    location: str  # "mirror", "cache" or "missing"
    path: str | None
    ok: bool
    message: str


def status(dataset: str) -> list[FileStatus]:
    """Report each file of ``dataset``: found where, checksum OK or not (never downloads)."""
    ds = get_dataset(dataset)
    out = []
    for f in ds.files:
        found = None
        for where, base in (("mirror", mirror_dir()), ("cache", cache_dir())):
            if base is not None and (base / ds.name / f.name).is_file():
                found = (where, base / ds.name / f.name)
                break
        if found is None:
            out.append(FileStatus(ds.name, f.name, "missing", None, False, "not downloaded"))
            continue
        ok = sha256(found[1]) == f.sha256
        out.append(
            FileStatus(ds.name, f.name, found[0], str(found[1]), ok, "ok" if ok else "CHECKSUM MISMATCH")
        )
    return out


def verify(dataset: str) -> list[FileStatus]:
    """Like :func:`status`, the name used by ``kaifang data verify``."""
    return status(dataset)
