"""The ``kaifang`` Typer application, its consoles and the table of its commands.

Start-up time matters for a command line: ``kaifang --help`` imports nothing but Typer and
Rich. Each command's module is imported only when the command is invoked (or its own help is
asked for): :data:`COMMANDS` names the module and carries the one-line help that
``kaifang --help`` lists. A command module imports its heavy dependencies (pandas, the models,
the store) inside the command function, never at module level.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer
import typer.core
from rich.console import Console

__all__ = ["COMMANDS", "app", "configure_consoles", "console", "err_console"]

#: Every top-level command: name -> (the module that defines it, its one-line help). The
#: one-line help must be the first line of the command's docstring (a test checks).
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("kaifang.cli.run", "Solve one or more scenario files and report the change for every region."),
    "validate": (
        "kaifang.cli.validate",
        "Check scenario files completely (model sections, shocks against the data set) without solving.",
    ),
    "new": ("kaifang.cli.new", "Write a commented scenario template for a model and data set."),
    "schema": (
        "kaifang.cli.new",
        "Print the JSON Schema (draft 4) of scenario files, for editors (VS Code, taplo).",
    ),
    "compare": (
        "kaifang.cli.compare",
        "Compare runs side by side: key outcomes (welfare, real wage, trade...) per region per run.",
    ),
    "report": ("kaifang.cli.report", "Write ONE self-contained HTML report for the given runs."),
    "runs": ("kaifang.cli.runs", "Stored runs (the results store): list, show, export, delete."),
    "data": ("kaifang.cli.data", "Public data sets: list, download (fetch), verify checksums."),
    "groups": ("kaifang.cli.groups", "Built-in country groups (EU by year, ASEAN, CPTPP, ...)."),
    "estimate": (
        "kaifang.cli.estimate",
        "Estimate PPML (or OLS) with high-dimensional fixed effects; print coefficients with clustered SEs.",
    ),
    "gvc": (
        "kaifang.cli.gvc",
        "Value added in gross exports: Leontief origin, KWW (9 terms), WWZ (16 terms), GVC indicators.",
    ),
    "serve": (
        "kaifang.cli.serve",
        "Start the web app: build, run, compare and explore scenarios in the browser.",
    ),
    "sweep": (
        "kaifang.cli.sweep",
        "Solve every point of a sweep file on a Dask cluster (or serially) and summarise them.",
    ),
    "sweeps": ("kaifang.cli.sweep", "Stored sweeps (the results store): list, show, delete."),
}


class _Placeholder(typer.core.TyperCommand):
    """Stands for a command whose module is not imported yet (used for listing only)."""


class LazyGroup(typer.core.TyperGroup):
    """The top-level group: lists every command of :data:`COMMANDS` without importing its
    module; imports the module when the command is looked up to run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        known = dict(self.commands)
        ordered: dict[str, Any] = {}
        for name, (_module, summary) in COMMANDS.items():
            ordered[name] = known.pop(name, None) or _Placeholder(name, help=summary, short_help=summary)
        ordered.update(known)
        self.commands = ordered
        self._listing = 0

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        cmd = self.commands.get(cmd_name)
        if not isinstance(cmd, _Placeholder) or self._listing:
            return cmd
        importlib.import_module(COMMANDS[cmd_name][0])  # registers the command on ``app``
        real = typer.main.get_command(app).commands.get(cmd_name)
        if real is None or isinstance(real, _Placeholder):  # pragma: no cover - a broken table
            raise RuntimeError(f"module {COMMANDS[cmd_name][0]} does not define the command {cmd_name!r}")
        self.commands[cmd_name] = real
        return real

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing += 1
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing -= 1


app = typer.Typer(
    name="kaifang",
    help="kaifang (开放): trade-policy scenarios in general equilibrium.",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

console = Console()
err_console = Console(stderr=True)


def _width(stream: Any) -> int:
    """Columns for output to ``stream``: ``$COLUMNS`` when set, else the terminal's width,
    else 200 (pipes and files keep wide tables readable)."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        if stream.isatty():
            return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        pass
    return 200


def configure_consoles() -> None:
    """Set the consoles' widths for the current standard streams (called by ``main``)."""
    console.width = _width(sys.stdout)
    err_console.width = _width(sys.stderr)


def package_version() -> str:
    """The installed kaifang version (without importing the library)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kaifang")
    except PackageNotFoundError:
        return "0+unknown"


_BLAS_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def set_blas_threads(n: int) -> None:
    """Use ``n`` BLAS threads. Before numpy is imported this sets the libraries' environment
    variables (inherited by worker processes too); afterwards it uses threadpoolctl when
    installed."""
    for var in _BLAS_VARS:
        os.environ[var] = str(n)
    if "numpy" in sys.modules:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            return
        threadpool_limits(limits=n, user_api="blas")


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kaifang {package_version()}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", is_eager=True, callback=_version_callback
    ),
    threads: int | None = typer.Option(
        None,
        "--threads",
        min=1,
        envvar="KAIFANG_THREADS",
        help="BLAS threads for the model solves (env KAIFANG_THREADS). Default 1: the solves are "
        "many small steps, fastest on one thread; `estimate` keeps the libraries' default.",
    ),
) -> None:
    """kaifang (开放): trade-policy scenarios in general equilibrium."""
    if threads is not None:
        set_blas_threads(threads)
    elif ctx.invoked_subcommand != "estimate" and not any(v in os.environ for v in _BLAS_VARS):
        set_blas_threads(1)
