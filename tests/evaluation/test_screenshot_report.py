"""bench/screenshot_report.py renders the benchmark page in headless Chromium (skipped without it)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from support import REPO_ROOT

_spec = importlib.util.spec_from_file_location("screenshot_report", REPO_ROOT / "bench" / "screenshot_report.py")
screenshot_report = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(screenshot_report)


@pytest.mark.skipif(
    screenshot_report.find_chromium() is None, reason="chromium is not installed (Debian: apt-get install -y chromium)"
)
@pytest.mark.slow  # starts headless Chromium
def test_page_renders_with_charts(small_pipeline, tmp_path):
    from PIL import Image

    out = screenshot_report.screenshot(
        small_pipeline["run"].path("evaluate", "report_html"), tmp_path / "page.png", width=1400, height=3000
    )
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (3000, 1400, 3)
    # Not a blank page: many distinct colours (text, tables, chart lines) below the headline.
    assert len(np.unique(image[::4, ::4].reshape(-1, 3), axis=0)) > 50


def test_missing_page_is_one_clear_message(tmp_path, capsys):
    assert screenshot_report.main([str(tmp_path / "nope.html"), str(tmp_path / "out.png")]) == 2
    assert "not found" in capsys.readouterr().err


def test_a_run_with_an_allowed_leak_has_the_banner_on_the_page(leaky_run):
    """Runs without chromium too: the page's first element is the banner naming the column."""
    html = leaky_run["run"].path("evaluate", "report_html").read_text()
    body = html[html.index("<body>") + len("<body>") :].lstrip()
    assert body.startswith('<div class="leak-banner"') and "rep_note (AUC 1.000 alone" in body[:600]
    assert leaky_run["metrics"]["leakage"]["kept"][0]["allowed_strong"] is True


@pytest.mark.skipif(
    screenshot_report.find_chromium() is None, reason="chromium is not installed (Debian: apt-get install -y chromium)"
)
@pytest.mark.slow  # starts headless Chromium
def test_the_leak_banner_is_red_at_the_top_of_the_rendered_page(leaky_run, tmp_path):
    from PIL import Image

    out = screenshot_report.screenshot(
        leaky_run["run"].path("evaluate", "report_html"), tmp_path / "page.png", width=1400, height=900
    )
    image = np.asarray(Image.open(out).convert("RGB")).astype(int)
    red = (np.abs(image - np.array([0xC0, 0x39, 0x2B])).sum(axis=2) < 30).mean(axis=1)
    # The banner fills most of the page's width within its first ~150 pixels, and nowhere lower down.
    assert red[:150].max() > 0.5 and red[300:].max() < 0.2
