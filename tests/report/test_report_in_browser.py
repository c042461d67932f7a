"""The HTML report opened in real headless Chromium (Debian's, driven by Playwright): the
front page, a breakdown section, the print layout, and axe-core's accessibility check.
Screenshots, the PDF and axe's results are kept in tests/artefacts/ (git-ignored)."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("HARMONISE_REQUIRE_BROWSER"):
    raise RuntimeError("HARMONISE_REQUIRE_BROWSER is set but chromium is not installed; "
                       "run 'make browser-deps' (apt-get install chromium)")

AXE = Path(__file__).resolve().parents[2] / ".cache/npm/node_modules/axe-core/axe.min.js"
if not AXE.exists() and os.environ.get("HARMONISE_REQUIRE_AXE"):
    raise RuntimeError(f"HARMONISE_REQUIRE_AXE is set but {AXE} is missing; run 'make axe-deps'")

pytestmark = [pytest.mark.slow,  # starts Chromium
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: A4 minus the report's @page margins (12 + 14 mm high, 11 + 11 mm wide), in CSS px.
MM = 96 / 25.4
A4_PRINT_W, A4_PRINT_H = (210 - 22) * MM, (297 - 26) * MM


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, bundled_report: Path) -> Iterator[Any]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda req: errors.append(req.url))
    page.on("request", lambda req: requests.append(req.url))
    page.goto((bundled_report / "index.html").as_uri(), wait_until="load")
    yield page
    # self-contained: nothing but the file itself and inline data: images is fetched
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    assert not errors, errors
    page.close()


def test_front_page(page: Any, artefacts: Path) -> None:
    assert page.title().startswith("Community safety perceptions: Bedford Borough")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    assert page.locator("#synthetic-banner").is_visible()
    front = page.locator("#front")
    text = front.inner_text()
    assert "About 1 in 3 residents aged 18 and over in Bedford Borough" in text
    assert "Not compared (Bedford Borough and Central Bedfordshire)" in text
    assert "Who feels less safe, and where" in text
    images = page.eval_on_selector_all(
        "figure img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])")
    assert len(images) >= 10
    assert all(done and width >= 700 and len(alt) > 40 for done, width, alt in images)
    front.screenshot(path=str(artefacts / "front-page.png"))
    page.screenshot(path=str(artefacts / "report-full.png"), full_page=True)


def test_a_breakdown_section(page: Any, artefacts: Path) -> None:
    section = page.locator("h3#who-bedford-residents-2024-sex")
    section.scroll_into_view_if_needed()
    assert section.inner_text() == \
        "Bedford Borough: Community safety residents' survey, 2024: by sex"
    table = page.locator("table.breakdown-table").first
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Measure", "Female", "Male"]
    body = table.locator("tbody").inner_text()
    assert "▼ lower" in body and "▲ higher" in body  # the within-survey test, adjusted
    area = page.locator("h3#who-bedford-residents-2024-area + figure img")
    assert area.get_attribute("alt").startswith("Dot-and-interval chart")  # type: ignore[union-attr]
    all_cells = page.locator("table.breakdown-table td").all_inner_texts()
    assert any(c == "[c]" for c in all_cells), "a suppressed cell should be marked"
    page.locator("section.breakdown").first.screenshot(path=str(artefacts / "who-and-where.png"))


def test_print_layout(page: Any, artefacts: Path) -> None:
    page.emulate_media(media="print")
    page.set_viewport_size({"width": round(A4_PRINT_W), "height": 1200})
    height = page.eval_on_selector("#front", "e => e.getBoundingClientRect().height")
    assert height <= A4_PRINT_H, f"the printed summary is {height / A4_PRINT_H:.2f} pages"
    fonts = page.eval_on_selector_all(
        "#front *, table td, table th",
        "els => els.filter(e => e.innerText && e.innerText.trim())"
        ".map(e => parseFloat(getComputedStyle(e).fontSize))")
    assert min(fonts) >= 8 * 96 / 72 - 0.01, "printed text under 8 pt"
    page.screenshot(path=str(artefacts / "print-front.png"))
    pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    (artefacts / "report.pdf").write_bytes(pdf)
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert len(boxes) >= 5, "expected a summary page and a page per section"
    for width, h in boxes:  # A4 is 595 x 842 points
        assert abs(float(width) - 595) < 1 and abs(float(h) - 842) < 1


def test_headings_in_order_and_tables_with_header_cells(page: Any) -> None:
    levels = page.eval_on_selector_all("h1, h2, h3, h4, h5, h6",
                                       "hs => hs.map(h => Number(h.tagName[1]))")
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    tables = page.eval_on_selector_all(
        "table", "ts => ts.map(t => [t.querySelectorAll('thead th[scope=col]').length, "
                 "!!t.caption, t.querySelectorAll('tbody th[scope=row]').length > 0 || "
                 "t.querySelectorAll('tbody tr').length === 0])")
    assert tables and all(cols > 0 and caption and rows for cols, caption, rows in tables)


@pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (make axe-deps)")
def test_axe_core_finds_no_serious_or_critical_violation(page: Any, artefacts: Path) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})")
    (artefacts / "axe-results.json").write_text(json.dumps(
        {k: result[k] for k in ("violations", "incomplete", "testEngine")}, indent=1))
    assert result["passes"], "axe ran no rule"
    bad = [(v["id"], v["impact"], len(v["nodes"])) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, bad
