"""A local HTTP server speaking the Pwned Passwords range API (the only faked outside service here).

As documented by Have I Been Pwned: `GET /range/{first 5 hex of SHA-1, upper-case}` answers
`text/plain` lines `SUFFIX:COUNT` (35 upper-case hex characters, the count), separated by CRLF;
with the request header `Add-Padding: true` it adds fake suffixes of count 0 so that every answer
has a similar size. `breached` holds the passwords it knows and their counts.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = re.compile(r"^/range/([0-9A-F]{5})$")


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class FakePwnedPasswords:
    def __init__(self, breached: dict[str, int] | None = None):
        self.breached = {sha1_hex(p): n for p, n in (breached or {}).items()}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.status = 200
        self.delay = 0.0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                service.requests.append((self.path, dict(self.headers)))
                if service.delay:
                    time.sleep(service.delay)
                match = PREFIX.match(self.path)
                if service.status != 200 or not match:
                    status = service.status if match else 400
                    body = b"The hash prefix was not in a valid format"
                else:
                    status = 200
                    body = service.range_body(
                        match.group(1), padded=self.headers.get("Add-Padding") == "true"
                    )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                    pass

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.handle_error = lambda request, client_address: None
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def range_body(self, prefix: str, *, padded: bool) -> bytes:
        lines = [
            f"{digest[5:]}:{count}"
            for digest, count in self.breached.items()
            if digest.startswith(prefix)
        ]
        # Unrelated suffixes under the same prefix, as the real answer has hundreds.
        lines += [f"{secrets.token_hex(18)[:35].upper()}:{n + 1}" for n in range(20)]
        if padded:
            lines += [f"{secrets.token_hex(18)[:35].upper()}:0" for _ in range(30)]
        return "\r\n".join(lines).encode()

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
