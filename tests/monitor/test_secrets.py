"""A password reaches no terminal line, whichever way it is given: in the URL's user-info, in its query string
(`?password=`, which libpq and psycopg accept), through `--db` or `$ENGAGE_DB`, in success lines and in errors."""

import pytest

from engage.cli import main
from tests.postgres import PASSWORD, USER

FORMS = {
    "user-info": "postgresql://{user}:{password}@127.0.0.1:{port}/{database}",
    "query": "postgresql://{user}@127.0.0.1:{port}/{database}?password={password}",
    "query only": "postgresql://127.0.0.1:{port}/{database}?user={user}&password={password}&sslmode=disable",
}
COMMANDS = [
    ["sessions"],
    ["show", "1"],
    ["export", "1", "-o", "{tmp}/out.csv"],
    ["mark", "slide 3", "--room", "B12"],
    ["rename", "1", "renamed"],
    ["delete", "1", "--yes"],
    ["prune", "--older-than", "1d", "--yes"],
    ["sync", "--outbox", "{tmp}/outbox.db"],
    ["dashboard", "--port", "8761"],
]


def run(args, url, how, tmp_path, monkeypatch, capsys):
    args = [a.format(tmp=tmp_path) for a in args]
    if how == "env":
        monkeypatch.setenv("ENGAGE_DB", url)
        code = main(args)
    else:
        code = main([*args, "--db", url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("form", FORMS)
def test_no_command_prints_the_password_of_an_unreachable_store(form, how, tmp_path, monkeypatch, capsys):
    url = FORMS[form].format(user=USER, password=PASSWORD, port=9, database="engage")
    (tmp_path / "outbox.db").touch()
    for args in COMMANDS:
        code, printed = run(args, url, how, tmp_path, monkeypatch, capsys)
        assert code == 2, (args, printed)
        assert "unreachable" in printed and "***" in printed, (args, printed)
        assert PASSWORD not in printed, (args, printed)


@pytest.mark.parametrize("form", FORMS)
def test_no_success_line_prints_the_password(form, postgres, tiny_model, lecture_video, tmp_path, monkeypatch, capsys):
    database = postgres.new_database().rsplit("/", 1)[1]
    url = FORMS[form].format(user=USER, password=PASSWORD, port=postgres.port, database=database)
    outbox = str(tmp_path / "outbox.db")
    analyze = ["analyze", str(lecture_video), "--model", str(tiny_model), "--room", "B12", "--outbox", outbox]
    code, printed = run(analyze, url, "env", tmp_path, monkeypatch, capsys)
    assert code == 0 and "all intervals sent to" in printed and "***" in printed
    assert PASSWORD not in printed
    for args in COMMANDS[:3] + COMMANDS[6:8]:
        code, printed = run(args, url, "flag", tmp_path, monkeypatch, capsys)
        assert code == 0, (args, printed)
        assert PASSWORD not in printed, (args, printed)
