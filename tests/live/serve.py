"""Serve the test app exactly as `blog-graphql serve` runs uvicorn: `python -m tests.live.serve`."""

from __future__ import annotations

import argparse

import uvicorn

from blog_graphql.cli.main import uvicorn_options
from blog_graphql.config.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default=None, help="e.g. warning, for benchmarks")
    args = parser.parse_args()
    options = uvicorn_options(get_settings())
    if args.log_level:
        options["log_level"] = args.log_level
    uvicorn.run(
        "tests.live.app:create_test_app", factory=True, host="127.0.0.1", port=args.port, **options
    )


if __name__ == "__main__":
    main()
