"""Finding data files: local mirror, per-user cache, download (with checksum check).

Order of lookup for a file of a registered data set:

1. the mirror folder ``$KAIFANG_DATA_MIRROR/<dataset>/<file>`` (read in place, never written);
2. the cache ``$KAIFANG_DATA_DIR/<dataset>/<file>`` (default: the per-user cache folder);
3. a download from the file's public address into the cache, via :mod:`pooch`.

Every file is checked against its registered SHA-256 before it is used.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kaifang.data.registry import DataFile, Dataset, get_dataset
from kaifang.errors import ChecksumError, DataUnavailableError

__all__ = [
    "FileStatus",
    "cache_dir",
    "download",
    "fetch",
    "locate",
    "locate_year",
    "mirror_dir",
    "record_checksum",
    "recorded_checksums",
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


def file_signature(path: Path) -> tuple[str, int, int]:
    """``(resolved path, size, modification time in ns)``: how kaifang's per-process caches
    know a file, so that a file that changes is read again."""
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


def sha256(path: Path) -> str:
    """SHA-256 of a file, memoised by :func:`file_signature`."""
    key = file_signature(path)
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
    """Report each file of ``dataset``: found where, checksum OK or not (never downloads).

    For a data set published one file per year (``access = "by_year"``), every year found in the
    mirror or the cache is listed (checked against the checksum recorded when it was fetched, where
    there is one), or one ``missing`` entry when none is there.
    """
    ds = get_dataset(dataset)
    if ds.access == "by_year":
        return _status_by_year(ds)
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


# --------------------------------------------------------------------------------------
# Data sets published one file per year (fetched on request): recorded checksums.
_RECORD = "checksums.json"


def _year_file(ds: Dataset, year: int) -> str:
    pattern = ds.extra.get("file_pattern")
    if not pattern:
        raise DataUnavailableError(f"data set {ds.name!r} has no per-year files.")
    return pattern.format(year=year)


def recorded_checksums(folder: Path) -> dict[str, dict[str, object]]:
    """The checksums recorded in ``folder/checksums.json`` (file name -> record), or ``{}``."""
    p = folder / _RECORD
    if not p.is_file():
        return {}
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_checksum(path: Path, *, source: str, extra: dict[str, object] | None = None) -> str:
    """Record the SHA-256 of ``path`` in ``checksums.json`` beside it; return the checksum.

    Later reads of the file (:func:`locate_year`) check it against this record.
    """
    digest = sha256(path)
    records = recorded_checksums(path.parent)
    records[path.name] = {
        "sha256": digest,
        "size": path.stat().st_size,
        "source": source,
        "recorded": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    tmp = path.parent / (_RECORD + ".tmp")
    tmp.write_text(json.dumps(records, indent=2, sort_keys=True) + "\n")
    tmp.replace(path.parent / _RECORD)
    return digest


def _verify_recorded(path: Path, ds: Dataset) -> Path:
    rec = recorded_checksums(path.parent).get(path.name)
    if rec is not None and rec.get("sha256") != sha256(path):
        raise ChecksumError(
            f"checksum mismatch for {path} (data set {ds.name!r}): its SHA-256 was recorded as "
            f"{rec.get('sha256')} when it was fetched, but is now {sha256(path)}. The file changed or is "
            f"damaged; delete it and fetch it again."
        )
    return path


def locate_year(dataset: str, year: int) -> Path:
    """The local file of ``year`` of a data set published one file per year (never downloads).

    Looks in the mirror, then the cache; a file with a recorded checksum is verified.

    Raises
    ------
    DataError
        A year the data set does not cover (listing the years).
    DataUnavailableError
        The year's file is in neither place (saying how to get it).
    """
    from kaifang.errors import DataError

    ds = get_dataset(dataset)
    if isinstance(year, bool) or not isinstance(year, int) or (ds.years and year not in ds.years):
        raise DataError(
            f"data set {ds.name!r} has no year {year!r}; it covers {ds.years[0]}-{ds.years[-1]} "
            f"(set [baseline] year to one of {', '.join(map(str, ds.years))})."
        )
    name = _year_file(ds, year)
    for base in (mirror_dir(), cache_dir()):
        if base is not None and (base / ds.name / name).is_file():
            return _verify_recorded(base / ds.name / name, ds)
    how = ds.extra.get("how_to_get", "").format(year=year)
    raise DataUnavailableError(
        f"year {year} of data set {ds.name!r} ({name}) is not available locally (mirror: "
        f"{mirror_dir() or 'KAIFANG_DATA_MIRROR not set'}; cache: {cache_dir()}). {how}".rstrip()
    )


def _status_by_year(ds: Dataset) -> list[FileStatus]:
    out = []
    for year in ds.years:
        name = _year_file(ds, year)
        for where, base in (("mirror", mirror_dir()), ("cache", cache_dir())):
            if base is None or not (base / ds.name / name).is_file():
                continue
            p = base / ds.name / name
            rec = recorded_checksums(p.parent).get(name)
            if rec is None:
                out.append(FileStatus(ds.name, name, where, str(p), True, "ok (no recorded checksum)"))
            else:
                ok = rec.get("sha256") == sha256(p)
                out.append(FileStatus(ds.name, name, where, str(p), ok, "ok" if ok else "CHECKSUM MISMATCH"))
            break
    if not out:
        how = ds.extra.get("how_to_get", "").format(year=ds.years[-1] if ds.years else "YEAR")
        out.append(
            FileStatus(ds.name, f"<one file per year, {len(ds.years)} years>", "missing", None, False, how)
        )
    return out


def download(
    url: str,
    dest: Path,
    *,
    announce: Callable[[int | None], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` (via a temporary file), streaming.

    Parameters
    ----------
    announce
        Called once with the size in bytes the server reports (``None`` when it does not say),
        before any of the body is read.
    progress
        Called with (bytes so far, total or ``None``) as the download proceeds.

    Raises
    ------
    DataUnavailableError
        On any network or HTTP error (naming the address).
    """
    import requests

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    try:
        with requests.get(url, stream=True, timeout=timeout) as resp:
            resp.raise_for_status()
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if announce is not None:
                announce(total)
            done = 0
            with tmp.open("wb") as fh:
                for chunk in resp.iter_content(chunk_size=1 << 20):
                    fh.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
    except requests.RequestException as exc:
        tmp.unlink(missing_ok=True)
        raise DataUnavailableError(
            f"could not download {url} ({type(exc).__name__}: {exc}); check the internet connection, or "
            f"download the file by hand and put it in {dest.parent}."
        ) from None
    tmp.replace(dest)
    return dest
