"""The `blog-graphql` command line: `main` parses, one module per group of commands."""
