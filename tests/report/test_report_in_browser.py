"""The HTML report opened in real headless Chromium: it renders, charts load, it says
synthetic, and it prints to A4. Screenshots and the PDF are saved to reports/ (git-ignored)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harmonise.pipeline import run
from harmonise.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("HARMONISE_REQUIRE_BROWSER"):
    raise RuntimeError("HARMONISE_REQUIRE_BROWSER is set but chromium is not installed; "
                       "run 'make browser-deps' (apt-get install chromium)")

pytestmark = [pytest.mark.slow,  # starts Chromium
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make run`'s report: the bundled manifest, every output, charts drawn."""
    out = tmp_path_factory.mktemp("report")
    write_report(run(root / "surveys/manifest.yaml", root=root), out)
    return out / "index.html"


@pytest.fixture(scope="module")
def shots(root: Path) -> Path:
    folder = root / "reports"
    folder.mkdir(exist_ok=True)
    return folder


def test_report_renders_with_charts_and_banner(report: Path, shots: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda req: errors.append(req.url))
            requests: list[str] = []
            page.on("request", lambda req: requests.append(req.url))
            page.goto(report.as_uri(), wait_until="load")
            assert page.title().startswith("Community safety perceptions")
            assert page.locator("#synthetic-banner").is_visible()
            sizes = page.eval_on_selector_all(
                "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.className])"
            )
            assert len([s for s in sizes if s[2] == "chart"]) >= 4
            assert all(done and width > 100 for done, width, _ in sizes), sizes
            assert page.locator(".compared-table tr").count() >= 2
            assert page.locator(".not-compared-table tr").count() >= 3
            assert page.locator("#comparability-matrix tr").count() >= 5
            assert page.locator("#weighting-table tr").count() >= 4
            assert page.locator("#provenance code").count() >= 10
            # self-contained: nothing but the file itself and inline data: images is fetched
            assert all(u.startswith(("file:", "data:")) for u in requests), requests
            shot = shots / "report-screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 50_000
            assert not errors, errors
        finally:
            browser.close()


@pytest.mark.slow  # a second Chromium start and a 20-page print: ~15 s
def test_report_prints_to_a4_pages(report: Path, shots: Path, tmp_path: Path) -> None:
    pdf = shots / "report.pdf"
    subprocess.run(
        [str(CHROMIUM), "--headless", *ARGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert len(boxes) >= 5, "expected a front page and a page per section"
    for width, height in boxes:  # A4 is 595 x 842 points
        assert abs(float(width) - 595) < 1 and abs(float(height) - 842) < 1, (width, height)
