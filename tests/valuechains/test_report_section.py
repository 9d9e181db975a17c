"""The report's value-chain section: present for runs with value-chain tables, absent otherwise,
and its charts draw in headless Chromium."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kaifang.models import run_scenario
from kaifang.report import render_report, write_report
from kaifang.scenario import parse_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from test_scenario_output import DEMO


@pytest.fixture(scope="module")
def result():
    return run_scenario(parse_scenario(DEMO))


def test_section_with_charts_table_and_focus(result):
    page = render_report([result])
    assert "<h3>Value chains</h3>" in page
    assert 'id="gvc-participation-0"' in page and 'id="gvc-origin-0"' in page
    assert "Exporters shown: XAA, XBB." in page  # the regions the tariff war names
    assert "gvc_participation change" in page
    assert "proportional sourcing" in page


def test_no_section_without_value_chain_tables():
    res = run_scenario(parse_scenario(DEMO.replace("value_chains = true", "")))
    page = render_report([res])
    assert "<h3>Value chains</h3>" not in page and "gvc-participation" not in page


def test_value_chain_charts_draw_in_headless_chromium(result, tmp_path):
    from browser import chromium_driver

    path = write_report([result], tmp_path / "report.html")
    driver = chromium_driver()
    try:
        driver.get(path.as_uri())
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, 60).until(
            lambda d: d.execute_script(
                "return ['gvc-participation-0', 'gvc-origin-0'].every(i => "
                "document.getElementById(i) && document.getElementById(i).querySelector('.main-svg'))"
            )
        )
        bars = driver.execute_script(
            "return ['gvc-participation-0', 'gvc-origin-0'].map(i => "
            "document.getElementById(i).querySelectorAll('.bars .point').length)"
        )
        # participation: 5 regions x 2 stages x 2 parts; origin: 2 exporters x 2 stages x sources
        assert bars[0] == 20 and bars[1] >= 8, bars
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, errors
    finally:
        driver.quit()
