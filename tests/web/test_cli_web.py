"""harmonise users add / list and harmonise serve's start-up (uvicorn itself stubbed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from harmonise.cli import main
from harmonise.store.workspace import Workspace
from harmonise.web.auth import check_password

PASSWORD = "a long enough password"


def _invoke(*args: str, stdin: str = "") -> Any:
    return CliRunner().invoke(main, list(args), input=stdin)


def test_users_are_added_with_a_chosen_password_and_listed(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    added = _invoke("users", "add", "alice", "--admin", "--password-stdin", "--data", data,
                    stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert "Added admin alice" in added.output
    officer = _invoke("users", "add", "bob", "--partnership", "luton", "--partnership-name",
                      "Luton CSP", "--password-stdin", "--data", data, stdin=PASSWORD + "\n")
    assert officer.exit_code == 0, officer.output
    listed = _invoke("users", "list", "--data", data)
    assert listed.output.splitlines() == ["alice\tadmin\t\tactive", "bob\tofficer\tluton\tactive"]
    ws = Workspace(f"sqlite:///{tmp_path / 'data/workspace.sqlite'}")
    user = ws.user_by_name("alice")
    assert user is not None and check_password(user.password_hash, PASSWORD)[0]
    assert PASSWORD not in user.password_hash
    actions = [e.action for e in ws.activity()]
    assert actions.count("add-user") == 2 and "add-partnership" in actions
    ws.close()


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["carol"], PASSWORD, "an officer belongs to a partnership"),
    (["carol", "--partnership", "nowhere"], PASSWORD, "no partnership 'nowhere'"),
    (["carol", "--admin"], "short", "at least 12 characters"),
    (["carol", "--admin", "--role", "analyst"], PASSWORD, "--admin and --role disagree"),
    (["../x", "--admin"], PASSWORD, "letters, digits"),
], ids=["no-partnership", "unknown-partnership", "short-password", "two-roles", "bad-name"])
def test_bad_user_requests_are_explained(tmp_path: Path, args: list[str], stdin: str,
                                         message: str) -> None:
    result = _invoke("users", "add", *args, "--password-stdin", "--data",
                     str(tmp_path / "d"), stdin=stdin + "\n")
    assert result.exit_code == 2
    assert message in result.output


def test_serve_prints_a_one_time_setup_token_when_there_is_no_admin(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kw: Any) -> None:
        seen["app"], seen["kw"] = app, kw

    monkeypatch.setattr(uvicorn, "run", fake_run)
    result = _invoke("serve", "--data", str(tmp_path / "d"), "--port", "8123")
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/setup" in result.output
    state = seen["app"].state.web
    assert len(state.setup_token) == 1 and state.setup_token[0] in result.output
    assert seen["kw"]["host"] == "127.0.0.1"
    assert state.config.secure_cookies and state.config.max_upload_bytes == 200 * 1024 * 1024
    assert (tmp_path / "d/workspace.sqlite").is_file()
    state.ws.close()
    _invoke("users", "add", "root", "--admin", "--password-stdin", "--data",
            str(tmp_path / "d"), stdin=PASSWORD + "\n")
    again = _invoke("serve", "--data", str(tmp_path / "d"))
    assert "setup token" not in again.output
    seen["app"].state.web.ws.close()


def test_a_new_password_is_set_from_the_command_line(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert _invoke("users", "add", "bob", "--admin", "--password-stdin", "--data", data,
                   stdin=PASSWORD + "\n").exit_code == 0
    ws = Workspace(f"sqlite:///{tmp_path / 'data/workspace.sqlite'}")
    user = ws.user_by_name("bob")
    assert user is not None
    ws.add_session("s" * 64, user.id, __import__("datetime").timedelta(hours=1))
    new = "another long password"
    done = _invoke("users", "password", "bob", "--password-stdin", "--data", data,
                   stdin=new + "\n")
    assert done.exit_code == 0, done.output
    assert "New password set for bob" in done.output
    stored = ws.user(user.id).password_hash
    assert check_password(stored, new)[0] and not check_password(stored, PASSWORD)[0]
    assert ws.session_user("s" * 64) is None
    assert "password-reset" in [e.action for e in ws.activity()]
    short = _invoke("users", "password", "bob", "--password-stdin", "--data", data,
                    stdin="short\n")
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    missing = _invoke("users", "password", "nobody", "--password-stdin", "--data", data,
                      stdin=new + "\n")
    assert missing.exit_code == 2 and "no account 'nobody'" in missing.output
    ws.close()
