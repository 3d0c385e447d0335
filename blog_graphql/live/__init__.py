"""Live updates: pub/sub fan-out across instances and the WebSocket connections that carry it."""
