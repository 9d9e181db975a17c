"""``kaifang groups list|show``: the built-in country groups and how they map onto a data set."""

from __future__ import annotations

import json
import warnings

import typer
from rich.table import Table

from kaifang.cli._app import app, console

groups_app = typer.Typer(
    help="Built-in country groups (EU by year, ASEAN, CPTPP, ...).", no_args_is_help=True
)
app.add_typer(groups_app, name="groups")


@groups_app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the built-in country groups: name, aliases, members now, history, source."""
    from kaifang.scenario.groups import GROUPS

    seen: dict[str, dict] = {}
    for g in GROUPS.values():
        if g.name in seen:
            continue
        seen[g.name] = {
            "name": g.name,
            "aliases": list(g.aliases),
            "title": g.title,
            "members": list(g.at()),
            "by_year": g.has_history,
            "source": g.source,
        }
    rows = list(seen.values())
    if as_json:
        console.print_json(json.dumps({"groups": rows}))
        return
    t = Table(title="built-in country groups (NAME@YEAR for groups with a history)", title_justify="left")
    for c in ("name", "aliases", "what", "members", "by year", "source"):
        t.add_column(c)
    for r in rows:
        t.add_row(
            r["name"],
            ", ".join(r["aliases"]),
            r["title"],
            str(len(r["members"])),
            "yes" if r["by_year"] else "",
            r["source"],
        )
    console.print(t)


@groups_app.command("show")
def show(
    name: str = typer.Argument(..., help="A group, e.g. EU, EU@2004, ASEAN@1995."),
    dataset: str | None = typer.Option(
        None, "--dataset", help="Also show which members are regions of this data set (needs its data)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Show a group's members (by year with NAME@YEAR) and, with --dataset, how they map onto it."""
    from kaifang.errors import KaifangWarning
    from kaifang.scenario.groups import country_name, group_members
    from kaifang.scenario.select import resolve

    members = list(group_members(name, source="command line", field="name"))
    doc: dict = {"group": name, "members": [{"iso3": m, "name": country_name(m)} for m in members]}
    if dataset is not None:
        labels = _dataset_regions(dataset)
        report: dict = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", KaifangWarning)
            resolve(name, labels, what="region", field="name", source=f"data set {dataset}", report=report)
        doc["dataset"] = dataset
        doc.update({k: v for k, v in report[name].items() if k != "members"})
    if as_json:
        console.print_json(json.dumps(doc))
        return
    console.print(f"[bold]{name}[/]: {len(members)} members", highlight=False)
    console.print(", ".join(f"{m} ({country_name(m)})" for m in members), highlight=False)
    if dataset is not None:
        console.print(f"regions of {dataset}: {', '.join(doc['present'])}", highlight=False)
        if doc["absent"]:
            where = doc["absent_in"] or "outside the model (no rest-of-world region)"
            console.print(f"not separate regions ({where}): {', '.join(doc['absent'])}", highlight=False)


def _dataset_regions(dataset: str) -> list[str]:
    """The region labels of a data set (reads its data)."""
    from kaifang.data.registry import get_dataset
    from kaifang.errors import UserInputError

    ds = get_dataset(dataset)
    if "multisector" in ds.provides and ds.access in ("files", "generated"):
        from kaifang.models.caliendo_parro.runner import load_baseline

        return list(load_baseline(dataset)[0].regions)
    if dataset == "liberation2025":
        import pandas as pd

        from kaifang.data import locate

        return list(pd.read_csv(locate("liberation2025", "country_labels.csv"))["iso3"])
    if dataset in ("agtpa", "wiod44"):
        import pandas as pd

        from kaifang.data import locate

        f = "Chapter2Application2.dta" if dataset == "agtpa" else "GE_gravity_example_data.dta"
        df = pd.read_stata(locate(dataset, f), columns=["exporter"])
        return sorted(str(x) for x in df["exporter"].unique())
    raise UserInputError(f"--dataset {dataset!r}: kaifang cannot list the regions of this data set.")
