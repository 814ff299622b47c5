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
import time

from tests.local_http import Answer, LocalHTTPServer, Request

PREFIX = re.compile(r"^/range/([0-9A-F]{5})$")


def sha1_hex(password: str) -> str:
    return hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()


class FakePwnedPasswords:
    def __init__(self, breached: dict[str, int] | None = None):
        self.breached = {sha1_hex(p): n for p, n in (breached or {}).items()}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.status = 200
        self.delay = 0.0
        self.server = LocalHTTPServer(self.answer)

    @property
    def url(self) -> str:
        return self.server.url

    def answer(self, request: Request) -> Answer:
        self.requests.append((request.path, request.headers))
        if self.delay:
            time.sleep(self.delay)
        match = PREFIX.match(request.path)
        if self.status != 200 or not match:
            return Answer(
                self.status if match else 400, b"The hash prefix was not in a valid format"
            )
        padded = request.headers.get("Add-Padding") == "true"
        return Answer(200, self.range_body(match.group(1), padded=padded))

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
        self.server.start()
        return self

    def stop(self):
        self.server.stop()
