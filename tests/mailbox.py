"""The test mailbox: a real SMTP server (aiosmtpd) on a free port, and helpers to read it."""

import re
import socket
import time

from portail.devtools.mailbox import CaughtMessage, Mailbox, SMTPCatcher


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestMailbox:
    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, directory, port: int | None = None):
        self.store = Mailbox(directory)
        self.port = port or free_port()
        self.catcher = SMTPCatcher(self.store, port=self.port)

    def messages(self, to: str | None = None) -> list[CaughtMessage]:
        found = self.store.messages()
        if to is not None:
            found = [m for m in found if to.lower() in (r.lower() for r in m.recipients)]
        return found

    def deliver(self) -> dict:
        """Run the email worker once, as the demo's worker process would."""
        from portail.notifications.delivery import deliver_pending

        return deliver_pending()

    def wait_for(self, to: str, subject_contains: str = "", timeout: float = 5.0) -> CaughtMessage:
        """Deliver the outbox, then return the newest message to `to` whose subject matches."""
        deadline = time.monotonic() + timeout
        while True:
            self.deliver()
            matching = [m for m in self.messages(to) if subject_contains in m.subject]
            if matching:
                return matching[-1]
            if time.monotonic() > deadline:
                subjects = [(m.recipients, m.subject) for m in self.messages()]
                raise AssertionError(
                    f"No email to {to} with {subject_contains!r}; mailbox: {subjects}"
                )
            time.sleep(0.05)

    @staticmethod
    def link(message: CaughtMessage, contains: str = "") -> str:
        links = [link for link in message.links if contains in link]
        assert links, f"No link containing {contains!r} in: {message.text}"
        return links[0]

    @staticmethod
    def find(pattern: str, message: CaughtMessage) -> str:
        match = re.search(pattern, message.text)
        assert match, f"{pattern!r} not found in: {message.text}"
        return match.group(1) if match.groups() else match.group(0)
