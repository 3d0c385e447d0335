"""The worker's small HTTP side: `/healthz` for container health checks, `/metrics` for jobs.

`blog-graphql worker` has no web server of its own; with `WORKER_HTTP_PORT` set it runs
this one in a thread of its main process. `/metrics` reports every worker process
(prometheus-client's multiprocess mode) and needs `METRICS_TOKEN`, like the API's.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST

from blog_graphql.http.metrics_endpoint import bearer_matches, exposition


class WorkerHTTP(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str, port: int, metrics_token: str | None) -> None:
        super().__init__((host, port), _Handler)
        self.metrics_token = metrics_token

    def start(self) -> WorkerHTTP:
        threading.Thread(target=self.serve_forever, name="worker-http", daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: WorkerHTTP

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._answer(HTTPStatus.OK, b'{"status":"ok"}', "application/json")
        elif self.path == "/metrics" and self.server.metrics_token is not None:
            if bearer_matches(self.headers.get("Authorization"), self.server.metrics_token):
                self._answer(HTTPStatus.OK, exposition([]), CONTENT_TYPE_LATEST)
            else:
                self._answer(HTTPStatus.UNAUTHORIZED, b"Unauthorized", "text/plain")
        else:
            self._answer(HTTPStatus.NOT_FOUND, b"Not Found", "text/plain")

    def _answer(self, status: HTTPStatus, body: bytes, media_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Probes and scrapes every few seconds are not worth a log line."""
