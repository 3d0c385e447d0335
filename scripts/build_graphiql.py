"""Rebuild GraphiQL's browser assets (package data) from pinned npm packages.

Run when upgrading GraphiQL: `uv run python scripts/build_graphiql.py` (needs npm and the
npm registry). It fetches each tarball with `npm pack`, checks its integrity against the
hash pinned below, and copies the prebuilt UMD bundles and their licence texts into
`blog_graphql/http/graphiql/vendor/`. Fonts and images that the stylesheet inlines as
`data:` URLs become files beside it, so the page's CSP can allow the server's origin only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[1] / "blog_graphql" / "http" / "graphiql" / "vendor"

# name, version, npm integrity, {file in the tarball: file in vendor/}
PACKAGES = [
    (
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        {"umd/react.production.min.js": "react.production.min.js", "LICENSE": "LICENSE.react"},
    ),
    (
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        {
            "umd/react-dom.production.min.js": "react-dom.production.min.js",
            "LICENSE": "LICENSE.react-dom",
        },
    ),
    (
        "graphiql",
        "4.1.2",
        "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        {
            "graphiql.min.js": "graphiql.min.js",
            "graphiql.min.css": "graphiql.min.css",
            "LICENSE": "LICENSE.graphiql",
        },
    ),
    (
        "graphql-ws",
        "6.0.8",
        "sha512-m3EOaNsUBXwAnkBWbzPfe0Nq8pXUfxsWnolC54sru3FzHvhTZL0Ouf/BoQsaGAXqM+YPerXOJ47BUnmgmoupCw==",
        {"umd/graphql-ws.min.js": "graphql-ws.min.js", "LICENSE.md": "LICENSE.graphql-ws"},
    ),
]
NOTICE = """Third-party files vendored by scripts/build_graphiql.py, each under its own licence:
react, react-dom (MIT, LICENSE.react, LICENSE.react-dom); graphiql (MIT, LICENSE.graphiql);
graphql-ws (MIT, LICENSE.graphql-ws). graphiql.min.js bundles @graphiql/react, codemirror
and graphql-js, all MIT. The fonts (asset-*.woff, asset-*.woff2) come inlined in GraphiQL's
stylesheet: Roboto (Apache License 2.0) and Fira Code (SIL Open Font License 1.1).
"""
DATA_URL = re.compile(
    r"url\((['\"]?)data:(font/woff2?|image/png|image/svg\+xml);base64,([^'\")]+)\1\)"
)
EXTENSIONS = {
    "font/woff": "woff",
    "font/woff2": "woff2",
    "image/png": "png",
    "image/svg+xml": "svg",
}


def fetch(name: str, version: str, integrity: str, into: Path) -> Path:
    output = subprocess.run(
        ["npm", "pack", f"{name}@{version}", "--json", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tarball = into / json.loads(output)[0]["filename"]
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    if f"sha512-{digest}" != integrity:
        sys.exit(f"{name}@{version}: integrity mismatch, refusing to vendor it")
    return tarball


def extract(tarball: Path, files: dict[str, str]) -> None:
    with tarfile.open(tarball) as archive:
        for source, target in files.items():
            member = archive.extractfile(f"package/{source}")
            assert member is not None, source
            (VENDOR / target).write_bytes(member.read())


def externalise_data_urls(stylesheet: Path) -> None:
    """Move inlined fonts and images out of the CSS into files named by their hash."""

    def to_file(match: re.Match[str]) -> str:
        content = base64.b64decode(match.group(3))
        name = f"asset-{hashlib.sha256(content).hexdigest()[:16]}.{EXTENSIONS[match.group(2)]}"
        (VENDOR / name).write_bytes(content)
        return f"url({name})"

    stylesheet.write_text(DATA_URL.sub(to_file, stylesheet.read_text()))


def main() -> None:
    shutil.rmtree(VENDOR, ignore_errors=True)
    VENDOR.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as scratch:
        for name, version, integrity, files in PACKAGES:
            extract(fetch(name, version, integrity, Path(scratch)), files)
    externalise_data_urls(VENDOR / "graphiql.min.css")
    versions = "\n".join(f"{name}@{version}" for name, version, _, _ in PACKAGES)
    (VENDOR / "VERSIONS").write_text(versions + "\n")
    (VENDOR / "NOTICE").write_text(NOTICE)
    print(f"vendored into {VENDOR}:\n{versions}")


if __name__ == "__main__":
    main()
