"""A scenario name is a label, never a path: saved results stay inside the results folder,
and absurd names are refused before anything is solved or stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kaifang.cli import main
from kaifang.store import ResultsStore
from kaifang.store._files import MAX_SLUG, slug


@pytest.fixture
def counted_solves(monkeypatch):
    """Replace the solve by a small fixed result and count the calls."""
    import pandas as pd

    import kaifang.models
    from kaifang.results import RunResult

    calls: list[str] = []

    def fake(run, progress=None):
        sc = run.scenario
        calls.append(sc.name)
        regions = pd.DataFrame({"region": ["AAA", "BBB"], "welfare_pct": [0.5, -0.5]})
        return RunResult(model="caliendo_parro", scenario=sc.name, regions=regions)

    monkeypatch.setattr(kaifang.models, "solve_prepared", fake)
    return calls


def _scenario(folder: Path, name_toml: str) -> Path:
    f = folder / "s.toml"
    f.write_text(f'name = {name_toml}\nmodel = "caliendo_parro"\ndataset = "demo"\n')
    return f


def _all_files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", ["ABS", "../../escaped", "a/b\\\\c", "..", "."])
def test_results_folder_is_a_slug_inside_kaifang_results(tmp_path, monkeypatch, counted_solves, name):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    target = tmp_path / "outside"
    toml_name = json.dumps(str(target)) if name == "ABS" else json.dumps(name)
    f = _scenario(tmp_path, toml_name)
    before = _all_files(tmp_path)
    assert main(["run", str(f), "--no-store"]) == 0
    new = _all_files(tmp_path) - before
    assert new, "nothing saved"
    base = (work / "kaifang-results").resolve()
    for p in new:
        assert p.resolve().is_relative_to(base), p
    assert not target.exists()
    (folder,) = {p.parent for p in new}
    assert folder.parent.parent == base and folder.parent.name == slug(
        json.loads(toml_name), fallback="scenario"
    )


def test_long_name_is_refused_before_solving_or_storing(tmp_path, counted_solves, capsys):
    f = _scenario(tmp_path, '"' + "x" * 1_000_000 + '"')
    store = tmp_path / "st.duckdb"
    rc = main(["run", str(f), "--store", str(store)])
    err = capsys.readouterr().err
    assert rc == 2 and counted_solves == []
    assert "field 'name' is 1,000,000 characters long" in err and "at most 200" in err
    assert len(err) < 2000  # the name itself is not echoed back
    assert not store.exists() or ResultsStore(store).run_ids() == []


@pytest.mark.parametrize(
    ("escape", "code"), [("\\u0000", "U+0000"), ("\\u001b[2J", "U+001B"), ("\\n", "U+000A")]
)
def test_control_characters_in_name_are_refused(tmp_path, counted_solves, capsys, escape, code):
    f = _scenario(tmp_path, f'"bad{escape}name"')
    rc = main(["run", str(f), "--no-store"])
    err = capsys.readouterr().err
    assert rc == 2 and counted_solves == []
    assert f"control character {code}" in err and "\x1b" not in err and "\x00" not in err


def test_compare_refuses_absurd_names_too(tmp_path, counted_solves, capsys):
    f = _scenario(tmp_path, '"a\\u0000b"')
    assert main(["compare", str(f), "--no-store"]) == 2
    assert counted_solves == [] and "control character U+0000" in capsys.readouterr().err


def test_slug():
    assert slug("cp2015-nafta") == "cp2015-nafta"
    assert slug("/tmp/x") == "tmp-x"
    assert slug("../../etc/passwd") == "etc-passwd"
    assert slug("..") == "run" and slug("") == "run" and slug("///", fallback="scenario") == "scenario"
    assert slug("a\x00b\x1bc") == "a-b-c"
    assert slug("CON") == "_CON" and slug("nul.txt") == "_nul.txt"
    assert slug("开放 关税") == "开放-关税"
    long_a, long_b = "y" * 500 + "a", "y" * 500 + "b"
    assert len(slug(long_a)) == MAX_SLUG and slug(long_a) != slug(long_b)
    for s in (slug(x) for x in ["a/b", "a\\b", "a:b", " a ", "-a-", ".hidden"]):
        assert "/" not in s and "\\" not in s and not s.startswith((".", "-"))
