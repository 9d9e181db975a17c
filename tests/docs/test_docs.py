"""The documentation: no paths outside the project, links that resolve, README code that runs.

* No file in src/, docs/, benchmarks/ or README.md names a ``shared/`` folder as a path (users
  have only the project and their own copy of the data).
* Every relative markdown link in README.md and docs/**/*.md points to an existing file (a
  ``#anchor`` after it is allowed and not checked).
* Every ```python block of README.md runs: the blocks in order, in one namespace, in a
  temporary working folder that holds the project's ``scenarios/``, with the data mirror of the
  environment (``KAIFANG_DATA_MIRROR``). A block that reads a data set that is not available is
  skipped with a message saying how to get it.

The checkers are plain functions, and the tests also run them on a planted bad link, a planted
path and a failing block, so that they are known to catch what they look for.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from helpers import have_dataset

ROOT = Path(__file__).resolve().parents[2]
SKIP_DIRS = {"node_modules", "__pycache__", "static", ".git"}
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".toml",
    ".txt",
    ".json",
    ".yaml",
    ".yml",
    ".ts",
    ".tsx",
    ".js",
    ".html",
    ".css",
}

#: ``shared/`` as a path: after a slash, a dot, a quote, a backtick, a space or the start of a
#: line, and followed by something (``../shared/data``, ``/shared/x``, ``"shared" / "data"``).
SHARED_PATH = re.compile(r"""(?:(?<=[\s/.'"`(=])|^)shared/\S|["']shared["']\s*/""", re.MULTILINE)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
DATASETS = ("cp2015", "agtpa", "wiod44", "wiod2013", "liberation2025", "icio", "wiod2016")


def project_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for top in ("src", "docs", "benchmarks"):
        for p in sorted((ROOT / top).rglob("*")):
            if p.is_file() and p.suffix in TEXT_SUFFIXES and not SKIP_DIRS & set(p.relative_to(ROOT).parts):
                files.append(p)
    return files


def shared_mentions(files: list[Path]) -> list[str]:
    out = []
    for path in files:
        for k, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if SHARED_PATH.search(line):
                out.append(f"{path}:{k}: {line.strip()}")
    return out


def markdown_files(root: Path) -> list[Path]:
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def _strip_code(text: str) -> str:
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"`[^`\n]*`", "", text)


def broken_links(files: list[Path]) -> list[str]:
    bad = []
    for md in files:
        for m in LINK.finditer(_strip_code(md.read_text(encoding="utf-8"))):
            target = m.group(1) or m.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
                continue  # http:, https:, mailto: ... and anchors within the page
            path = target.split("#", 1)[0]
            if not path:
                continue
            if not (md.parent / path).exists():
                bad.append(f"{md}: [{target}] -> {md.parent / path} does not exist")
    return bad


def python_blocks(markdown: str) -> list[str]:
    return FENCE.findall(markdown)


def run_blocks(blocks: list[str], workdir: Path) -> None:
    """Run the blocks in order in one namespace with ``workdir`` as the working folder; skip
    (with how to get it) at the first block that names a data set that is not available."""
    namespace: dict = {"__name__": "__readme__"}
    old = Path.cwd()
    os.chdir(workdir)
    try:
        for k, code in enumerate(blocks, 1):
            needed = [d for d in DATASETS if re.search(rf"""["']{d}["']|{d}[-_]""", code)]
            missing = [d for d in needed if not have_dataset(d)]
            if missing:
                pytest.skip(
                    f"README python block {k} needs data set {missing[0]!r}: set KAIFANG_DATA_MIRROR to a "
                    f"local copy of the data folder or run `kaifang data fetch {missing[0]}`"
                )
            try:
                exec(compile(code, f"README.md python block {k}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"README python block {k} failed: {exc!r}\n{code}") from exc
    finally:
        os.chdir(old)


# -- the project ------------------------------------------------------------------------------


def test_no_shared_paths():
    hits = shared_mentions(project_files())
    assert not hits, "paths into a shared/ folder (users do not have one):\n" + "\n".join(hits)


def test_relative_links_resolve():
    bad = broken_links(markdown_files(ROOT))
    assert not bad, "\n".join(bad)


def test_docs_models_are_linked():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/models/index.md)" in readme
    index = (ROOT / "docs" / "models" / "index.md").read_text(encoding="utf-8")
    for page in ("caliendo-parro.md", "gravity.md", "ims2025.md", "../valuechains.md"):
        assert f"]({page})" in index


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))  # never download into the user's cache
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 4, "the README's Python examples"
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    run_blocks(blocks, tmp_path)


# -- the checkers catch what they look for ----------------------------------------------------


def test_checkers_catch_planted_mistakes(tmp_path):
    (tmp_path / "docs" / "models").mkdir(parents=True)
    (tmp_path / "docs" / "ok.md").write_text("fine\n")
    (tmp_path / "README.md").write_text(
        "[good](docs/ok.md#part) [web](https://example.org) [here](#top) `[code](nowhere.md)`\n"
        "[bad](docs/missing.md)\n"
    )
    (tmp_path / "docs" / "models" / "m.md").write_text("[up](../ok.md) [gone](../../nope.md#x)\n")
    bad = broken_links(markdown_files(tmp_path))
    assert len(bad) == 2 and "missing.md" in bad[0] and "nope.md" in bad[1]

    planted = tmp_path / "bench.py"
    planted.write_text(
        'doc = "KAIFANG_DATA_MIRROR=../shared/data"\nm = ROOT.parent / "shared" / "data"\n'
        "x = 'shared memory'  # a shared machine, shared_shocks\n"
    )
    hits = shared_mentions([planted])
    assert [h.split(":")[1] for h in hits] == ["1", "2"]


def test_block_runner_fails_and_shares_a_namespace(tmp_path):
    run_blocks(["x = 2", "assert x == 2"], tmp_path)
    with pytest.raises(AssertionError, match="block 2 failed"):
        run_blocks(["y = 1", "1 / 0"], tmp_path)
