"""``kaifang gvc DATASET``: value-added decompositions of a world input-output table.

Self-contained: everything beyond typer is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import typer

from kaifang.cli._app import app

_DEFAULT_BY = {"leontief": "country", "kww": "country", "wwz": "pair", "indicators": "country"}
_VALID_BY = {
    "leontief": ("country", "sector"),
    "kww": ("country",),
    "wwz": ("pair", "sector"),
    "indicators": ("country", "sector"),
}
#: Column filtered by --country, --partner and --sector for each method and --by.
_FILTERS = {
    ("leontief", "country"): ("using", "source", None),
    ("leontief", "sector"): ("using", "source", "using_sector"),
    ("kww", "country"): ("country", None, None),
    ("wwz", "pair"): ("exporter", "importer", None),
    ("wwz", "sector"): ("exporter", "importer", "sector"),
    ("indicators", "country"): ("country", None, None),
    ("indicators", "sector"): ("country", None, "sector"),
}
_FORMATS = (".parquet", ".csv", ".xlsx")
_EXCEL_ROWS = 1_048_575


@app.command("gvc")
def gvc_cmd(
    dataset: str = typer.Argument(
        ...,
        help="A data set with a world input-output table (wiod2013, wiod2016, icio, mrio for your own file) "
        "or a multi-sector world (cp2015, demo).",
    ),
    year: int | None = typer.Option(
        None,
        "--year",
        help="Year of the table (wiod2013: 1995-2011, default 2011; wiod2016: 2000-2014; icio).",
    ),
    file: Path | None = typer.Option(
        None, "--file", help="Read this table file (required for mrio, your own table in the long format)."
    ),
    final_demand: list[str] = typer.Option(
        None, "--final-demand", help="Final-demand categories of an mrio file (default: inferred)."
    ),
    merge_regions: list[str] = typer.Option(
        None,
        "--merge-regions",
        help="Aggregate regions first: NAME=A,B,... (labels or country groups such as EU27); repeatable; "
        "regions not named go into --rest-region.",
    ),
    merge_sectors: list[str] = typer.Option(
        None,
        "--merge-sectors",
        help="Aggregate sectors first: NAME=c1,c2,...; repeatable; sectors not named go into --rest-sector.",
    ),
    rest_region: str = typer.Option(
        "ROW", "--rest-region", help="Name of the regions not in --merge-regions."
    ),
    rest_sector: str = typer.Option(
        "other", "--rest-sector", help="Name of the sectors not in --merge-sectors."
    ),
    method: str = typer.Option(
        "indicators", "--method", "-m", help="leontief, kww, wwz or indicators (default)."
    ),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Detail: leontief country|sector, wwz pair|sector, indicators country|sector "
        "(default: country, pair for wwz).",
    ),
    country: list[str] = typer.Option(
        None, "--country", "-c", help="Only these exporting countries (repeat the option for several)."
    ),
    partner: list[str] = typer.Option(
        None,
        "--partner",
        "-p",
        help="Only these partners: importers (wwz) or sources of value added (leontief).",
    ),
    sector: list[str] = typer.Option(
        None, "--sector", "-s", help="Only these exporting sectors (with --by sector)."
    ),
    balanced: bool = typer.Option(
        False,
        "--balanced",
        help="Set gross output to the row sums first, so that every identity holds exactly "
        "(default: the table's own output, as decompr).",
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print one JSON object {method, dataset, year, rows, ...}."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write the full result to FILE.parquet, .csv or .xlsx."
    ),
    rows: int = typer.Option(40, "--rows", min=1, help="Rows shown in the printed table."),
) -> None:
    """Value added in gross exports: Leontief origin, KWW (9 terms), WWZ (16 terms), GVC indicators.

    Values are in the table's units (millions of US dollars for WIOD); shares are fractions.
    Formulas and conventions: docs/valuechains.md.
    """
    import json
    import sys

    from kaifang import valuechains as vc
    from kaifang.cli._app import console, err_console
    from kaifang.valuechains._api import METHODS, check_option

    method = check_option(method, METHODS, "--method")
    by = by or _DEFAULT_BY[method]
    if by not in _VALID_BY[method]:
        from kaifang.errors import suggest

        raise vc.ValueChainError(
            f"--by {by!r} does not apply to --method {method}; use {' or '.join(_VALID_BY[method])}."
            f"{suggest(by, _VALID_BY[method])}"
        )
    if out is not None and out.suffix.lower() not in _FORMATS:
        raise vc.ValueChainError(
            f"--out {str(out)!r}: unknown file type {out.suffix or '(none)'!r}; use a name ending in "
            f"{', '.join(_FORMATS)}."
        )
    import warnings

    from rich.markup import escape

    from kaifang.cli._format import clean
    from kaifang.errors import KaifangWarning

    with (
        err_console.status(f"[bold]{dataset}[/]: reading the table", spinner="dots") as status,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", KaifangWarning)
        table = _load_table(
            dataset, year, file, final_demand, merge_regions, merge_sectors, rest_region, rest_sector
        )
        year = table.year
        if balanced:
            table = table.balanced()
        col_c, col_p, col_s = _FILTERS[(method, by)]
        countries = _resolve(country, table.regions, "--country", "country", table)
        partners = _resolve(partner, table.regions, "--partner", "country", table)
        sectors = _resolve(sector, table.sectors, "--sector", "sector", table)
        if partners and col_p is None:
            raise vc.ValueChainError(f"--partner applies to --method wwz and leontief, not {method}.")
        if sectors and col_s is None:
            raise vc.ValueChainError(f"--sector needs --by sector (with --method {method}, by {by}).")
        status.update(f"[bold]{dataset}[/]: {method} decomposition")
        fn = {"leontief": vc.leontief, "kww": vc.kww, "wwz": vc.wwz, "indicators": vc.indicators}[method]
        df = fn(table) if method == "kww" else fn(table, by=by)
    for message in dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, KaifangWarning)):
        err_console.print(
            f"[bold yellow]warning:[/] {escape(clean(message))}", highlight=False, soft_wrap=True
        )
    for w in caught:
        if not issubclass(w.category, KaifangWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for col, keep in ((col_c, countries), (col_p, partners), (col_s, sectors)):
        if keep:
            df = df[df[col].isin(keep)]
    df = df.reset_index(drop=True)

    if out is not None:
        _write(df, out)
    if as_json:
        doc = {
            "method": method,
            "dataset": dataset,
            "year": year,
            "by": by,
            "units": table.units,
            "balanced": balanced,
            "notes": list(table.notes),
            "rows": _records(df),
        }
        sys.stdout.write(json.dumps(doc, allow_nan=False) + "\n")
        return
    _print(df, method, by, dataset, year, table.units, rows, console)
    if out is not None:
        console.print(f"saved: {out} ({len(df):,} rows)", style="dim")


def _merge_spec(values: list[str] | None, option: str) -> dict[str, list[str]] | None:
    """``NAME=A,B`` entries -> {NAME: [A, B]}."""
    from kaifang.valuechains import ValueChainError

    if not values:
        return None
    out: dict[str, list[str]] = {}
    for v in values:
        name, eq, members = str(v).partition("=")
        parts = [m.strip() for m in members.split(",") if m.strip()]
        if not eq or not name.strip() or not parts:
            raise ValueChainError(
                f"{option} {v!r}: write NAME=MEMBER,MEMBER,... (e.g. {option} EU=EU27 or {option} goods=c1,c2)."
            )
        if name.strip() in out:
            raise ValueChainError(
                f"{option}: the name {name.strip()!r} is given twice; give each aggregate once."
            )
        out[name.strip()] = parts
    return out


def _load_table(
    dataset: str,
    year: int | None,
    file: Path | None,
    final_demand: list[str] | None,
    merge_regions: list[str] | None,
    merge_sectors: list[str] | None,
    rest_region: str,
    rest_sector: str,
):
    """The world input-output table of ``dataset`` (read, validated, aggregated as asked), or the
    table a multi-sector world implies (proportional sourcing)."""
    from kaifang.baseline.worlds import TableSpec, input_output_table, multisector_world
    from kaifang.data.registry import get_dataset
    from kaifang.errors import DataError
    from kaifang.scenario import resolve

    ds = get_dataset(dataset)  # an unknown name gets the registry's message and suggestions
    if year is not None and ds.years and year not in ds.years:
        raise DataError(
            f"--year {year}: data set {dataset!r} covers {ds.years[0]}-{ds.years[-1]}; give one of those years."
        )
    if dataset == "mrio" and file is None:
        raise DataError(
            "data set 'mrio' is your own table: name its file with --file (e.g. --file mytable.parquet; the "
            "long format is described in docs/datasets.md)."
        )
    regions = _merge_spec(merge_regions, "--merge-regions")
    sectors = _merge_spec(merge_sectors, "--merge-sectors")

    def resolver(selector, labels, what, fld):
        fld = fld.replace("baseline.regions.", "--merge-regions ").replace(
            "baseline.sectors.", "--merge-sectors "
        )
        idx = resolve(selector, labels, what=what, field=fld, source="command line", dataset=dataset)
        return [labels[i] for i in idx]

    spec = TableSpec(
        dataset=dataset,
        year=year,
        file=file,
        final_demand=tuple(final_demand) if final_demand else None,
        regions=regions,
        sectors=sectors,
        rest_region=rest_region,
        rest_sector=rest_sector,
        source="command line",
    )
    if "inputoutput" in ds.provides:
        return input_output_table(spec, resolve=resolver)
    if "multisector" in ds.provides:
        if year is not None or file is not None or regions or sectors or final_demand:
            raise DataError(
                f"--year, --file, --final-demand and --merge-* apply to input-output tables; data set "
                f"{dataset!r} is a multi-sector world with one table (drop them)."
            )
        from kaifang.valuechains.counterfactual import table_from_world

        world, _ = multisector_world(spec)
        units = world.units or ("synthetic units" if world.synthetic else "")
        return table_from_world(world, units=units)
    from kaifang.data.registry import providers

    tables = providers("inputoutput")
    raise DataError(
        f"data set {dataset!r} has no world input-output table; `kaifang gvc` reads the input-output "
        f"tables {', '.join(tables)} and the multi-sector worlds cp2015 and demo."
    )


def _resolve(values: list[str] | None, labels: tuple[str, ...], option: str, what: str, table) -> list[str]:
    """Match ``values`` (repeated and/or comma-separated) to ``labels`` (case-insensitive); an
    unknown one is an error with suggestions."""
    from kaifang.cli._format import parse_list
    from kaifang.errors import suggest
    from kaifang.valuechains import ValueChainError

    lower = {lab.lower(): lab for lab in labels}
    out = []
    for part in parse_list(values):
        if part.lower() not in lower:
            ds = table.dataset or "the table"
            shown = ", ".join(labels[:12]) + (" ..." if len(labels) > 12 else ".")
            plural = "Countries" if what == "country" else "Sectors"
            raise ValueChainError(
                f"{option} {part!r}: no {what} of that name in {ds}.{suggest(part, labels)} {plural}: {shown}"
            )
        out.append(lower[part.lower()])
    return out


def _records(df) -> list[dict]:
    from kaifang.results._impl import _clean

    return [_clean(r) for r in df.to_dict(orient="records")]


def _write(df, out: Path) -> None:
    from kaifang.valuechains import ValueChainError

    suffix = out.suffix.lower()
    if suffix == ".xlsx" and len(df) > _EXCEL_ROWS:
        raise ValueChainError(
            f"--out {str(out)!r}: {len(df):,} rows do not fit in an Excel sheet (at most {_EXCEL_ROWS:,}); "
            f"write .parquet or .csv, or narrow the rows with --country, --partner or --sector."
        )
    from kaifang.cli._files import write_failure

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".parquet":
            df.to_parquet(out, index=False)
        elif suffix == ".csv":
            df.to_csv(out, index=False)
        else:
            df.to_excel(out, index=False, sheet_name="value_chains")
    except OSError as exc:
        raise ValueChainError(f"--out {str(out)!r}: cannot write the file: {write_failure(exc)}.") from None


def _print(df, method: str, by: str, dataset: str, year, units: str, rows: int, console) -> None:
    """The first ``rows`` rows, every column (split into several tables when too wide)."""
    from kaifang.cli._format import print_frame
    from kaifang.results._labelled import label_columns

    labels = label_columns(df)
    shown = df.head(rows)
    if len(labels) > 1:  # one key column, so that every part of a split table names its rows
        key = " / ".join(labels)
        joined = shown[labels[0]].astype(str)
        for c in labels[1:]:
            joined = joined + " / " + shown[c].astype(str)
        shown = shown.drop(columns=labels)
        shown.insert(0, key, joined.to_numpy())
    more = len(df) - rows
    hint = f"{more:,} more rows (--rows, --country, --out FILE for all). " if more > 0 else ""
    print_frame(
        console,
        shown,
        title=f"{dataset}{f' {year}' if year else ''} — {method} by {by}",
        max_columns=None,
        caption=f"{hint}Values in {units or 'the table units'}; shares are fractions.",
    )
