"""The agtpa applications panel reads the same from the mirror's CSV and from the public .rda."""

from __future__ import annotations

import shutil

import pandas as pd

from helpers import require_dataset
from kaifang.data import locate
from kaifang.data.agtpa import read_agtpa


def test_rda_fallback_gives_the_same_panel(tmp_path, monkeypatch):
    require_dataset("agtpa")
    from_csv = read_agtpa("agtpa_applications.csv.gz")
    mirror = tmp_path / "mirror" / "agtpa"
    mirror.mkdir(parents=True)
    shutil.copy(locate("agtpa", "agtpa_applications.rda", download=False), mirror / "agtpa_applications.rda")
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "mirror"))
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    from_rda = read_agtpa("agtpa_applications.csv.gz")
    assert list(from_rda.columns) == list(from_csv.columns)
    pd.testing.assert_frame_equal(
        from_rda.reset_index(drop=True), from_csv.reset_index(drop=True), check_dtype=False
    )
