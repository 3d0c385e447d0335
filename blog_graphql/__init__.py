"""blog_graphql: a GraphQL blog backend."""
