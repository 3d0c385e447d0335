"""The edge: GraphQL over HTTP and WebSocket, middleware, the access log, probes, /metrics."""
