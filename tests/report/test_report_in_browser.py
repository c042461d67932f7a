"""The HTML report opened in real headless Chromium: it renders, charts load, it says synthetic."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harmonise.pipeline import run
from harmonise.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("HARMONISE_REQUIRE_BROWSER"):
    raise RuntimeError("HARMONISE_REQUIRE_BROWSER is set but chromium is not installed; "
                       "run 'make browser-deps' (apt-get install chromium)")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def report(root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    write_report(run(root / "surveys/manifest.yaml", root=root), out)
    return out / "index.html"


def test_report_renders_with_charts_and_banner(report: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("requestfailed", lambda req: errors.append(req.url))
            page.goto(report.as_uri(), wait_until="load")
            assert page.title().startswith("Community safety perceptions")
            assert page.locator("#synthetic-banner").is_visible()
            sizes = page.eval_on_selector_all(
                "img.chart", "imgs => imgs.map(i => [i.complete, i.naturalWidth])"
            )
            assert len(sizes) >= 4
            assert all(done and width > 100 for done, width in sizes), sizes
            assert page.locator("#compared-table tr").count() >= 2
            assert page.locator("#not-compared-table tr").count() >= 3
            assert page.locator("#provenance code").count() >= 10
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            assert (tmp_path / "report.png").stat().st_size > 50_000
            assert not errors, errors
        finally:
            browser.close()
