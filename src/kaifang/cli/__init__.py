"""The ``kaifang`` command line: thin formatting over the library; exit codes only here.

Exit codes: 0 success, 2 user error (bad file, field, value, unavailable data,
non-convergence), 1 internal failure. A user error never prints a traceback; set
``KAIFANG_DEBUG=1`` to see one for internal failures.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import click
import typer
from rich.markup import escape

from kaifang.cli import compare as _compare  # noqa: F401

# Command modules register themselves on ``app`` when imported.
from kaifang.cli import data as _data  # noqa: F401
from kaifang.cli import estimate as _estimate  # noqa: F401
from kaifang.cli import groups as _groups  # noqa: F401
from kaifang.cli import report as _report  # noqa: F401
from kaifang.cli import run as _run  # noqa: F401
from kaifang.cli import runs as _runs  # noqa: F401
from kaifang.cli import serve as _serve  # noqa: F401
from kaifang.cli import sweep as _sweep  # noqa: F401
from kaifang.cli._app import app, err_console
from kaifang.errors import KaifangError, UserInputError

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0, 1 or 2)."""
    logging.basicConfig(level=os.environ.get("KAIFANG_LOG", "WARNING").upper(), stream=sys.stderr)
    cmd = typer.main.get_command(app)
    try:
        rv = cmd.main(args=argv, prog_name="kaifang", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.Abort:
        err_console.print("aborted")
        return 1
    except click.ClickException as exc:
        exc.show()
        return 2
    except UserInputError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 2
    except KaifangError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:  # an internal failure: short message, traceback on request
        if os.environ.get("KAIFANG_DEBUG"):
            traceback.print_exc()
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
            "This is a bug in kaifang; please report it (set KAIFANG_DEBUG=1 for the traceback).",
            highlight=False,
            soft_wrap=True,
        )
        return 1
    return int(rv or 0)
