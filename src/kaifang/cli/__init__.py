"""The ``kaifang`` command line: thin formatting over the library; exit codes only here.

Exit codes: 0 success, 2 user error (a usage mistake, a bad file, field or value, unavailable
data, non-convergence, an unusable results store), 1 internal failure. A user error never
prints a traceback; set ``KAIFANG_DEBUG=1`` to see one for internal failures.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback

import typer

from kaifang._environ import restore
from kaifang.cli._app import _BLAS_VARS, app, configure_consoles, err_console
from kaifang.errors import KaifangError, UserInputError

__all__ = ["app", "main"]


def _click_kind(exc: BaseException) -> str | None:
    """What a command-line-parser exception means: ``"exit"``, ``"abort"``, ``"help"`` (no
    arguments: help was shown), ``"usage"``; ``None`` for anything else.

    Typer raises click's exception classes, or those of the copy of click it bundles
    (``typer._click``) in newer releases; both are recognised by class name in the
    exception's type hierarchy, so the command line does not depend on which click it runs on.
    """
    for cls in type(exc).__mro__:
        root = cls.__module__.split(".")[0]
        if root not in ("click", "typer"):
            continue
        if cls.__name__ == "Exit":
            return "exit"
        if cls.__name__ == "Abort":
            return "abort"
        if cls.__name__ == "NoArgsIsHelpError":
            return "help"
        if cls.__name__ in ("UsageError", "ClickException"):
            return "usage"
    return None


def _message(exc: BaseException) -> str:
    from rich.markup import escape

    from kaifang.cli._format import clean

    return escape(clean(str(exc), keep_newlines=True))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (0, 1 or 2)."""
    logging.basicConfig(level=os.environ.get("KAIFANG_LOG", "WARNING").upper(), stream=sys.stderr)
    configure_consoles()
    saved_env = {v: os.environ.get(v) for v in _BLAS_VARS}
    cmd = typer.main.get_command(app)
    try:
        rv = cmd.main(args=argv, prog_name="kaifang", standalone_mode=False)
    except UserInputError as exc:
        err_console.print(f"[bold red]error:[/] {_message(exc)}", highlight=False, soft_wrap=True)
        return 2
    except KaifangError as exc:
        err_console.print(f"[bold red]error:[/] {_message(exc)}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130
    except Exception as exc:
        kind = _click_kind(exc)
        if kind == "exit":
            return int(getattr(exc, "exit_code", 0) or 0)
        if kind == "abort":
            err_console.print("aborted")
            return 1
        if kind in ("help", "usage"):
            exc.show()  # type: ignore[attr-defined]  # usage line, "Try ... -h", the error
            return 0 if kind == "help" else 2
        # an internal failure: short message, traceback on request
        if os.environ.get("KAIFANG_DEBUG"):
            traceback.print_exc()
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {_message(exc)}\n"
            "This is a bug in kaifang; please report it (set KAIFANG_DEBUG=1 for the traceback).",
            highlight=False,
            soft_wrap=True,
        )
        return 1
    finally:
        restore(saved_env)
    return int(rv or 0)
