from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="kaifang",
    help="kaifang (开放): trade-policy scenarios in general equilibrium.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
