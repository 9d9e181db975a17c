"""The OECD ICIO (2023 edition) reader and downloader, on fixture files in the published layout.

Why the numbers are right: the fixture writer (tests/io_tables.py) puts known values into a CSV
laid out as the OECD publishes it (row and column labels <economy>_<industry>, TLS, VA, OUT, the
six final-demand categories, China split into CN1/CN2) and the reader must give back exactly those
values, with CN1 and CN2 summed into CHN. The download is exercised against a local HTTP server
serving a zip bundle (the real OECD download is not exercised: no internet in CI).
"""

from __future__ import annotations

import http.server
import json
import threading
import zipfile
from functools import partial

import numpy as np
import pytest

from io_tables import write_icio_csv
from kaifang.baseline import InputOutputTable
from kaifang.data.icio import fetch_icio, read_icio
from kaifang.errors import ChecksumError, DataError, DataUnavailableError


def test_fixture_parses_to_the_numbers_written(tmp_path):
    path = tmp_path / "ICIO2023_2020.csv"
    want = write_icio_csv(path)
    raw = read_icio(path=path)
    assert raw.regions == ("AUS", "CHN", "USA", "ROW")  # published order, CN1/CN2 folded into CHN
    assert raw.sectors == want["sectors"] and len(raw.sectors) == 45
    assert raw.fd_categories == ("HFCE", "NPISH", "GGFC", "GFCF", "INVNT", "DPABR")
    assert raw.year == 2020 and raw.dataset == "icio"
    np.testing.assert_allclose(raw.Z, want["Z"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(raw.Y, want["Y"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(raw.value_added, want["value_added"], rtol=0, atol=1e-9)
    table = InputOutputTable.from_raw(raw)  # published value added = output less inputs
    np.testing.assert_allclose(table.x, want["x"], rtol=1e-12)
    assert (raw.Y < 0).any()  # a fall in inventories is kept as published


def test_without_split_regions(tmp_path):
    path = tmp_path / "ICIO2023_1995.csv"
    want = write_icio_csv(path, regions=("DEU", "FRA", "ROW"), split_china=False, seed=3)
    raw = read_icio(path=path)
    assert raw.regions == ("DEU", "FRA", "ROW") and raw.year == 1995
    np.testing.assert_allclose(raw.Z, want["Z"], atol=1e-9)


def test_unknown_year_lists_the_years():
    with pytest.raises(DataError, match=r"no year 2021; the 2023 edition covers 1995-2020.*2019, 2020"):
        read_icio(2021)


def test_missing_year_says_how_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KAIFANG_DATA_MIRROR", raising=False)
    with pytest.raises(
        DataUnavailableError, match=r"year 2020 of data set 'icio'.*kaifang data fetch icio --year 2020"
    ):
        read_icio(2020)


def test_not_an_icio_file(tmp_path):
    bad = tmp_path / "ICIO2023_2020.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataError, match=r"ICIO2023_2020.csv: not an OECD ICIO table: its header"):
        read_icio(path=bad)


def test_table_too_large_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "ICIO2023_2020.csv"
    write_icio_csv(path)
    import pymrio

    def never(*a, **k):  # the file must not be parsed
        raise AssertionError("parsed a table that does not fit into memory")

    monkeypatch.setattr(pymrio, "parse_oecd", never)
    monkeypatch.setenv("KAIFANG_MEMORY_LIMIT", "1MB")
    with pytest.raises(
        DataError, match=r"ICIO2023_2020.csv: the table has 6 regions x 45 sectors .* needs about .* GB"
    ):
        read_icio(path=path)


@pytest.fixture
def server(tmp_path):
    """A local HTTP server serving ``tmp_path/www``."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(www)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_fetch_downloads_extracts_and_records_the_checksum(tmp_path, monkeypatch, server):
    www, base = server
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KAIFANG_DATA_MIRROR", raising=False)
    csv = tmp_path / "2020_SML.csv"
    want = write_icio_csv(csv)
    with zipfile.ZipFile(www / "bundle.zip", "w") as zf:
        zf.write(csv, "2020_SML.csv")
        zf.writestr("2019_SML.csv", "V1,AUS_A01_02\n")
    said, seen = [], []
    paths = fetch_icio(
        [2020],
        announce=said.append,
        progress=lambda done, total: seen.append((done, total)),
        url_for=lambda bundle: f"{base}/bundle.zip",
    )
    size = (www / "bundle.zip").stat().st_size
    assert said and "2016-2020 bundle" in said[0] and f"{size / 1e6:,.0f} MB" in said[0]
    assert seen[-1] == (size, size)
    p = paths[2020]
    assert p.name == "ICIO2023_2020.csv" and not (p.parent / "ICIO2023_2016-2020.zip").exists()
    from kaifang.data.store import recorded_checksums, sha256

    assert recorded_checksums(p.parent)["ICIO2023_2020.csv"]["sha256"] == sha256(p)
    raw = read_icio(2020)  # from the cache, verified
    np.testing.assert_allclose(raw.Z, want["Z"], atol=1e-9)
    assert raw.files == {"ICIO2023_2020.csv": sha256(p)}
    # a changed file no longer matches the recorded checksum
    p.write_text(p.read_text() + "\n")
    with pytest.raises(ChecksumError, match=r"ICIO2023_2020.csv.*recorded as .* fetch it again"):
        read_icio(2020)


def test_fetch_of_an_address_that_is_not_a_zip(tmp_path, monkeypatch, server):
    www, base = server
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    (www / "page.html").write_text("<html>moved</html>")
    with pytest.raises(DataError, match=r"is not a zip archive"):
        fetch_icio([2018], url_for=lambda b: f"{base}/page.html")


def test_fetch_offline_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    with pytest.raises(DataUnavailableError, match=r"could not download http://127.0.0.1:9/x.zip"):
        fetch_icio([2000], url_for=lambda b: "http://127.0.0.1:9/x.zip")


def test_cli_fetch_icio_needs_a_year(capsys):
    from kaifang.cli import main

    assert main(["data", "fetch", "icio"]) == 2
    assert "--year" in capsys.readouterr().err
    assert main(["data", "fetch", "icio", "--year", "2030"]) == 2
    assert "no year 2030" in capsys.readouterr().err


def test_cli_fetch_then_run_a_scenario_on_the_year(tmp_path, monkeypatch, server, capsys):
    """`kaifang data fetch icio --year 2020`, then `dataset = "icio"`, `[baseline] year = 2020`."""
    from kaifang.cli import main
    from kaifang.data import icio

    www, base = server
    monkeypatch.setenv("KAIFANG_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KAIFANG_DATA_MIRROR", raising=False)
    csv = tmp_path / "2020_SML.csv"
    write_icio_csv(csv)
    with zipfile.ZipFile(www / "b.zip", "w") as zf:
        zf.write(csv, "2020_SML.csv")
    monkeypatch.setattr(icio, "_bundle_url", lambda bundle: f"{base}/b.zip")
    assert main(["data", "fetch", "icio", "--year", "2020"]) == 0
    out = capsys.readouterr()
    assert "2016-2020 bundle" in out.err and "MB" in out.err and "sha256" in out.out
    sc = tmp_path / "icio.toml"
    sc.write_text(
        'name = "icio-2020"\ndescription = "t"\nmodel = "caliendo_parro"\ndataset = "icio"\n'
        "[baseline]\nyear = 2020\n"
        '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "USA"\nexporter = "CHN"\nsector = "goods"\nvalue = 10\n'
    )
    assert main(["run", str(sc), "--json", "--no-save", "--no-store"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert doc["provenance"]["world"]["table"]["year"] == 2020
    assert doc["provenance"]["files"] == {
        "ICIO2023_2020.csv": doc["provenance"]["files"]["ICIO2023_2020.csv"]
    }
