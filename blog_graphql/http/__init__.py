"""The HTTP side of the app: GraphQL over HTTP, middleware, client addresses, GraphiQL."""
