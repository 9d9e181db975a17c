"""Usage mistakes are usage errors (usage text, exit 2), help is help (exit 0), and the command
line starts without importing what a command does not need."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kaifang.cli import _click_kind, main

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["foo"], r"No such command 'foo'"),
        (["run"], r"Missing argument"),
        (["run", "--jsn", "x.toml"], r"No such option: --jsn.*--json"),
        (["runs", "show"], r"Missing argument"),
        (["runs", "lst"], r"No such command 'lst'"),
        (["run", "x.toml", "--top", "many"], r"Invalid value for '--top'"),
        (["--threads", "0", "run", "x.toml"], r"--threads"),
    ],
)
def test_usage_errors_exit_2_with_usage_text(argv, message, capsys):
    import re

    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Usage: kaifang" in err and "-h" in err  # the usage line and where to find help
    assert re.search(message, " ".join(err.split())), err
    assert "internal error" not in err and "bug in kaifang" not in err and "Traceback" not in err


def test_typo_of_a_lazy_command_is_suggested(capsys):
    assert main(["estimat"]) == 2
    assert "Did you mean 'estimate'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [[], ["-h"], ["--help"], ["runs"], ["runs", "-h"], ["run", "-h"], ["estimate", "-h"]]
)
def test_help_exit_0(argv, capsys):
    assert main(argv) == 0
    out = capsys.readouterr()
    assert "Usage" in out.out and "kaifang" in out.out
    assert "internal error" not in out.err


def test_top_level_help_lists_every_command(capsys):
    from kaifang.cli._app import COMMANDS

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_version(capsys):
    from importlib.metadata import PackageNotFoundError, version

    try:
        expected = version("kaifang")
    except PackageNotFoundError:
        expected = "0+unknown"
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"kaifang {expected}"


def test_exception_kinds_are_recognised_whatever_click_typer_uses():
    """typer raises click's classes, or those of the click copy it bundles; both are known."""
    import importlib

    import typer

    modules = []
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError:
            pass
    assert modules
    for mod in modules:
        assert _click_kind(mod.UsageError("x")) == "usage"
        assert _click_kind(mod.BadParameter("x")) == "usage"
        assert _click_kind(mod.ClickException("x")) == "usage"
        if hasattr(mod, "Abort"):
            assert _click_kind(mod.Abort()) == "abort"
    assert _click_kind(typer.Exit(3)) == "exit"
    assert _click_kind(typer.Abort()) == "abort"
    assert _click_kind(ValueError("x")) is None


def test_command_table_matches_the_commands():
    """The one-line help `kaifang --help` shows without importing a command is the first
    line of that command's own help."""
    import importlib

    import typer

    from kaifang.cli._app import COMMANDS, _Placeholder, app

    for module, _ in COMMANDS.values():
        importlib.import_module(module)
    group = typer.main.get_command(app)
    for name, (_module, summary) in COMMANDS.items():
        cmd = group.get_command(None, name)
        assert not isinstance(cmd, _Placeholder), name
        first = " ".join((cmd.help or "").split("\n\n")[0].split())
        assert first == summary, name


def _imported_after(code: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    script = f"import sys\n{code}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


HEAVY = {
    "pandas",
    "numpy",
    "pydantic",
    "duckdb",
    "scipy",
    "pyarrow",
    "numba",
    "kaifang.models",
    "kaifang.store",
}


def test_help_imports_nothing_heavy():
    mods = _imported_after(
        "from kaifang.cli import main\nimport contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    main(['--help'])"
    )
    assert not (HEAVY & mods), HEAVY & mods
    # no command module was imported to list the commands
    assert not {m for m in mods if m.startswith("kaifang.cli.") and m[12:] in ("run", "estimate", "runs")}


def test_runs_list_does_not_import_the_models_or_the_scenario_schema(tmp_path):
    code = (
        "from kaifang.cli import main\nimport contextlib, io\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    main(['runs', 'list', '--store', {str(tmp_path / 's.duckdb')!r}])"
    )
    mods = _imported_after(code)
    assert not {"kaifang.models", "kaifang.scenario", "kaifang.estimate", "numba"} & mods


def test_blas_threads_default_and_setting():
    """`kaifang` pins BLAS to one thread before numpy loads (unless told otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != "KAIFANG_THREADS"}
    env["PYTHONPATH"] = str(SRC)
    probe = (
        "import os, sys\nfrom kaifang.cli import _app\n"
        "@_app.app.command('probe-threads')\n"
        "def probe():\n    print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules)\n"
        "from kaifang.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    )

    def run(*args: str, **extra: str) -> str:
        r = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            env={**env, **extra},
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    assert run("probe-threads") == "1 False"  # set before numpy is imported
    assert run("--threads", "3", "probe-threads") == "3 False"
    assert run("probe-threads", KAIFANG_THREADS="2") == "2 False"
    assert run("probe-threads", OPENBLAS_NUM_THREADS="4") == "4 False"  # the user's own setting wins
