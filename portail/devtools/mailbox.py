"""The local mailbox for development and tests: a real SMTP server that catches every message,
and a small web page to read them. Never used in production.

    python -m portail.devtools.mailbox --smtp-port 1025 --http-port 8025 --dir var/mailbox
"""

import argparse
import email
import email.policy
import html
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, make_server

from aiosmtpd.controller import Controller

LINK_RE = re.compile(r"https?://[^\s<>\"')]+")


@dataclass
class CaughtMessage:
    id: str
    received_at: float
    sender: str
    recipients: list[str]
    subject: str
    text: str
    html: str

    @property
    def links(self) -> list[str]:
        return LINK_RE.findall(self.text)

    def as_dict(self) -> dict:
        return {**vars(self), "links": self.links}


def parse_message(
    message_id: str, received_at: float, raw: bytes, sender: str, recipients
) -> CaughtMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    return CaughtMessage(
        id=message_id,
        received_at=received_at,
        sender=sender,
        recipients=list(recipients),
        subject=str(msg.get("Subject", "")),
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else "",
    )


class Mailbox:
    """Messages stored one file each (raw .eml + a small .json envelope) in a folder."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def store(self, sender: str, recipients, raw: bytes) -> str:
        message_id = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}"
        with self._lock:
            (self.directory / f"{message_id}.eml").write_bytes(raw)
            envelope = {
                "sender": sender,
                "recipients": list(recipients),
                "received_at": time.time(),
            }
            (self.directory / f"{message_id}.json").write_text(json.dumps(envelope))
        return message_id

    def messages(self) -> list[CaughtMessage]:
        """All messages, oldest first."""
        found = []
        for envelope_file in sorted(self.directory.glob("*.json")):
            envelope = json.loads(envelope_file.read_text())
            raw = envelope_file.with_suffix(".eml").read_bytes()
            found.append(
                parse_message(
                    envelope_file.stem,
                    envelope["received_at"],
                    raw,
                    envelope["sender"],
                    envelope["recipients"],
                )
            )
        return found

    def clear(self) -> None:
        for file in self.directory.glob("*"):
            file.unlink()


class _Handler:
    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.mailbox.store(
            envelope.mail_from, envelope.rcpt_tos, envelope.original_content or envelope.content
        )
        return "250 Message accepted for delivery"


class SMTPCatcher:
    """A real SMTP server on localhost that stores what it receives in a Mailbox."""

    def __init__(self, mailbox: Mailbox, host: str = "127.0.0.1", port: int = 1025):
        self.mailbox = mailbox
        self.controller = Controller(_Handler(mailbox), hostname=host, port=port, ready_timeout=10)

    @property
    def port(self) -> int:
        return self.controller.port

    def start(self) -> "SMTPCatcher":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


PAGE = """<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Boîte de réception locale</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
article{{border:1px solid #ccc;padding:1rem;margin:1rem 0}}pre{{white-space:pre-wrap}}</style></head>
<body><h1>Boîte de réception locale ({count} messages)</h1>
<p>Tous les courriels envoyés par le portail en développement arrivent ici. Le plus récent en premier.</p>
{items}</body></html>"""


def _linkify(text: str) -> str:
    escaped = html.escape(text)
    return LINK_RE.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)


def wsgi_app(mailbox: Mailbox):
    def app(environ, start_response):
        messages = mailbox.messages()
        if environ.get("PATH_INFO") == "/api/messages":
            body = json.dumps([m.as_dict() for m in messages], ensure_ascii=False).encode()
            start_response("200 OK", [("Content-Type", "application/json; charset=utf-8")])
            return [body]
        items = "".join(
            f"<article><h2>{html.escape(m.subject)}</h2>"
            f"<p><strong>À :</strong> {html.escape(', '.join(m.recipients))} — "
            f"<strong>De :</strong> {html.escape(m.sender)} — "
            f"{time.strftime('%d/%m/%Y %H:%M:%S', time.localtime(m.received_at))}</p>"
            f"<pre>{_linkify(m.text)}</pre></article>"
            for m in reversed(messages)
        )
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [PAGE.format(count=len(messages), items=items).encode()]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", default="var/mailbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    args = parser.parse_args()
    mailbox = Mailbox(Path(args.dir))
    catcher = SMTPCatcher(mailbox, args.host, args.smtp_port).start()
    print(
        f"Mailbox: SMTP on {args.host}:{args.smtp_port}, page on http://{args.host}:{args.http_port}/"
    )
    server = make_server(args.host, args.http_port, wsgi_app(mailbox), handler_class=_QuietHandler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        catcher.stop()


if __name__ == "__main__":
    main()
