"""What the command line writes: the results store (opened before solving) and the saved
results folders (named after a safe slug of the scenario name, never a path)."""

from __future__ import annotations

import datetime as _dt
import errno
import json
from pathlib import Path
from typing import TYPE_CHECKING

from kaifang.errors import ScenarioError, UserInputError

if TYPE_CHECKING:
    from kaifang.results import RunResult
    from kaifang.scenario import Scenario
    from kaifang.store import ResultsStore

__all__ = ["MAX_NAME", "check_name", "open_store", "results_folder", "save_result"]

#: Longest scenario name the command line accepts (a label for tables and folders).
MAX_NAME = 200
RESULTS_DIR = Path("kaifang-results")


def check_name(sc: Scenario) -> None:
    """Refuse, before any solving, a scenario name that is not a short label: longer than
    :data:`MAX_NAME` characters or holding control characters (NUL, ESC, line breaks...)."""
    from kaifang.cli._format import clean

    name = sc.name
    if len(name) > MAX_NAME:
        raise ScenarioError(
            f"{sc.source}: field 'name' is {len(name):,} characters long ({clean(name[:40])}...); a "
            f"scenario name is a short label of at most {MAX_NAME} characters. Shorten it (put "
            f"longer text in 'description')."
        )
    bad = next((ch for ch in name if not ch.isprintable()), None)
    if bad is not None:
        raise ScenarioError(
            f"{sc.source}: field 'name' {clean(name)!r} contains the control character "
            f"U+{ord(bad):04X}; use letters, digits, spaces and punctuation only."
        )


def open_store(path: Path | None) -> ResultsStore:
    """The results store at ``path`` (default location when ``None``), opened and checked for
    writing now, so that a store that cannot record runs is reported before any solving."""
    from kaifang.store import ResultsStore

    return ResultsStore(path).check(write=True)


def results_folder(name: str, out: Path | None, *, single: bool) -> Path:
    """Where to save one run: ``--out`` itself for a single scenario, else
    ``<out or kaifang-results>/<slug of the name>/<time stamp>``. The folder always lies
    inside the chosen base folder."""
    from kaifang.store._files import inside, slug

    if out is not None and single:
        return out
    base = out or RESULTS_DIR
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    folder = base / slug(name, fallback="scenario") / stamp
    if not inside(folder, base):  # pragma: no cover - slug() makes this impossible
        raise RuntimeError(f"results folder {folder} would lie outside {base}")
    return folder


def save_result(result: RunResult, folder: Path, *, csv: bool = False) -> Path:
    """Write ``result.json`` (the ``--json`` document) and each table as Parquet (and CSV
    with ``csv``) into ``folder``; return the folder.

    Files of the same names are replaced; nothing else in the folder is touched. Errors
    (a full disk, no permission, a file in the way) are reported as user errors naming the
    folder.
    """
    import pyarrow.parquet as pq

    from kaifang.results._columns import Columns, as_frame
    from kaifang.store._files import unique_filenames

    frames = result.raw_tables()  # Columns are written through pyarrow, without pandas
    try:
        if folder.exists() and not folder.is_dir():
            raise UserInputError(f"cannot save the results: {folder} is a file. Give another --out folder.")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "result.json").write_text(
            json.dumps(result.to_document(), indent=2, allow_nan=False) + "\n"
        )
        for name, fname in zip(frames, unique_filenames(frames), strict=True):
            table = frames[name]
            if isinstance(table, Columns):
                pq.write_table(table.to_arrow(), folder / f"{fname}.parquet")
            else:
                table.to_parquet(folder / f"{fname}.parquet", engine="pyarrow", index=False)
            if csv:
                as_frame(table).to_csv(folder / f"{fname}.csv", index=False)
    except OSError as exc:
        why = write_failure(exc, "folder")
        raise UserInputError(f"cannot save the results to {folder}: {why} (or run with --no-save).") from None
    return folder


def write_failure(exc: OSError, what: str = "file") -> str:
    """Why a write failed, and the fix, for a message about ``--out`` (a ``what``: file or folder)."""
    if exc.errno == errno.ENOSPC:
        return f"no space left on device; free some disk space or give another --out {what}"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied; give a {what} you can write with --out"
    if exc.errno in (errno.ENOTDIR, errno.EEXIST, errno.ENOENT):
        return "a part of the path is a file, not a folder, or cannot be created; give another --out"
    return f"{exc.strerror or exc}; give another --out"
