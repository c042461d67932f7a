"""The workspace in real headless Chromium (Debian's, driven by Playwright; no browser is
downloaded) over loopback HTTP: three officers sign in and upload the three bundled
exports (drag-and-drop page, progress bar), pick their crosswalks; one runs their own
partnership; an analyst compares all three and downloads the report. Screenshots go to
reports/web/ (git-ignored test artefacts)."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from server import serving
from webkit import EXPORTS, OFFICERS, PASSWORD, ROOT, database, seed

from harmonise.web.app import build_state, create_app
from harmonise.web.context import WebConfig

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("HARMONISE_REQUIRE_BROWSER"):
    raise RuntimeError("HARMONISE_REQUIRE_BROWSER is set but chromium is not installed; "
                       "run 'make browser-deps' (apt-get install chromium)")
pytestmark = [pytest.mark.slow,  # starts Chromium and the worker: ~30 s
              pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium not installed")]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = ROOT / "reports" / "web"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    with database("sqlite", tmp) as url:
        # Secure cookies as deployed: Chromium sends them to http://127.0.0.1 (a secure
        # context), so the browser test runs with the production cookie flags
        config = WebConfig(data_dir=tmp / "data", database=url, project_root=ROOT,
                           worker=True, charts=True)
        state = build_state(config)
        seed(state.ws)
        with serving(create_app(config, state=state)) as url_base:
            yield url_base
        state.ws.close()


def test_officers_upload_and_an_analyst_compares_in_chromium(base: str,
                                                             tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            errors: list[str] = []

            def new_page(username: str):  # type: ignore[no-untyped-def]
                context = browser.new_context(viewport={"width": 1200, "height": 900},
                                              accept_downloads=True)
                page = context.new_page()
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                page.on("console", lambda m: errors.append(f"{m.text} {m.location}")
                        if m.type == "error" else None)
                page.goto(f"{base}/signin")
                page.fill("input[name=username]", username)
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                expect(page.locator("#whoami")).to_contain_text(username)
                return page

            for slug, (path, key, encoding) in EXPORTS.items():
                page = new_page(OFFICERS[slug])
                page.click("text=Uploads")
                expect(page.locator("#drop")).to_contain_text("at most 200 MiB")
                page.set_input_files("input[name=file]", str(ROOT / path))
                if encoding:
                    page.select_option("select[name=encoding]", encoding)
                page.click("#upload-form button[type=submit]")
                expect(page.locator("h1")).to_contain_text("Upload ", timeout=60_000)
                expect(page.locator(".flash")).to_contain_text("Uploaded and checked")
                page.select_option("#crosswalk-choice", key)
                page.click("text=Use and check against the data")
                expect(page.locator("#validation-summary")).to_contain_text("valid")
                page.screenshot(path=str(SHOTS / f"upload-{slug}.png"), full_page=True)
                if slug == "bedford":
                    page.click("text=Runs and results")
                    page.click("#start-run")
                    expect(page.locator("#job-state")).to_have_text("done", timeout=180_000)
                    expect(page.locator("#downloads")).to_contain_text("index.html")
                page.context.close()

            page = new_page("analyst")
            # analysts never see raw files: no Uploads link
            expect(page.locator("header a", has_text="Uploads")).to_have_count(0)
            page.click("text=Runs and results")
            page.click("#start-run")
            expect(page.locator("#job-state")).to_have_text("done", timeout=300_000)
            expect(page.locator("#comparisons")).to_be_visible()
            for name in ("Bedford Borough", "Central Bedfordshire", "Luton"):
                expect(page.locator("main")).to_contain_text(name)
            page.screenshot(path=str(SHOTS / "analyst-run.png"), full_page=True)
            with page.expect_download() as download:
                page.click("text=everything (zip)")
            saved = tmp_path / "run.zip"
            download.value.save_as(saved)
            names = zipfile.ZipFile(saved).namelist()
            assert any(n.endswith("/index.html") for n in names)
            assert any(n.endswith("/estimates.csv") for n in names)
            with page.context.expect_page() as opened:
                page.click("#downloads >> text=index.html")
            report = opened.value
            report.wait_for_load_state()
            assert report.title().startswith("Community safety perceptions")
            sizes = report.eval_on_selector_all(
                "img.chart", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
            assert len(sizes) >= 4 and all(done and w > 100 for done, w in sizes)
            report.screenshot(path=str(SHOTS / "analyst-report.png"))
            assert not errors, errors
        finally:
            browser.close()
    assert (SHOTS / "analyst-run.png").stat().st_size > 20_000
