"""The command line: one-line errors, schema export, a deterministic seed."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from blog_graphql.accounts.models import User
from blog_graphql.comments.models import Comment
from blog_graphql.db.database import Database
from blog_graphql.posts.models import Post, PostTag, Tag

ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    full_env = {**os.environ, "BCRYPT_ROUNDS": "4", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "blog_graphql", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=120,
    )


def test_schema_graphql_equals_export_schema():
    result = run_cli("export-schema")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "schema.graphql").read_text()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["frobnicate"], {}, "invalid choice"),
        (["serve", "--port", "abc"], {}, "--port"),
        (["serve", "--workers", "0"], {}, "--workers"),
        (["seed", "--users", "-3"], {}, "--users"),
        (["seed", "--posts", "5"], {}, "--posts needs --users"),
        (["create-admin", "--email", "a@example.com"], {}, "--username"),
        (
            ["create-admin", "--email", "root,evil@example.com", "--username", "root"],
            {"ADMIN_PASSWORD": "Admin1234"},
            "email: Enter a valid email address.",
        ),
        (["migrate"], {"DATABASE_URL": "mysql://root@localhost/blog"}, "DATABASE_URL"),
        (["migrate"], {"SMTP_PORT": "many"}, "SMTP_PORT"),
        (["migrate"], {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}, "database"),
        (["serve"], {"ENVIRONMENT": "production", "SECRET_KEY": "short"}, "SECRET_KEY"),
    ],
)
def test_every_misuse_is_one_line_and_a_nonzero_exit(args, env, expected, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", **env}
    result = run_cli(*args, env=env, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CORS_ORIGINS", "localhost:5173"),
        ("REDIS_URL", "notaurl"),
        ("PORT", "http"),
        ("PORT", "70000"),
        ("PUBLIC_URL", "app.example"),
        ("EMAILS_FROM", "nobody"),
        ("SMTP_PORT", "many"),
        ("RATE_LIMIT_FIELDS", "register"),
        ("ENVIRONMENT", "staging"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(variable, value, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", variable: value}
    result = run_cli("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"blog-graphql: error: {variable}: ")
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "cli.db").exists()  # refused before anything ran


def test_create_admin_reads_the_password_from_the_environment(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "ADMIN_PASSWORD": "Admin1234"}
    args = ["create-admin", "--email", "root@example.com", "--username", "root"]
    first = run_cli(*args, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    again = run_cli(*args, env=env, cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.count("\n") == 1 and "taken" in again.stderr
    weak = run_cli(
        "create-admin", "--email", "x@example.com", "--username", "xx1",
        env={**env, "ADMIN_PASSWORD": "weak"}, cwd=tmp_path,
    )  # fmt: skip
    assert weak.returncode == 1
    assert weak.stderr.strip().count("\n") == 0 and "password" in weak.stderr


async def dataset_digest(url: str) -> str:
    """A hash over every seeded row's content, independent of when the seed ran."""
    db = Database.from_url(url)
    digest = hashlib.sha256()
    async with db.session() as session:
        for statement in (
            select(User.username, User.full_name, User.bio).order_by(User.id),
            select(Tag.name, Tag.slug, Tag.color).order_by(Tag.id),
            select(Post.author_id, Post.title, Post.slug, Post.content, Post.published_at).order_by(
                Post.id
            ),
            select(PostTag.post_id, PostTag.tag_id).order_by(PostTag.post_id, PostTag.tag_id),
            select(Comment.post_id, Comment.author_id, Comment.parent_id, Comment.content).order_by(
                Comment.id
            ),
        ):
            for row in await session.execute(statement):
                digest.update(repr(tuple(row)).encode())
    await db.dispose()
    return digest.hexdigest()


async def test_seed_is_deterministic_for_a_random_seed(tmp_path):
    urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db", "c.db")]
    for url, random_seed in zip(urls, ("7", "7", "8"), strict=True):
        result = run_cli(
            "seed", "--users", "20", "--posts", "60", "--comments", "300",
            "--random-seed", random_seed, env={"DATABASE_URL": url}, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "seeded 20 users, 50 tags, 60 posts and 300 comments in" in result.stdout
    a, b, c = [await dataset_digest(url) for url in urls]
    assert a == b
    assert a != c
