"""A démarche's webhook endpoint for the tests: a real HTTP server on 127.0.0.1 that keeps what it
is sent, can be stopped and started again on the same port, or answer errors."""

from tests.local_http import Answer, LocalHTTPServer, Request


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict] = []  # {"body", "idempotency_key", "content_type"}
        self.fail_with = 0  # an HTTP status to answer instead of 204
        self.server = LocalHTTPServer(self.answer)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"{self.server.url}/webhook/"

    def answer(self, request: Request) -> Answer:
        if request.method != "POST":
            return Answer(405)
        if self.fail_with:
            return Answer(self.fail_with)
        self.received.append(
            {
                "body": request.body.decode(),
                "idempotency_key": request.headers.get("Idempotency-Key"),
                "content_type": request.headers.get("Content-Type"),
            }
        )
        return Answer(204)

    def start(self) -> "Receiver":
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()
