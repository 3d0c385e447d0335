"""`python -m blog_graphql` is the `blog-graphql` command."""

from blog_graphql.cli import main

main()
