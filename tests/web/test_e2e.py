"""End to end in headless Chromium: `kaifang serve` on a free port with a temporary store.

Builds scenarios with the form (demo data set) and from the NAFTA example (cp2015, when the data
is available), runs them, checks the table, charts and map, compares two runs and downloads a
result. Screenshots go to artifacts/web/ (git-ignored). The NAFTA test measures the time from the
click on Run to the results table in the page and records it in artifacts/web/timing.json.
"""

from __future__ import annotations

import json
import time
import zipfile

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from conftest import ARTIFACTS
from helpers import require_dataset

pytestmark = pytest.mark.slow


def _wait(driver, cond, timeout=60, what=""):
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.02).until(lambda d: cond(d), message=what)
    except Exception:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = "failed-" + "".join(c if c.isalnum() else "-" for c in what or "wait")
        driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
        (ARTIFACTS / f"{name}.txt").write_text(driver.find_element(By.TAG_NAME, "body").text)
        raise


def _css(driver, sel):
    return driver.find_elements(By.CSS_SELECTOR, sel)


def _type(el, text: str) -> None:
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.BACKSPACE)
    el.send_keys(text)


def _rows(driver, table_id: str) -> int:
    return len(_css(driver, f"#{table_id} tbody tr"))


def _wait_workers(url: str) -> None:
    for _ in range(600):
        if httpx.get(url + "/api/health").json()["workers_ready"] >= 1:
            return
        time.sleep(0.1)
    raise AssertionError("the worker process never became ready")


def _shot(driver, name: str) -> None:
    driver.save_screenshot(str(ARTIFACTS / name))


def test_build_run_explore_compare_and_download_on_the_demo_world(server, browser):
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: _css(d, "#f-name"), what="the builder")
    _type(_css(d, "#f-name")[0], "e2e-demo-a")

    # a bad value: the message appears beside the field at fault
    value = _css(d, '[data-shock="0"] .s-value')[0]
    _type(value, "lots")
    err = _wait(d, lambda d: _css(d, '[data-error-for="shocks[0].value"]'), what="field error")[0]
    assert "value" in err.text
    _shot(d, "01-validation-error.png")
    _type(value, "25")
    _wait(
        d,
        lambda d: (
            "valid" in d.find_element(By.ID, "validity").text
            and "✓" in d.find_element(By.ID, "validity").text
        ),
    )

    # add a second shock with the form: the retaliation, as a tariff from XBB on XAA
    Select(_css(d, "#add-shock")[0]).select_by_value("tariff")
    _wait(d, lambda d: _css(d, '[data-shock="1"]'))
    _type(_css(d, '[data-shock="1"] .s-importer')[0], "XBB")
    _type(_css(d, '[data-shock="1"] .s-exporter')[0], "XAA")
    _type(_css(d, '[data-shock="1"] .s-value')[0], "25")
    _wait(d, lambda d: "✓" in d.find_element(By.ID, "validity").text, what="valid scenario")
    # the TOML the form wrote is what runs
    _css(d, "#mode-toml")[0].click()
    toml = _css(d, "#toml")[0].get_attribute("value")
    assert 'importer = "XBB"' in toml and 'name = "e2e-demo-a"' in toml
    _css(d, "#mode-form")[0].click()

    _wait_workers(server)
    _css(d, "#run")[0].click()
    _wait(d, lambda d: _rows(d, "results-table") == 5, what="results table")
    assert _css(d, "#chart-welfare canvas") and _css(d, "#chart-trade canvas")
    assert len(_css(d, "#world-map path")) > 100
    _wait(d, lambda d: _css(d, "#chart-diversion canvas"), what="diversion chart")
    Select(_css(d, "#diversion-region")[0]).select_by_visible_text("XBB")
    _wait(d, lambda d: "XBB" in _css(d, "#chart-diversion figcaption")[0].text, what="diversion of XBB")
    _shot(d, "02-results-demo.png")
    # what the welfare column measures (the run's diagnostics.welfare_measure) is said beside it
    run_id = _wait(d, lambda d: _css(d, ".results")[0].get_attribute("data-run"), what="saved run")
    measure = httpx.get(f"{server}/api/runs/{run_id}").json()["document"]["diagnostics"]["welfare_measure"]
    assert measure and measure in _css(d, "#chart-welfare .welfare-measure")[0].text
    assert measure in _css(d, ".table-note .welfare-measure")[0].text

    # sortable table: welfare descending, then ascending
    def column(name):
        idx = [h.get_attribute("data-col") for h in _css(d, "#results-table th")].index(name)
        return [
            float(r.find_elements(By.TAG_NAME, "td")[idx].text.replace(",", ""))
            for r in _css(d, "#results-table tbody tr")
        ]

    _css(d, '#results-table th[data-col="welfare_pct"]')[0].click()
    w = column("welfare_pct")
    assert w == sorted(w, reverse=True)
    _css(d, '#results-table th[data-col="welfare_pct"]')[0].click()
    assert column("welfare_pct") == sorted(w)

    # a second run: a bigger tariff war
    _css(d, "#tab-build")[0].click()
    _type(_css(d, "#f-name")[0], "e2e-demo-b")
    _type(_css(d, '[data-shock="0"] .s-value')[0], "50")
    _wait(d, lambda d: "✓" in d.find_element(By.ID, "validity").text)
    _css(d, "#run")[0].click()
    _wait(
        d,
        lambda d: _css(d, ".results h2") and "e2e-demo-b" in _css(d, ".results h2")[0].text,
        what="second run",
    )
    _wait(d, lambda d: _rows(d, "results-table") == 5)

    # past runs (from the store) -> compare both
    _css(d, "#tab-runs")[0].click()
    _wait(d, lambda d: _rows(d, "runs-table") == 2, what="runs list")
    for box in _css(d, "#runs-table .pick"):
        box.click()
    _css(d, "#compare-selected")[0].click()
    _wait(d, lambda d: _rows(d, "compare-table") == 5, what="comparison")
    heads = [h.text for h in _css(d, "#compare-table th")]
    assert any("e2e-demo-a" in h for h in heads) and any("e2e-demo-b" in h for h in heads)
    assert _css(d, "#chart-compare canvas")
    assert f"in every run: {measure}" in _css(d, "#compare-welfare-measure")[0].text
    _shot(d, "03-compare.png")

    # download the CSV export of a run through the browser
    _css(d, "#tab-runs")[0].click()
    _wait(d, lambda d: _css(d, "#runs-table .open"))
    _css(d, "#runs-table .open")[0].click()
    _wait(d, lambda d: _css(d, "#dl-csv"))
    _css(d, "#dl-csv")[0].click()
    got = _wait(d, lambda d: [p for p in d.downloads.glob("*.zip")], timeout=30, what="download")[0]
    with zipfile.ZipFile(got) as zf:
        names = zf.namelist()
    assert "regions.csv" in names and "run.json" in names


