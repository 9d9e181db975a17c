"""The in-process table cache: a table file is parsed once while it stays the same."""

from __future__ import annotations

import numpy as np
import pytest

from kaifang.data.mrio import TABLE_CACHE_SIZE, RawMRIO, cached_table


def _reader(calls: list[int], value: float):
    def read() -> RawMRIO:
        calls.append(1)
        return RawMRIO(
            dataset="x",
            year=2000,
            regions=("A", "B"),
            sectors=("s",),
            fd_categories=("hh",),
            Z=np.full((2, 2), value),
            Y=np.full((2, 2), value),
            x=np.full(2, value),
            files={"t.bin": "0"},
        )

    return read


def test_a_file_is_read_once_and_each_caller_gets_its_own_arrays(tmp_path):
    f = tmp_path / "t.bin"
    f.write_bytes(b"first")
    calls: list[int] = []
    a = cached_table("x", 2000, f, _reader(calls, 1.0))
    a.Z[0, 0] = -5.0  # a caller changing its copy
    a.files["t.bin"] = "changed"
    b = cached_table("x", 2000, f, _reader(calls, 1.0))
    assert len(calls) == 1
    assert b.Z[0, 0] == 1.0 and b.files == {"t.bin": "0"}
    assert not np.shares_memory(a.Z, b.Z)


def test_a_changed_file_is_read_again(tmp_path):
    f = tmp_path / "t.bin"
    f.write_bytes(b"first")
    calls: list[int] = []
    cached_table("x", 2000, f, _reader(calls, 1.0))
    f.write_bytes(b"second version")  # another size (and time)
    b = cached_table("x", 2000, f, _reader(calls, 2.0))
    assert len(calls) == 2 and b.Z[0, 0] == 2.0


def test_only_the_last_tables_are_kept(tmp_path):
    calls: list[int] = []
    files = []
    for k in range(TABLE_CACHE_SIZE + 1):
        f = tmp_path / f"t{k}.bin"
        f.write_bytes(b"x" * (k + 1))
        files.append(f)
        cached_table("x", 2000, f, _reader(calls, float(k)))
    assert len(calls) == TABLE_CACHE_SIZE + 1
    cached_table("x", 2000, files[-1], _reader(calls, 0.0))  # still kept
    assert len(calls) == TABLE_CACHE_SIZE + 1
    cached_table("x", 2000, files[0], _reader(calls, 0.0))  # the oldest was let go
    assert len(calls) == TABLE_CACHE_SIZE + 2


def test_a_table_file_that_is_not_there_is_a_sentence(tmp_path):
    from kaifang.data.wiod2013 import read_wiod2013
    from kaifang.errors import DataError

    missing = tmp_path / "wiot_2011.RData"
    with pytest.raises(DataError, match=r"wiot_2011\.RData: no such file \(field \[baseline\] file\)"):
        read_wiod2013(2011, path=missing)
