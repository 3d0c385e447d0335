"""WebSocket close codes this server sends, and what a client should do on each.

The `graphql-ws` npm client reconnects by itself on 1012, 1013 and 4403 (4403 after
calling `connectionParams` again, so a fresh token is used); it treats 4401 as fatal,
so the application refreshes its access token and reconnects.
"""

from __future__ import annotations

# The access token given in `connection_init` expired: refresh it and reconnect.
TOKEN_EXPIRED = 4401
# The token was refused at `connection_init`, or its session ended (logout, password
# change, deactivated account): sign in again.
SESSION_ENDED = 4403
# The connection-init message did not come in time (graphql-transport-ws uses it too).
INIT_TIMEOUT = 4408
# A second `connection_init` on one connection (graphql-transport-ws uses it too).
TOO_MANY_INITS = 4429
# The event stream behind the socket was interrupted (the Redis connection dropped):
# events may have been missed, so reconnect and refetch what is on screen.
STREAM_INTERRUPTED = 1012
# The client did not read its events fast enough and its bounded queue overflowed:
# events were dropped, so reconnect and refetch.
SLOW_CONSUMER = 1013
# The database could not be asked at `connection_init` (it is down): try again later.
# RFC 6455's "Try Again Later", which graphql-ws clients retry by themselves.
UNAVAILABLE = 1013
