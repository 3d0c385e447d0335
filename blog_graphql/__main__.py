"""`python -m blog_graphql` is the `blog-graphql` command."""

from blog_graphql.cli.main import main

main()
