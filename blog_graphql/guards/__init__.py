"""What guards every operation on HTTP and WebSocket: query limits, rate limits, client ids."""
