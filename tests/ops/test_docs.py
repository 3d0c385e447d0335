"""The README and docs/: links that resolve inside the repository, GraphQL that fits the schema.

Also the README's promise of two set-up commands, and the `./dev` script they run.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
EXTERNAL = ("https://", "http://", "mailto:")

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); a title after the target is allowed.
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*(\S+)", re.MULTILINE)


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def prose(text: str) -> str:
    """The page without its code, where brackets and parentheses are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(page: Path) -> list[str]:
    text = prose(page.read_text())
    return LINK.findall(text) + REFERENCE.findall(text)


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*$", FENCE.sub("", page.read_text()), re.M):
        text = re.sub(r"[`*_]", "", heading).strip().lower()
        found.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", text)))
    return found


def broken_links(page: Path) -> list[str]:
    problems = []
    for target in links(page):
        if target.startswith(EXTERNAL):
            continue
        path_part, _, fragment = target.partition("#")
        if path_part.startswith("/") or ":" in path_part:
            problems.append(f"{target}: not a path relative to the page")
            continue
        resolved = (page.parent / path_part).resolve() if path_part else page
        if not resolved.is_relative_to(ROOT):
            problems.append(f"{target}: outside the repository")
        elif not resolved.exists():
            problems.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            problems.append(f"{target}: no heading #{fragment} in {relative(resolved)}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=relative)
def test_every_link_resolves_inside_the_repository(page):
    assert links(page) or page.name == "architecture.md"
    assert broken_links(page) == []


def test_the_link_check_catches_what_it_should(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "there.md").write_text("# A heading here\n")
    page = tmp_path / "README.md"
    page.write_text(
        "[contract](../shared/API.md) [gone](docs/missing.md) [ok](docs/there.md)\n"
        "[anchor](docs/there.md#a-heading-here) [bad anchor](docs/there.md#nowhere)\n"
        "[abs](/etc/passwd) [web](https://example.com) `[code](not/a/link.md)`\n"
    )
    assert broken_links(page) == [
        "../shared/API.md: outside the repository",
        "docs/missing.md: no such file",
        "docs/there.md#nowhere: no heading #nowhere in docs/there.md",
        "/etc/passwd: not a path relative to the page",
    ]


def test_nothing_points_at_the_shared_contract_outside_the_repository():
    for page in PAGES:
        assert "shared/API.md" not in page.read_text(), relative(page)


def test_the_docs_index_links_every_page():
    index = ROOT / "docs" / "index.md"
    linked = {(index.parent / target.partition("#")[0]).resolve() for target in links(index)}
    pages = {page.resolve() for page in PAGES if page.parent.is_relative_to(ROOT / "docs")}
    assert pages - {index.resolve()} <= linked
    text = index.read_text().lower()
    assert not re.search(r"\b(todo|tbd|coming soon|placeholder|lorem)\b", text)


# --- GraphQL in the docs ------------------------------------------------------------

SCHEMA = build_schema((ROOT / "schema.graphql").read_text())
GRAPHQL_FENCE = re.compile(r"^```graphql\n(.*?)^```", re.MULTILINE | re.DOTALL)
CODE_FENCE = re.compile(r"^```(?:js|jsx|ts|tsx)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A GraphQL document in JavaScript: a template literal that opens with an operation.
TEMPLATE = re.compile(r"`\s*((?:query|mutation|subscription)\b[^`]*)`")


def graphql_documents() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        found += [(relative(page), document) for document in GRAPHQL_FENCE.findall(text)]
        for block in CODE_FENCE.findall(text):
            found += [(relative(page), document) for document in TEMPLATE.findall(block)]
    return found


def test_the_client_docs_hold_graphql_for_every_recipe():
    pages = {page for page, _ in graphql_documents()}
    assert {
        "docs/api-guide.md",
        "docs/clients/apollo.md",
        "docs/clients/urql.md",
        "docs/clients/fetch-and-graphql-ws.md",
    } <= pages


@pytest.mark.parametrize(
    "page,document", graphql_documents(), ids=lambda value: value[:40].split("(")[0]
)
def test_every_documented_operation_validates_against_the_schema(page, document):
    errors = validate(SCHEMA, parse(document))
    assert errors == [], f"{page}: {[error.message for error in errors]}"


def test_the_schema_check_does_catch_a_wrong_field():
    document = "query { posts { edges { node { titel } } } }"
    assert [error.message for error in validate(SCHEMA, parse(document))] == [
        "Cannot query field 'titel' on type 'Post'. Did you mean 'title'?"
    ]


# --- the two set-up commands and ./dev ----------------------------------------------


def test_the_readme_sets_up_with_two_commands():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"^```sh\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    commands = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["./dev serve", "./dev test"]


def test_dev_is_a_posix_script_that_pins_the_images_uv():
    script = ROOT / "dev"
    assert script.stat().st_mode & 0o111, "./dev must be executable"
    assert script.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", str(script)], check=True)
    (pinned,) = re.findall(r"^UV_VERSION=(\S+)$", script.read_text(), re.MULTILINE)
    (image,) = re.findall(r"^ARG UV_VERSION=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert pinned == image
    assert ".tools/" in (ROOT / ".gitignore").read_text().splitlines()


def test_dev_serve_leaves_the_developer_tools_out():
    script = (ROOT / "dev").read_text()
    assert 'exec "$uv" run --frozen --no-dev blog-graphql serve "$@"' in script
    assert 'exec "$uv" run --frozen pytest "$@"' in script


# --- the Apollo Client and urql recipes compile ---------------------------------------

TS_CHECK = Path(__file__).parent / "docs_ts"
TS_FENCE = re.compile(r"^```(ts|tsx)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# A block that other blocks import opens with its file name: `// auth.ts`.
FILE_NAME = re.compile(r"\A// (\w+\.tsx?)\n")


def write_recipe_modules(page: Path, folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    written = []
    for number, (language, code) in enumerate(TS_FENCE.findall(page.read_text())):
        named = FILE_NAME.match(code)
        path = folder / (named[1] if named else f"block{number}.{language}")
        path.write_text(code)
        written.append(path)
    return written


@pytest.mark.parametrize("recipe", ["apollo.md", "urql.md", "graphql-sse.md"])
def test_the_client_recipes_type_check_against_their_libraries(recipe, tmp_path):
    """tsc over every TypeScript block, with the libraries of docs_ts/package-lock.json."""
    tsc = TS_CHECK / "node_modules" / ".bin" / "tsc"
    assert tsc.exists(), "run `npm ci` in tests/ops/docs_ts (.ci/run does)"
    modules = write_recipe_modules(ROOT / "docs" / "clients" / recipe, tmp_path / "recipes")
    assert len(modules) >= 4
    (tmp_path / "node_modules").symlink_to(TS_CHECK / "node_modules")
    config = {
        "extends": str(TS_CHECK / "tsconfig.json"),
        "include": [str(TS_CHECK / "env.d.ts"), "recipes/*"],
    }
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [str(tsc), "-p", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_check_does_catch_a_wrong_library_call(tmp_path):
    (tmp_path / "recipes").mkdir()
    (tmp_path / "recipes" / "wrong.ts").write_text(
        'import { createClient } from "urql";\ncreateClient({ uri: "/graphql" });\n'
    )
    (tmp_path / "node_modules").symlink_to(TS_CHECK / "node_modules")
    config = {"extends": str(TS_CHECK / "tsconfig.json"), "include": ["recipes/*"]}
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [str(TS_CHECK / "node_modules" / ".bin" / "tsc"), "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "'uri' does not exist" in result.stdout
