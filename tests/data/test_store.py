"""The data layer: mirror lookup, checksum verification, offline messages."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers import require_dataset
from kaifang.data import DATASETS, fetch, locate, status
from kaifang.errors import ChecksumError, DataError, DataUnavailableError


def test_registry_has_the_shared_datasets():
    for name in ("cp2015", "agtpa", "wiod44", "liberation2025", "demo"):
        assert name in DATASETS
    for ds in DATASETS.values():
        for f in ds.files:
            assert len(f.sha256) == 64 and f.size > 0


def test_unknown_dataset_suggests_closest():
    with pytest.raises(DataError, match=r"unknown data set 'cp2016'.*'cp2015'"):
        locate("cp2016", "B.txt")


def test_offline_without_mirror_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(tmp_path / "nomirror"))
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    with pytest.raises(DataUnavailableError, match=r"B\.txt.*cp2015.*KAIFANG_DATA_MIRROR.*demo"):
        locate("cp2015", "B.txt", download=False)


def test_mirror_files_verify(monkeypatch):
    require_dataset("cp2015")
    paths = fetch("cp2015", download=False)
    assert set(paths) == {f.name for f in DATASETS["cp2015"].files}
    assert all(s.ok and s.location == "mirror" for s in status("cp2015"))


def test_checksum_mismatch_names_file_and_fix(tmp_path, monkeypatch):
    require_dataset("cp2015")
    src = Path(locate("cp2015", "T.txt", download=False))
    mirror = tmp_path / "mirror"
    (mirror / "cp2015").mkdir(parents=True)
    bad = mirror / "cp2015" / "T.txt"
    shutil.copy(src, bad)
    with bad.open("a") as fh:
        fh.write("1\n")
    monkeypatch.setenv("KAIFANG_DATA_MIRROR", str(mirror))
    with pytest.raises(
        ChecksumError, match=r"checksum mismatch for .*T\.txt.*expected SHA-256.*kaifang data fetch cp2015"
    ):
        locate("cp2015", "T.txt", download=False)
