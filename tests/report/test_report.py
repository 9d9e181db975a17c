"""The HTML report: self-contained (no http/https resource), drawn in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from browser import chromium_driver

from kaifang.cli import main
from kaifang.report import offline_safe, render_report, write_report
from kaifang.results import RunResult
from kaifang.results.diversion import diversion_tables
from kaifang.scenario import parse_scenario
from kaifang.store import ResultsStore

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
REGIONS = ["CHN", "USA", "DEU", "JPN", "MEX", "ROW"]
SECTORS = ["Agriculture", "Textile", "Auto", "Finance"]
TEXT = (
    'name = "us-china"\ndescription = "US +25 points on Chinese goods; China retaliates"\n'
    'model = "caliendo_parro"\ndataset = "cp2015"\n'
    '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "USA"\nexporter = "CHN"\nvalue = 25\nmirror = true\n'
)


def make_result(seed: int = 0, name: str = "us-china") -> RunResult:
    """A run with the shape of a Caliendo-Parro result (values random: the report is under test)."""
    rng = np.random.default_rng(seed)
    n = len(REGIONS)
    tot, vot = rng.normal(size=n), rng.normal(size=n)
    regions = pd.DataFrame(
        {
            "region": REGIONS,
            "welfare_pct": tot + vot,
            "terms_of_trade_pct": tot,
            "volume_of_trade_pct": vot,
            "real_wage_pct": rng.normal(size=n),
            "exports_pct": rng.normal(size=n) * 5,
            "imports_pct": rng.normal(size=n) * 5,
        }
    )
    b = rng.uniform(1, 10, (n, n, len(SECTORS)))
    c = b * rng.uniform(0.5, 1.5, b.shape)
    rr, ss = np.meshgrid(range(n), range(len(SECTORS)), indexing="ij")
    sectors = pd.DataFrame(
        {
            "region": np.array(REGIONS)[rr.ravel()],
            "sector": np.array(SECTORS)[ss.ravel()],
            "gross_output_pct": rng.normal(size=rr.size),
            "exports_pct": rng.normal(size=rr.size),
        }
    )
    sc = parse_scenario(TEXT.replace("us-china", name))
    return RunResult(
        model="caliendo_parro",
        scenario=name,
        regions=regions,
        tables={"sectors": sectors, **diversion_tables(b, c, REGIONS)},
        diagnostics={"converged": True, "iterations": 10, "residual": 1e-13, "solve_seconds": 0.5},
        provenance={
            "dataset": "cp2015",
            "files": {"B.txt": "ab" * 32},
            "scenario_text": sc.text,
            "scenario_sha256": sc.sha256,
            "kaifang_version": "test",
            "groups": {"CPTPP": {"present": ["JPN", "MEX"], "absent": ["VNM"], "absent_in": "ROW"}},
        },
    )


def _no_web_resources(text: str) -> None:
    assert not re.search(r"(?i)https?://", text), "the report references an http(s) address"
    assert "cdn.plot.ly/un" not in text and "topojson/" in text


def test_report_is_self_contained(tmp_path):
    html = render_report([make_result(0), make_result(1, "second")])
    _no_web_resources(html)
    assert html.count('class="world-map"') == 2
    assert 'data-iso3="CHN"' in html and "Welfare by country" in html and "Sector detail" in html
    assert "Import diversion" in html and "Side by side" in html
    assert "@media print" in html
    assert "<script src" not in html and "<link" not in html


def _with_measure(res: RunResult, measure: str | None) -> RunResult:
    import dataclasses

    diag = {k: v for k, v in res.diagnostics.items() if k != "welfare_measure"}
    if measure is not None:
        diag["welfare_measure"] = measure
    return dataclasses.replace(res, diagnostics=diag)


EXACT = "welfare_pct is the exact change in real income, 100 (I'/I / P-hat - 1), with ..."


def test_headline_names_the_welfare_measure_and_uses_welfare_pct():
    res = _with_measure(make_result(0), EXACT)
    html = render_report([res])
    best = res.regions.loc[res.regions["welfare_pct"].idxmax()]
    assert f"{best['region']} ({best['welfare_pct']:,.3f})" in html  # largest gain on welfare_pct
    assert "exact change in real income</span>" in html and EXACT.replace("'", "&#39;") in html
    assert "Different welfare measures" not in html


def test_report_and_compare_warn_when_runs_measure_welfare_differently():
    from kaifang.report.compare import measure_warning

    a = _with_measure(make_result(0), EXACT)
    b = _with_measure(
        make_result(1, "second"), "first-order decomposition of Caliendo and Parro (2015): ToT + VoT"
    )
    html = render_report([a, b])
    assert "Different welfare measures" in html
    msg = measure_warning({"a": a, "b": b})
    assert msg is not None and "a: exact change in real income" in msg
    assert "b: first-order decomposition of Caliendo and Parro" in msg
    assert measure_warning({"a": a, "a2": _with_measure(make_result(2), EXACT)}) is None
    assert "not stated by the run" in measure_warning({"a": a, "old": _with_measure(make_result(3), None)})


def test_cli_compare_shows_each_measure_and_warns(tmp_path, capsys):
    store = ResultsStore(tmp_path / "s.duckdb")
    a = store.add(_with_measure(make_result(0), EXACT), parse_scenario(TEXT))
    b = store.add(
        _with_measure(make_result(1, "old"), "first-order decomposition of Caliendo and Parro (2015)"),
        parse_scenario(TEXT.replace("us-china", "old")),
    )
    assert main(["compare", a, b, "--store", str(store.path)]) == 0
    out = capsys.readouterr()
    assert "welfare_pct: exact change in real income" in out.out
    assert "warning: these runs measure welfare_pct differently" in " ".join(out.err.split())
    assert main(["compare", a, b, "--store", str(store.path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["runs"][0]["welfare_measure"] == EXACT and len(doc["warnings"]) == 1


def test_offline_safe_rewrites_urls_everywhere():
    page = '<p>see https://example.org</p><script>var a="http://x.y/";</script>'
    out = offline_safe(page)
    assert "https:&#47;&#47;example.org" in out and 'var a="http:\\/\\/x.y/"' in out


def test_cli_report_from_store(tmp_path, capsys):
    store = ResultsStore(tmp_path / "s.duckdb")
    rid = store.add(make_result(), parse_scenario(TEXT))
    out = tmp_path / "r.html"
    assert main(["report", rid, "--out", str(out), "--store", str(store.path)]) == 0
    _no_web_resources(out.read_text())


def test_cli_report_bad_input(tmp_path, capsys):
    store = ResultsStore(tmp_path / "s.duckdb")
    rid = store.add(make_result(), parse_scenario(TEXT))
    assert main(["report", rid, "--out", str(tmp_path / "r.pdf"), "--store", str(store.path)]) == 2
    assert "ending in .html" in capsys.readouterr().err
    assert (
        main(["report", rid[:-3] + "zzz", "--out", str(tmp_path / "r.html"), "--store", str(store.path)]) == 2
    )
    assert "Did you mean" in capsys.readouterr().err


def test_report_draws_in_headless_chromium(tmp_path):
    """Open the file offline in Chromium: plotly draws every chart, the map has coloured
    countries, no console error; save a screenshot and a PDF print under artifacts/."""
    path = write_report([make_result(0), make_result(1, "second")], tmp_path / "report.html")
    driver = chromium_driver()
    try:
        driver.get(path.as_uri())
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script(
                "return document.querySelectorAll('.js-plotly-plot .main-svg').length >= 8"
            )
        )
        charts = driver.execute_script(
            "return Array.from(document.querySelectorAll('.js-plotly-plot')).map(e => "
            "[e.id, e.querySelectorAll('.main-svg').length, e.querySelectorAll('.bars .point, .heatmaplayer image, .hm image, .scatterlayer .point').length])"
        )
        # 2 runs x (welfare, trade, diversion, sectors)
        assert len(charts) == 8
        assert all(svgs >= 1 and marks >= 1 for _, svgs, marks in charts), charts
        maps = driver.execute_script(
            "return Array.from(document.querySelectorAll('svg.world-map')).map(s => {"
            "const r = s.getBoundingClientRect();"
            "return [s.querySelectorAll('g.country.shown').length, s.querySelectorAll('g.country path').length, r.width, r.height];})"
        )
        assert len(maps) == 2
        for shown, paths, w, h in maps:
            assert shown == 5  # CHN USA DEU JPN MEX (ROW is drawn over the other countries)
            assert paths > 1000 and w > 500 and h > 200
        fill = driver.execute_script(
            "const g = document.querySelector('svg.world-map g[data-iso3=\"CHN\"]');"
            "return getComputedStyle(g.querySelector('path')).fill;"
        )
        assert fill not in ("", "none", "rgb(0, 0, 0)")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "report.png"))
        pdf = base64.b64decode(driver.print_page())
        assert pdf[:5] == b"%PDF-" and len(pdf) > 50_000
        (ARTIFACTS / "report.pdf").write_bytes(pdf)
    finally:
        driver.quit()


def test_cli_report_of_scenario_file_end_to_end(tmp_path, capsys, scenarios_dir):
    """`kaifang report FILE`: solves the (synthetic demo) scenario, stores it, writes the page."""
    out = tmp_path / "demo.html"
    assert main(["report", str(scenarios_dir / "demo-tariff.toml"), "--out", str(out)]) == 0
    html = out.read_text()
    _no_web_resources(html)
    assert "SYNTHETIC DEMO DATA" in html and "synthetic codes" in html  # no real country on the map
    assert len(ResultsStore().run_ids()) == 1
    assert (
        main(
            [
                "report",
                str(scenarios_dir / "demo-tariff.toml"),
                "--out",
                str(out),
                "--measure",
                "real_wage_pct",
            ]
        )
        == 0
    )
    assert "real_wage_pct by region" in out.read_text()
    assert (
        main(["report", str(scenarios_dir / "demo-tariff.toml"), "--out", str(out), "--measure", "welfar"])
        == 2
    )
    assert "welfare_pct" in capsys.readouterr().err


def test_map_colours():
    from kaifang.report.worldmap import diverging_colour

    assert diverging_colour(0.0, 1.0) == "#f7f7f7"
    assert diverging_colour(1.0, 1.0) == "#2166ac" and diverging_colour(-5.0, 1.0) == "#b2182b"  # clipped
    assert diverging_colour(float("nan"), 1.0) == "#d9d9d9"
    # square-root scale: a quarter of the maximum is half-way in colour
    assert diverging_colour(0.25, 1.0) == "#{:02x}{:02x}{:02x}".format(
        *[round(m + (e - m) * 0.5) for m, e in zip((247, 247, 247), (33, 102, 172), strict=True)]
    )


def test_uncertainty_bands_are_in_the_report_table_charts_and_notes():
    """A run with [uncertainty] shows 'x [lo, hi]' cells, whiskers on the welfare chart and a note
    with the level and the number of draws; the whiskers' lengths are hi - x and x - lo."""
    import kaifang

    text = """
name = "demo-bands"
model = "caliendo_parro"
dataset = "demo"
[[shocks]]
type = "tariff"
op = "add"
importer = "XAA"
exporter = "XBB"
value = 25
[uncertainty]
draws = 20
seed = 3
level = 0.9
"""
    res = kaifang.run(parse_scenario(text))
    page = render_report([res])
    assert "welfare_pct [lo, hi]" in page and "welfare_pct_lo" not in page
    reg = res.regions.set_index("region")
    row = reg.loc["XAA"]
    cell = f"{row['welfare_pct']:,.3f} [{row['welfare_pct_lo']:,.3f}, {row['welfare_pct_hi']:,.3f}]"
    assert cell in page
    assert "central 90 % of 20 draws" in page
    fig = re.search(r'"arrayminus":\[([^\]]*)\]', page)
    assert fig is not None
    minus = sorted(float(v) for v in fig.group(1).split(","))
    want = sorted((reg["welfare_pct"] - reg["welfare_pct_lo"]).clip(lower=0))
    np.testing.assert_allclose(minus, want, rtol=1e-9, atol=1e-12)
