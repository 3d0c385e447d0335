"""The outside tools, installed on demand: PostGraphile with Node 22 from npm, Debian's wrk."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from bench.workload import POSTGRAPHILE_QUERIES

CACHE = Path.home() / ".cache" / "blog_graphql-bench"
POSTGRAPHILE_VERSION = "5.1.5"
NODE_PACKAGE = "node@22"  # PostGraphile 5 needs Node 22+; the machine's may be older
# The preset, and the launcher that runs it in as many processes as blog_graphql has workers.
POSTGRAPHILE_FILES = ("graphile.config.mjs", "cluster.mjs")


def install_postgraphile(cache: Path = CACHE) -> Path:
    """PostGraphile and Node in `cache/postgraphile-VERSION`, with our preset beside them."""
    target = cache / f"postgraphile-{POSTGRAPHILE_VERSION}"
    installed = target / "node_modules" / "postgraphile" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != (
        POSTGRAPHILE_VERSION
    ):
        target.mkdir(parents=True, exist_ok=True)
        (target / "package.json").write_text('{"private": true}\n')
        packages = [NODE_PACKAGE, f"postgraphile@{POSTGRAPHILE_VERSION}"]
        print(f"installing {' '.join(packages)} into {target}")
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", *packages],
            cwd=target,
            check=True,
        )
    # Node resolves the preset's imports from where the preset is: next to node_modules.
    for name in POSTGRAPHILE_FILES:
        shutil.copyfile(POSTGRAPHILE_QUERIES / name, target / name)
    return target


def ensure_wrk() -> str:
    """Debian's wrk, installed with apt-get when missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk with apt-get")
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is missing: install Debian's package (apt-get install wrk)")
    return found