def test_nafta_from_the_example_library_with_timing(server, browser):
    require_dataset("cp2015")
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: _css(d, "#example"), what="examples")
    Select(_css(d, "#example")[0]).select_by_visible_text("cp2015-nafta")
    _wait(d, lambda d: _css(d, "#f-name") and _css(d, "#f-name")[0].get_attribute("value") == "cp2015-nafta")
    assert _css(d, '[data-shock="0"] .s-from_table')[0].get_attribute("value") == "tariffs2005"
    _shot(d, "04-nafta-builder.png")
    _wait_workers(server)

    timings = []
    for attempt in range(2):  # the first run reads the data set into the worker; the second finds it warm
        if attempt:
            _css(d, "#tab-build")[0].click()
            # the results show while the store still saves the first run; Run is enabled after that
            _wait(d, lambda d: _css(d, "#run") and _css(d, "#run")[0].is_enabled(), what="Run enabled")
        run = _css(d, "#run")[0]
        t0 = time.perf_counter()
        run.click()
        _wait(d, lambda d: _rows(d, "results-table") == 31, timeout=120, what="NAFTA results")
        wall = time.perf_counter() - t0
        in_page = d.execute_script("return window.__kaifang && window.__kaifang.clickToTableMs")
        timings.append(
            {
                "attempt": attempt + 1,
                "click_to_table_ms_in_page": round(in_page, 1),
                "click_to_table_ms_selenium": round(1000 * wall, 1),
            }
        )
    usa = _css(d, '#world-map path[data-iso3="USA"]')
    assert usa and "has-value" in usa[0].get_attribute("class")
    _shot(d, "05-nafta-results.png")
    d.execute_script("document.getElementById('world-map').scrollIntoView()")
    _shot(d, "06-nafta-map.png")
    runs = httpx.get(server + "/api/runs").json()
    record = {
        "scenario": "cp2015-nafta",
        "runs": timings,
        "solve_seconds": [r["solve_seconds"] for r in runs],
    }
    (ARTIFACTS / "timing.json").write_text(json.dumps(record, indent=2) + "\n")
    print("NAFTA click-to-table:", json.dumps(record))
    # generous bound only (timing on a shared machine); the number is reported, not asserted tight
    assert all(t["click_to_table_ms_in_page"] < 60_000 for t in timings)


