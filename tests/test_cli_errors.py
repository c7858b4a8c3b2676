"""Issue 12, item 3: ``cli.main`` turns any of our errors raised by a command into one line on stderr and exit
status 2, with no traceback; the commands no longer convert by hand."""

from __future__ import annotations

import failing_commands
import pytest

from smishguard import cli


def test_an_error_of_ours_from_any_command_is_one_line_on_stderr_and_status_2(monkeypatch, capsys):
    shipped = cli.command_modules
    monkeypatch.setattr(cli, "command_modules", lambda first_word=None: (*shipped(first_word), failing_commands))
    code = cli.main(["raise-conflict"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err == "smishguard: error: that employee already exists\n"
    assert out == ""


@pytest.mark.django_db
def test_a_service_refusal_reaches_the_user_as_its_own_message(capsys):
    assert cli.main(["employees", "add", "ada@example.com", "--name", "Ada"]) == 0
    capsys.readouterr()
    assert cli.main(["employees", "add", "ada@example.com", "--name", "Ada again"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smishguard: error: ")
    assert err.count("\n") == 1
    assert "Traceback" not in err
