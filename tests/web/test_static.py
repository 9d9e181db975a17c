"""The committed build in src/kaifang/web/static matches the front-end sources in web/."""

from __future__ import annotations

import json
import re
from pathlib import Path

from kaifang.web import STATIC_DIR
from kaifang.web._static import sources_sha256

ROOT = Path(__file__).resolve().parents[2]


def test_committed_build_is_up_to_date_with_the_sources():
    info = json.loads((STATIC_DIR / "build-info.json").read_text())
    digest, files = sources_sha256(ROOT / "web")
    assert files == info["files"], "front-end files were added or removed"
    assert digest == info["sources_sha256"], (
        "web/ changed since the committed build; run `cd web && npm ci && npm run build` and commit "
        "src/kaifang/web/static"
    )


def test_build_references_only_bundled_assets():
    """The page loads nothing from the network: every script and style is under /assets/."""
    html = (STATIC_DIR / "index.html").read_text()
    refs = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/assets/") for r in refs), refs
    for r in refs:
        assert (STATIC_DIR / r.lstrip("/")).is_file(), r
    for js in (STATIC_DIR / "assets").glob("*.js"):
        text = js.read_text()
        assert not re.search(r"(import|fetch)\(\s*['\"]https?://", text), js