def test_a_long_run_shows_progress_and_can_be_cancelled(slow_server, browser):
    d = browser
    d.get(slow_server + "/")
    _wait(d, lambda d: _css(d, "#mode-toml"), what="the builder")
    _css(d, "#mode-toml")[0].click()
    editor = _css(d, "#toml")[0]
    _type(editor, 'name = "long-run"\nmodel = "slow_test"\ndataset = "demo"\n\n[parameters]\nseconds = 300\n')
    _wait(d, lambda d: "✓" in d.find_element(By.ID, "validity").text, what="valid TOML")
    _wait_workers(slow_server)
    _css(d, "#run")[0].click()
    _wait(
        d, lambda d: _css(d, "#progress li") and "step" in _css(d, "#progress li")[-1].text, what="progress"
    )
    _shot(d, "07-long-run-progress.png")
    _css(d, "#cancel")[0].click()
    _wait(
        d,
        lambda d: _css(d, "#job") and _css(d, "#job")[0].get_attribute("data-state") == "cancelled",
        timeout=20,
        what="cancelled",
    )
    assert not _css(d, "#cancel")
    _shot(d, "08-long-run-cancelled.png")
    # a TOML syntax error is reported with its line
    _type(_css(d, "#toml")[0], 'name = "x"\nmodel = \n')
    _wait(
        d,
        lambda d: _css(d, "#errors li") and "line 2" in _css(d, "#errors li")[0].text,
        what="syntax error line",
    )


def _example(d, name: str) -> None:
    _wait(d, lambda d: _css(d, "#example"), what="examples")
    Select(_css(d, "#example")[0]).select_by_visible_text(name)
    _wait(d, lambda d: _css(d, "#f-name") and _css(d, "#f-name")[0].get_attribute("value") == name, what=name)


def _shown(d, chart: str) -> int:
    return int(_css(d, f"#{chart}-controls .bar-shown")[0].get_attribute("data-shown"))


def test_194_regions_readable_charts_and_the_policy_section_in_the_form(server, browser):
    require_dataset("liberation2025")
    d = browser
    d.get(server + "/")
    _example(d, "liberation-day-optimal-retaliation")
    # the [[policy.retaliation]] entry is shown with its fields, editable
    entry = _wait(d, lambda d: _css(d, '[data-entry="policy.retaliation[0]"]'), what="retaliation entry")[0]
    assert "[[policy.retaliation]]" in entry.text
    fields = {
        e.get_attribute("data-path"): e.get_attribute("value")
        for e in entry.find_elements(By.CSS_SELECTOR, "input")
    }
    assert fields == {
        "policy.retaliation[0].kind": "optimal",
        "policy.retaliation[0].against": "USA",
        "policy.retaliation[0].by": "all",
    }
    # the shock types read as text: no reStructuredText markup
    options = [o.text for o in _css(d, "#add-shock option")]
    assert any("productivity" in o for o in options) and not any("``" in o or "`" in o for o in options)
    # a label the data set lacks is an error beside the field; the verdict never stays "valid"
    against = _css(d, '[data-path="policy.retaliation[0].against"]')[0]
    _type(against, "USX")
    assert _css(d, "#validity")[0].get_attribute("data-valid") != "true"
    err = _wait(d, lambda d: _css(d, '[data-error-for="policy.retaliation[0].against"]'), what="field error")[
        0
    ]
    assert "USX" in err.text and "the scenario form" in err.text and "scenario.toml" not in err.text
    assert "✓" not in _css(d, "#validity")[0].text
    _shot(d, "09-policy-section-error.png")
    _type(against, "USA")
    _wait(d, lambda d: "✓" in _css(d, "#validity")[0].text, what="valid again")

    _wait_workers(server)
    _css(d, "#run")[0].click()
    _wait(d, lambda d: _rows(d, "results-table") == 194, timeout=120, what="194-region results")
    # the welfare chart shows the 15 highest and 15 lowest regions until asked for all
    assert _shown(d, "chart-welfare") == 30
    assert "15 highest and 15 lowest of 194 regions" in _css(d, "#chart-welfare-controls")[0].text
    search = _css(d, "#chart-welfare-controls .bar-search")[0]
    search.send_keys("china")
    _wait(d, lambda d: _shown(d, "chart-welfare") == 1, what="search by country name")
    _type(search, "")
    _wait(d, lambda d: _shown(d, "chart-welfare") == 30)
    _css(d, "#chart-welfare-controls .bar-all")[0].click()
    _wait(d, lambda d: _shown(d, "chart-welfare") == 194, what="all regions")
    _shot(d, "10-liberation-all-regions.png")
    _css(d, "#chart-welfare-controls .bar-all")[0].click()
    _wait(d, lambda d: _shown(d, "chart-welfare") == 30)
    # diversion: percentage points and percent on separate charts, the largest changes only
    _wait(
        d,
        lambda d: _css(d, "#chart-diversion canvas") and _css(d, "#chart-diversion-value canvas"),
        what="diversion",
    )
    assert "percentage points" in _css(d, "#chart-diversion figcaption")[0].text
    assert "(%)" in _css(d, "#chart-diversion-value figcaption")[0].text
    assert (
        _shown(d, "chart-diversion") == 20
        and "of 193 partners" in _css(d, "#chart-diversion-controls")[0].text
    )
    height = _css(d, "#chart-diversion .chart-box")[0].size["height"]
    assert height < 700, f"the diversion chart is {height} px tall"
    d.execute_script("document.getElementById('chart-welfare').scrollIntoView()")
    _shot(d, "11-liberation-charts.png")


