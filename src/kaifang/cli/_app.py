from __future__ import annotations

import sys

import typer
from rich.console import Console

app = typer.Typer(
    name="kaifang",
    help="kaifang (开放): trade-policy scenarios in general equilibrium.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# When output is piped (not a terminal) Rich would wrap tables at 80 columns; use a wide
# console instead so that saved logs and pipes keep every column readable.
console = Console(width=None if sys.stdout.isatty() else 200)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
