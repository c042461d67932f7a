"""Fixes from the security review of the workspace (issue 14's review): a partnership
submits only its own crosswalks, a withdrawal takes the stored runs with it, a crash leaves
no raw files or stored runs behind, weighting targets come only from surveys/targets/, and
refusals show no server paths."""

from __future__ import annotations

import re

from webkit import EXPORTS, OFFICERS, ROOT, Site

LUTON_CW = ROOT / "crosswalks/luton/residents-2024.v1.yaml"


def _luton_upload(site: Site) -> tuple[object, int]:
    officer = site.client(OFFICERS["luton"])
    path, _key, encoding = EXPORTS["luton"]
    response = officer.upload(ROOT / path, encoding)
    return officer, int(response.headers["location"].rsplit("/", 1)[1])


def _submit(officer: object, upload_id: int, text: str) -> object:
    return officer.post(f"/uploads/{upload_id}/submit",  # type: ignore[attr-defined]
                        files={"crosswalk_file": ("c.yaml", text.encode(), "text/yaml")})


def test_an_officer_cannot_submit_another_partnerships_crosswalk(site: Site) -> None:
    officer, upload_id = _luton_upload(site)
    text = LUTON_CW.read_text(encoding="utf-8").replace("status: released\n", "status: draft\n")
    forged = (text.replace("crosswalk: luton-residents-2024\n",
                           "crosswalk: bedford-residents-2024\n")
              .replace("csp: luton\n", "csp: bedford\n"))
    for bad in (forged, forged.replace("csp: bedford\n", "csp: luton\n"),
                text.replace("csp: luton\n", "csp: bedford\n")):
        refused = _submit(officer, upload_id, bad)
        assert refused.status_code == 400, refused.text  # type: ignore[attr-defined]
        assert "Nothing was stored" in refused.text  # type: ignore[attr-defined]
        assert "csp: luton" in refused.text or "luton-&lt;survey&gt;" in refused.text  # type: ignore[attr-defined]
    assert site.state.ws.submissions() == []
    # the partnership's own crosswalk: the release page shows who it is for and its text
    own = text.replace("crosswalk: luton-residents-2024\n", "crosswalk: luton-residents-web\n")
    sent = _submit(officer, upload_id, own)
    assert sent.status_code == 303  # type: ignore[attr-defined]
    page = site.client("admin").get(sent.headers["location"]).text  # type: ignore[attr-defined]
    assert 'id="cw-partnership">Luton CSP (luton)' in page
    assert 'id="cw-csp">luton<' in page
    assert 'id="cw-csp-name">Luton Community Safety Partnership<' in page
    assert 'id="cw-text">' in page and "respondent_id: ID" in page
    # a new version of a released crosswalk: the page shows the changes since that release
    v2 = text.replace("version: 1\n", "version: 2\n").replace(
        "instrument: Residents' community safety survey",
        "instrument: Residents survey, second edition")
    sent = _submit(officer, upload_id, v2)
    page = site.client("admin").get(sent.headers["location"]).text  # type: ignore[attr-defined]
    diff = page.split('id="cw-diff">')[1].split("</pre>")[0]
    assert "crosswalks/luton/residents-2024.v1.yaml (v1, released)" in diff
    assert "-version: 1" in diff and "+version: 2" in diff
    assert re.search(r"\+instrument: Residents survey, second edition", diff)


def test_a_forged_draft_is_not_released(site: Site) -> None:
    """A draft stored before the check (or written into the database) is refused at
    release, with the reason on the page."""
    _officer, upload_id = _luton_upload(site)
    text = (LUTON_CW.read_text(encoding="utf-8").replace("status: released\n", "status: draft\n")
            .replace("crosswalk: luton-residents-2024\n", "crosswalk: bedford-residents-2024\n")
            .replace("csp: luton\n", "csp: bedford\n"))
    ws = site.state.ws
    sub = ws.submit_crosswalk(partnership_id=ws.upload(upload_id).partnership_id,
                              upload_id=upload_id, crosswalk="bedford-residents-2024",
                              version=1, sha256="0" * 64, text=text, report='{"valid": true, '
                              '"issues": []}', valid=True, by=site.users[OFFICERS["luton"]])
    admin = site.client("admin")
    page = admin.get(f"/crosswalks/{sub.id}").text
    assert 'id="cw-ownership"' in page and "its csp is" in page
    refused = admin.post(f"/crosswalks/{sub.id}/release")
    assert refused.status_code == 409 and "set &#39;csp: luton&#39;" in refused.text
    assert ws.submission(sub.id).status == "draft"