def test_a_model_specific_shock_shows_its_fields(server, browser):
    require_dataset("agtpa")
    d = browser
    d.get(server + "/")
    _example(d, "agtpa-no-borders")
    shock = _wait(d, lambda d: _css(d, '[data-shock="0"][data-type="policy"]'), what="policy shock")[0]
    values = {
        e.get_attribute("data-path"): e.get_attribute("value")
        for e in shock.find_elements(By.CSS_SELECTOR, "input")
    }
    assert values["shocks[0].variable"] == "intl_border" and values["shocks[0].value"] == "0"
    # the sections of the gravity model are in the form too, and editing keeps their types
    assert _css(d, '[data-path="parameters.sigma"]')[0].get_attribute("value") == "7"
    _type(_css(d, '[data-path="parameters.sigma"]')[0], "8")
    _css(d, "#mode-toml")[0].click()
    toml = _css(d, "#toml")[0].get_attribute("value")
    assert "sigma = 8\n" in toml and 'variable = "intl_border"' in toml and "value = 0\n" in toml, toml
    assert 'regressors = ["ln_dist", "cntg", "intl_border"]' in toml
    _wait(d, lambda d: "✓" in _css(d, "#validity")[0].text, what="still valid")
    _css(d, "#mode-form")[0].click()
    _shot(d, "12-gravity-policy-shock.png")


def test_a_failed_run_never_shows_valid_and_names_the_editor(slow_server, browser):
    d = browser
    d.get(slow_server + "/")
    _wait(d, lambda d: _css(d, "#mode-toml"), what="the builder")
    _css(d, "#mode-toml")[0].click()
    _type(
        _css(d, "#toml")[0],
        'name = "crashes"\nmodel = "slow_test"\ndataset = "demo"\n\n[parameters]\ncrash = true\n',
    )
    _wait(d, lambda d: "✓" in _css(d, "#validity")[0].text, what="valid TOML")
    _wait_workers(slow_server)
    _css(d, "#run")[0].click()
    _wait(
        d,
        lambda d: _css(d, "#job") and _css(d, "#job")[0].get_attribute("data-state") == "failed",
        what="failed",
    )
    validity = _css(d, "#validity")[0]
    assert "✓" not in validity.text and "failed" in validity.text
    assert _css(d, "#errors li") and "server log" in _css(d, "#errors li")[0].text
    # any edit clears the verdict until the server has checked the new text
    _css(d, "#toml")[0].send_keys(" ")
    assert _css(d, "#validity")[0].get_attribute("data-valid") == ""
    # a problem is named in the editor's words
    _type(_css(d, "#toml")[0], 'name = "x"\nmodel = "slow_test"\ndataset = "dmeo"\n')
    li = _wait(d, lambda d: [e for e in _css(d, "#errors li") if "dmeo" in e.text], what="error")[0]
    assert li.text.startswith("dataset: the TOML editor: ") and "scenario.toml" not in li.text
    _shot(d, "13-failed-run.png")


def _num3(v: float) -> str:
    """A number as the page shows it (three decimals, thousands separated)."""
    return f"{v:,.3f}"


