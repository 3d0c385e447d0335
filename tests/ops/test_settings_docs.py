"""README's environment-variable table is generated from the settings model and kept equal."""

from pathlib import Path

import pytest

from blog_graphql.cli.main import main
from blog_graphql.config import settings_docs
from blog_graphql.config.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_setting_with_its_current_default():
    readme = README.read_text()
    assert settings_docs.with_table(readme) == readme, (
        "README.md is stale: run `uv run blog-graphql settings-table --update README.md`"
    )


def test_every_setting_is_described():
    undocumented = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undocumented == []


def test_the_table_shows_defaults_and_choices():
    table = settings_docs.settings_table()
    assert "| `DATABASE_URL` | `sqlite:///./blog_graphql.db` |" in table
    assert "| `SECRET_KEY` | a development-only key |" in table
    assert "| `ALLOWED_HOSTS` | `*` |" in table
    assert "| `REDIS_URL` | unset |" in table
    assert "One of `development`, `production`." in table
    assert len(table.splitlines()) == len(Settings.model_fields) + 2


def test_update_rewrites_only_the_marked_section(tmp_path, capsys):
    document = tmp_path / "DOC.md"
    document.write_text(f"# Title\n{settings_docs.START}\nSTALE TABLE\n{settings_docs.END}\ntail\n")

    main(["settings-table", "--update", str(document)])

    text = document.read_text()
    assert text.startswith(f"# Title\n{settings_docs.START}\n| variable |")
    assert text.endswith(f"{settings_docs.END}\ntail\n")
    assert "STALE TABLE" not in text  # (a word no setting's description holds)
    assert capsys.readouterr().out == f"{document}: updated\n"


def test_update_without_markers_is_one_line_and_a_failure(tmp_path, capsys):
    document = tmp_path / "DOC.md"
    document.write_text("no markers here\n")
    with pytest.raises(SystemExit) as exit_:
        main(["settings-table", "--update", str(document)])
    assert exit_.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith("blog-graphql: error: ") and error.count("\n") == 1
    assert document.read_text() == "no markers here\n"
