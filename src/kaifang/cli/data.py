"""``kaifang data list|fetch|verify``."""

from __future__ import annotations

import json

import typer

from kaifang.cli._app import app, console, err_console

data_app = typer.Typer(
    help="Public data sets: list, download (fetch), verify checksums.", no_args_is_help=True
)
app.add_typer(data_app, name="data")


@data_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """List the registered data sets: size, whether they are available locally, licence, source."""
    from rich.table import Table
    from rich.text import Text

    from kaifang.data import DATASETS, cache_dir, mirror_dir, status

    rows = []
    for ds in DATASETS.values():
        st = status(ds.name)
        if ds.synthetic:
            local = "generated"
        elif ds.access == "user_file":
            local = "your file"
        elif ds.access == "by_year":
            years = [s.file for s in st if s.ok]
            local = f"{len(years)} of {len(ds.years)} years" if years else "no (by year)"
        else:
            local = "yes" if st and all(s.ok for s in st) else "no"
        rows.append(
            {
                "name": ds.name,
                "title": ds.title,
                "files": len(ds.files),
                "size_mb": round(ds.size / 1e6, 2),
                "available": local,
                "source": ds.source,
                "licence": ds.licence,
                "homepage": ds.homepage,
            }
        )
    if as_json:
        console.print_json(
            json.dumps({"datasets": rows, "mirror": str(mirror_dir() or ""), "cache": str(cache_dir())})
        )
        return
    t = Table(title="kaifang data sets", title_justify="left")
    for col in ("name", "title", "MB", "local", "licence"):
        t.add_column(col, no_wrap=col in ("name", "MB", "local"), justify="right" if col == "MB" else "left")
    for r in rows:
        t.add_row(
            *(Text(x) for x in (r["name"], r["title"], f"{r['size_mb']:.2f}", r["available"], r["licence"]))
        )
    console.print(t)
    console.print("sources:", highlight=False, markup=False)
    for r in rows:
        where = r["homepage"] or r["source"]
        console.print(f"  {r['name']}: {where}", highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"mirror: {mirror_dir() or '(KAIFANG_DATA_MIRROR not set)'}   cache: {cache_dir()}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


@data_app.command("fetch")
def fetch_(
    names: list[str] = typer.Argument(None, help="Data sets to fetch (default: all with registered files)."),
    year: list[int] = typer.Option(
        None, "--year", help="Years to fetch of a data set published one file per year (icio); repeatable."
    ),
) -> None:
    """Download data sets into the cache (or find them in the mirror), verifying checksums.

    `kaifang data fetch icio --year 2020` downloads one year of the OECD ICIO tables (2023 edition):
    the size is shown before the download starts, a progress bar while it runs, and the file's
    SHA-256 is recorded and checked on every later read.
    """
    from kaifang.data import DATASETS, fetch, get_dataset
    from kaifang.errors import UserInputError

    chosen = names or [d.name for d in DATASETS.values() if d.access == "files"]
    for name in chosen:
        ds = get_dataset(name)
        if ds.access == "by_year":
            _fetch_by_year(ds.name, year)
            continue
        if year:
            raise UserInputError(
                f"--year applies to data sets published one file per year (icio), not {name!r}."
            )
        if ds.access != "files":
            console.print(f"{ds.name}: nothing to download ({ds.source}).", markup=False)
            continue
        console.print(f"{ds.name}: {len(ds.files)} files, {ds.size / 1e6:.1f} MB", markup=False)
        for fname, path in fetch(ds.name).items():
            console.print(f"  ok  {fname}  {path}", markup=False, highlight=False)


def _fetch_by_year(name: str, years: list[int] | None) -> None:
    from kaifang.data import get_dataset
    from kaifang.errors import UserInputError

    ds = get_dataset(name)
    if not years:
        raise UserInputError(
            f"data set {name!r} is published one file per year ({ds.years[0]}-{ds.years[-1]}); say which with "
            f"--year, e.g. `kaifang data fetch {name} --year {ds.years[-1]}`."
        )
    if name != "icio":
        raise UserInputError(
            f"data set {name!r} cannot be downloaded by kaifang: "
            + ds.extra.get("how_to_get", ds.source).format(year=years[0])
        )
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    from kaifang.data.icio import fetch_icio

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("icio", total=None)

        def announce(message: str) -> None:
            bar.console.print(message, highlight=False, soft_wrap=True)
            bar.reset(task, total=None)

        def progress(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        paths = fetch_icio(years, announce=announce, progress=progress)
    from kaifang.data.store import recorded_checksums

    for y, p in sorted(paths.items()):
        rec = recorded_checksums(p.parent).get(p.name, {})
        sha = rec.get("sha256", "(no record)")
        console.print(f"  ok  icio {y}  {p}  sha256 {sha}", highlight=False)


@data_app.command("verify")
def verify_(names: list[str] = typer.Argument(None, help="Data sets to verify (default: all).")) -> None:
    """Check the SHA-256 of every locally available file; exit 2 on a mismatch."""
    from kaifang.data import DATASETS, status
    from kaifang.errors import ChecksumError

    bad = []
    for name in names or [d.name for d in DATASETS.values() if not d.synthetic]:
        for s in status(name):
            console.print(
                f"{s.dataset:15} {s.file:28} {s.location:8} {s.message}", markup=False, highlight=False
            )
            if s.location != "missing" and not s.ok:
                bad.append(f"{s.path}")
    if bad:
        raise ChecksumError(
            "checksum mismatch for: " + ", ".join(bad) + ". Delete these files (or fix the mirror) and run "
            "`kaifang data fetch`."
        )