def _cell(d, table_id: str, row_label: str, col: str) -> str:
    heads = [h.get_attribute("data-col") for h in _css(d, f"#{table_id} th")]
    for r in _css(d, f"#{table_id} tbody tr"):
        tds = r.find_elements(By.TAG_NAME, "td")
        if tds[0].text == row_label:
            return tds[heads.index(col)].text
    raise AssertionError(f"no row {row_label!r} in #{table_id}")


def test_uncertainty_bands_value_chains_and_warnings_on_the_demo_world(server, browser):
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: _css(d, "#f-name"), what="the builder")
    _type(_css(d, "#f-name")[0], "e2e-bands")
    # a shock that changes nothing: valid, with the warning beside the shock (not an error)
    value = _css(d, '[data-shock="0"] .s-value')[0]
    _type(value, "0")
    warning = _wait(d, lambda d: _css(d, '[data-warning-for="shocks[0]"]'), what="shock warning")[0]
    assert "changes nothing" in warning.text
    assert "--strict" not in warning.text  # a command-line option: the page has no strict mode
    validity = _css(d, "#validity")[0]
    assert validity.get_attribute("data-valid") == "true" and "1 warning" in validity.text
    assert not _css(d, "#errors li") and not _css(d, ".field-error")
    _shot(d, "14-shock-warning.png")
    _type(value, "25")
    _wait(
        d,
        lambda d: "✓" in _css(d, "#validity")[0].text and "warning" not in _css(d, "#validity")[0].text,
        what="valid without warning",
    )
    # the [uncertainty] section and the value-chain tables from the form
    _type(_css(d, "#u-draws")[0], "16")
    _type(_css(d, "#u-seed")[0], "3")
    _type(_css(d, "#u-level")[0], "0.9")
    _css(d, "#o-value-chains")[0].click()
    _wait(d, lambda d: "✓" in _css(d, "#validity")[0].text, what="valid with bands")
    _css(d, "#mode-toml")[0].click()
    toml = _css(d, "#toml")[0].get_attribute("value")
    assert (
        "[uncertainty]\ndraws = 16\nseed = 3\nlevel = 0.9\n" in toml
        and "[output]\nvalue_chains = true" in toml
    ), toml
    _css(d, "#mode-form")[0].click()
    assert _css(d, "#u-level")[0].get_attribute("value") == "0.9"
    assert _css(d, "#o-value-chains")[0].is_selected()
    _shot(d, "15-uncertainty-form.png")

    _wait_workers(server)
    _css(d, "#run")[0].click()
    _wait(d, lambda d: _rows(d, "results-table") == 5, what="results table")
    run_id = _wait(d, lambda d: _css(d, ".results")[0].get_attribute("data-run"), what="saved run")
    doc = httpx.get(f"{server}/api/runs/{run_id}").json()["document"]
    xaa = next(r for r in doc["regions"] if r["region"] == "XAA")
    # "x [lo, hi]" cells, the band's ends as the document has them
    head = _css(d, '#results-table th[data-col="welfare_pct"]')[0].text
    assert "[lo, hi]" in head
    assert not _css(d, '#results-table th[data-col="welfare_pct_lo"]')
    want = f"{_num3(xaa['welfare_pct'])} [{_num3(xaa['welfare_pct_lo'])}, {_num3(xaa['welfare_pct_hi'])}]"
    assert _cell(d, "results-table", "XAA", "welfare_pct") == want
    # whiskers: one per region on the welfare chart, one per region and series on the trade chart
    canvas = _wait(d, lambda d: _css(d, "#chart-welfare canvas[data-whiskers]"), what="welfare whiskers")[0]
    assert canvas.get_attribute("data-whiskers") == "5"
    assert _css(d, "#chart-trade canvas")[0].get_attribute("data-whiskers") == "10"
    note = _css(d, "#uncertainty-note")[0].text
    assert "central 90 % of 16 draws" in note and "log-normal" in note and "did not converge" not in note
    assert "central 90 % of 16 draws" in _css(d, "#chart-welfare .band-note")[0].text
    # the stacked decomposition: the parts of the exact change, no residual, no first-order measure
    caption = _css(d, "#chart-decomposition figcaption")[0].text
    assert "Exact welfare change" in caption and "terms of trade" in caption
    assert "residual (%)" not in caption and "first order" not in caption
    _shot(d, "16-bands-results.png")

    # value chains: participation chart and indicators by region
    _wait(d, lambda d: _css(d, "#chart-gvc canvas"), what="GVC chart")
    assert _rows(d, "gvc-table") == 5
    base = next(
        r for r in doc["value_chains"]["value_chains"] if r["region"] == "XAA" and r["stage"] == "baseline"
    )
    assert _cell(d, "gvc-table", "XAA", "gvc_participation_before") == f"{base['gvc_participation']:,.4f}"
    d.execute_script("document.getElementById('value-chains').scrollIntoView()")
    _shot(d, "17-value-chains.png")

    # sector detail: the demo world has no trade in services, shown as "no trade"
    Select(_css(d, "#sectors-region")[0]).select_by_visible_text("XAA")
    _wait(d, lambda d: _rows(d, "sectors-table") == 4, what="sector table")
    assert _cell(d, "sectors-table", "Services", "exports_pct") == "no trade"
    assert _cell(d, "sectors-table", "Farming", "exports_pct") not in ("no trade", "—")

    # compare this run with another: bands are part of their outcome, not outcomes of their own
    _css(d, "#tab-build")[0].click()
    _type(_wait(d, lambda d: _css(d, "#f-name"), what="the builder")[0], "e2e-bands-again")
    _wait(d, lambda d: "✓" in _css(d, "#validity")[0].text, what="valid again")
    _css(d, "#run")[0].click()
    _wait(
        d,
        lambda d: _css(d, ".results h2") and "e2e-bands-again" in _css(d, ".results h2")[0].text,
        what="second run",
    )
    _css(d, "#tab-runs")[0].click()
    _wait(d, lambda d: _css(d, f'#runs-table tr[data-run="{run_id}"] .pick'), what="runs list")
    _css(d, f'#runs-table tr[data-run="{run_id}"] .pick')[0].click()
    other = next(
        r for r in _css(d, "#runs-table tbody tr[data-run]") if r.get_attribute("data-run") != run_id
    )
    other.find_element(By.CSS_SELECTOR, ".pick").click()
    _css(d, "#compare-selected")[0].click()
    _wait(d, lambda d: _rows(d, "compare-table") == 5, what="comparison")
    options = [o.get_attribute("value") for o in _css(d, "#compare-column option")]
    assert "welfare_pct" in options and not [o for o in options if o.endswith(("_lo", "_hi"))]
    Select(_css(d, "#compare-column")[0]).select_by_value("welfare_pct")
    heads = [h.text for h in _css(d, "#compare-table th")]
    banded = [h for h in heads if "e2e-bands" in h]
    assert len(banded) == 2 and all("[lo, hi]" in h for h in banded), heads
    texts = [td.text for r in _css(d, "#compare-table tbody tr") for td in r.find_elements(By.TAG_NAME, "td")]
    assert want in texts  # XAA's "x [lo, hi]" as in the run's own table


