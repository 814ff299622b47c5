"""A man in the middle of CERES' token request: forwards it to the portal, then alters the ID
token's payload (its signature no longer matches). CERES must refuse it."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tamper(id_token: str) -> str:
    header, payload, signature = id_token.split(".")
    claims = json.loads(_b64decode(payload))
    claims["email"] = "intrus@exemple.fr"
    claims["sub"] = "00000000-0000-0000-0000-000000000000"
    return ".".join([header, _b64encode(json.dumps(claims).encode()), signature])


class TamperingTokenProxy:
    def __init__(self, token_endpoint: str):
        self.token_endpoint = token_endpoint
        self.tampered = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() in ("authorization", "content-type")
                }
                upstream = requests.post(
                    proxy.token_endpoint, data=body, headers=headers, timeout=10
                )
                content = upstream.content
                if upstream.status_code == 200:
                    data = upstream.json()
                    data["id_token"] = tamper(data["id_token"])
                    proxy.tampered += 1
                    content = json.dumps(data).encode()
                self.send_response(upstream.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> "TamperingTokenProxy":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
