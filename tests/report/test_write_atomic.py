"""A failed write leaves the previous report set intact, whichever step fails."""

from __future__ import annotations

from pathlib import Path

import pytest

import harmonise.report.write as write
from harmonise.errors import ReportError

OLD = {"index.html": b"old report", "estimates.csv": b"old,estimates\n",
       "trends.csv": b"old,trends\n"}
NEW = {"index.html": b"new report", "tables.xlsx": b"new book",
       "estimates.csv": b"new,estimates\n", "provenance.json": b"{}\n"}


def _state(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, content in OLD.items():
        (folder / name).write_bytes(content)
    (folder / "harmonise.sqlite").write_bytes(b"store")  # not an output: never touched
    return folder


def test_a_complete_write_replaces_the_whole_set(out: Path) -> None:
    write.write_files(NEW, out)
    # trends.csv was an output of the previous run and not of this one: removed too
    assert _state(out) == NEW | {"harmonise.sqlite": b"store"}


@pytest.mark.parametrize("fail_at", range(1, len(OLD) + len(NEW) + 1),
                         ids=lambda n: f"move-{n}")
def test_a_failed_move_restores_the_previous_set(
    out: Path, monkeypatch: pytest.MonkeyPatch, fail_at: int
) -> None:
    before = _state(out)
    calls = {"n": 0}
    real_move = write._move

    def flaky(src: Path, dst: Path) -> None:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError(28, "No space left on device")
        real_move(src, dst)

    monkeypatch.setattr(write, "_move", flaky)
    with pytest.raises(ReportError, match="previous outputs there were left as they were"):
        write.write_files(NEW, out)
    assert _state(out) == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "staging left behind"


def test_a_failed_staging_write_touches_nothing(
    out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _state(out)
    real = Path.write_bytes

    def full_disk(self: Path, data: bytes) -> int:
        if self.name == "estimates.csv":
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(ReportError, match="No space left"):
        write.write_files(NEW, out)
    monkeypatch.undo()
    assert _state(out) == before


def test_a_failed_render_touches_nothing(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _state(out)

    def broken(*_args: object, **_kwargs: object) -> dict[str, bytes]:
        raise ReportError("chart could not be drawn")

    monkeypatch.setattr(write, "render_outputs", broken)
    with pytest.raises(ReportError, match="chart could not be drawn"):
        write.write_report(object(), out)  # type: ignore[arg-type]
    assert _state(out) == before


def test_the_report_links_the_joint_questionnaire_when_it_is_beside_it(
    tmp_path: Path, bundled_data,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "reports"
    write.write_report(bundled_data, out, charts=False)
    assert "questionnaire/index.html" not in (out / "index.html").read_text(encoding="utf-8")
    (out / "questionnaire").mkdir()
    (out / "questionnaire" / "index.html").write_text("design", encoding="utf-8")
    write.write_report(bundled_data, out, charts=False)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="questionnaire/index.html">Joint survey design' in html
    assert (out / "questionnaire" / "index.html").read_text(encoding="utf-8") == "design"


def test_charts_are_written_once_as_png_and_svg_and_replaced_as_a_set(
    tmp_path: Path, bundled_data,  # type: ignore[no-untyped-def]
) -> None:
    out = tmp_path / "reports"
    write.write_report(bundled_data, out)
    charts = out / "charts"
    svgs = sorted(p.stem for p in charts.glob("*.svg"))
    assert svgs == sorted(p.stem for p in charts.glob("*.png")) and len(svgs) > 10
    html = (out / "index.html").read_text(encoding="utf-8")
    import base64
    for stem in svgs:  # the page embeds exactly the bytes written to charts/
        embedded = base64.b64encode((charts / f"{stem}.svg").read_bytes()).decode()
        assert embedded in html, stem
    alt = (charts / "alt-text.txt").read_text(encoding="utf-8")
    assert all(f"{stem}: " in alt for stem in svgs)
    (charts / "stale.png").write_bytes(b"old")
    write.write_report(bundled_data, out, charts=False)  # no charts this time: folder gone
    assert not charts.exists()


def test_bytes_made_in_a_child_are_the_bytes_made_here(bundled_data) -> None:  # type: ignore[no-untyped-def]
    from harmonise.report.xlsx import xlsx_bytes

    here = xlsx_bytes(bundled_data)
    assert write.in_child(xlsx_bytes, bundled_data).result() == here

    def broken(data: object) -> bytes:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):  # the child failed: made (and raised) here
        write.in_child(broken, bundled_data).result()
    later = write.in_child(xlsx_bytes, bundled_data)
    later.close()  # a failure elsewhere: the child is reaped, nothing is left waiting
    assert later._pid is None and later._read is None