def test_columns_not_applicable_and_run_warnings_in_the_results(server, browser):
    d = browser
    d.get(server + "/")
    _wait(d, lambda d: _css(d, "#mode-toml"), what="the builder")
    _css(d, "#mode-toml")[0].click()
    text = (
        'name = "e2e-na"\nmodel = "caliendo_parro"\ndataset = "demo"\n\n[solver]\nwelfare_steps = []\n\n'
        '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XAA"\nexporter = "XBB"\nvalue = 25\n\n'
        '[[shocks]]\ntype = "tariff"\nop = "add"\nimporter = "XBB"\nexporter = "XAA"\nvalue = 0\n'
    )
    _type(_css(d, "#toml")[0], text)
    _wait(d, lambda d: "1 warning" in _css(d, "#validity")[0].text, what="valid with a warning")
    assert "changes nothing" in _css(d, "#warnings li")[0].text  # the editor has no form: listed below
    _wait_workers(server)
    _css(d, "#run")[0].click()
    _wait(d, lambda d: _rows(d, "results-table") == 5, what="results table")
    assert "changes nothing" in _css(d, "#run-warnings li")[0].text
    assert "n/a" in _css(d, '#results-table th[data-col="terms_of_trade_pct"]')[0].text
    assert _cell(d, "results-table", "XAA", "terms_of_trade_pct") == "n/a"
    assert _cell(d, "results-table", "XAA", "welfare_pct") not in ("n/a", "—")
    assert "terms of trade (%)" in _css(d, "#not-applicable")[0].text
    # without parts, the welfare chart is the exact change alone
    assert "Welfare: welfare (%)" in _css(d, "#chart-welfare figcaption")[0].text
    _shot(d, "18-not-applicable.png")
