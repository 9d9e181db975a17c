"""``kaifang data list|fetch|verify``."""

from __future__ import annotations

import json

import typer

from kaifang.cli._app import app, console

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
        local = "generated" if ds.synthetic else ("yes" if st and all(s.ok for s in st) else "no")
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
def fetch_(names: list[str] = typer.Argument(None, help="Data sets to fetch (default: all).")) -> None:
    """Download data sets into the cache (or find them in the mirror), verifying checksums."""
    from kaifang.data import DATASETS, fetch, get_dataset

    for name in names or [d.name for d in DATASETS.values() if not d.synthetic]:
        ds = get_dataset(name)
        console.print(f"{ds.name}: {len(ds.files)} files, {ds.size / 1e6:.1f} MB", markup=False)
        for fname, path in fetch(ds.name).items():
            console.print(f"  ok  {fname}  {path}", markup=False, highlight=False)


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
