"""The report stage: its pieces, and the real page in a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from pipeline.stages.report import changed_params, flatten

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(os.environ.get("TOPICWIRE_TEST_ARTIFACTS", ROOT / "test-artifacts"))
LABELS = ["arms_transfers", "energy_infrastructure", "evacuations", "sanctions"]


def test_changed_params_lists_only_differences():
    defaults = {"model": {"name": "logistic_regression", "estimator": {"C": 10.0}}, "seed": 42}
    params = {"model": {"name": "linear_svm", "estimator": {"C": 10.0, "dual": True}}, "seed": 42}
    assert flatten(defaults) == {
        "model.name": "logistic_regression",
        "model.estimator.C": 10.0,
        "seed": 42,
    }
    assert changed_params(params, defaults) == [
        ["model.estimator.dual", "—", True],
        ["model.name", "logistic_regression", "linear_svm"],
    ]
    assert changed_params(defaults, defaults) == []


def test_report_markdown_has_the_tables(reproduced):
    md = (reproduced / "reports/report.md").read_text()
    assert "| micro_f1 |" in md and "baseline: keywords" in md
    for label in LABELS:
        assert f"| {label} |" in md
    assert "None: every parameter is conf/'s default." in md


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)")
def test_report_page_in_a_real_browser(reproduced):
    from playwright.sync_api import sync_playwright

    page_path = reproduced / "reports/report.html"
    source = page_path.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", source)  # nothing from the network
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        figures = page.locator("figure")
        boxes = [figures.nth(i).locator("svg").bounding_box() for i in range(figures.count())]
        headings = page.locator("h2").all_inner_texts()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert [u for u in requests if not u.startswith("file:")] == []
    # 4 plots per label + 2 co-occurrence matrices, every one drawn with a real size
    assert len(boxes) == 4 * len(LABELS) + 2
    assert all(b is not None and b["width"] > 50 and b["height"] > 50 for b in boxes)
    assert headings == [
        "Model and data",
        "Metrics (test split)",
        "Topic rules and label sources",
        "Plots",
        "Top terms per label",
        "Error analysis",
    ]
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000
