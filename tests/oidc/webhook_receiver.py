"""A démarche's webhook endpoint for the tests: a real HTTP server on 127.0.0.1 that keeps what it
is sent, can be stopped and started again on the same port, or answer errors."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict] = []  # {"body", "idempotency_key", "content_type"}
        self.fail_with = 0  # an HTTP status to answer instead of 204
        self.port = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook/"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.fail_with:
                    self.send_response(receiver.fail_with)
                    self.end_headers()
                    return
                receiver.received.append(
                    {
                        "body": body.decode(),
                        "idempotency_key": self.headers.get("Idempotency-Key"),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
