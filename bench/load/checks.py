"""After the load (and after each fault): nothing lost, nothing twice, nothing half-applied.

Read straight from the production-shaped run's database and the mailbox's folder:

- the outbox drains (nothing pending or being sent is left once the workers had time);
- every email the outbox marks sent reached the SMTP server exactly once (by the outbox row's id,
  carried in the Message-ID), and the SMTP server holds nothing the outbox did not send;
- each change has its journal line and its email, and the reverse: invitations sent ↔
  `invitation.sent` ↔ invitation emails; invitations accepted ↔ `invitation.accepted` ↔
  habilitations by invitation ↔ emails to the inviter; sign-ups ↔ `account.signup` ↔
  activation emails.
"""

import email
import email.policy
import re
import time
from collections import Counter
from pathlib import Path

import psycopg

from scripts import prodlike

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def scalar(db: psycopg.Connection, sql: str, *params: object) -> int:
    row = db.execute(sql, params).fetchone()  # type: ignore[arg-type]
    return int(row[0]) if row else 0


def mailbox_ids(folder: Path) -> Counter[str]:
    """The outbox ids of the messages the SMTP server caught, with how many times each."""
    seen: Counter[str] = Counter()
    for path in folder.glob("*.eml"):
        with path.open("rb") as raw:
            message = email.message_from_binary_file(raw, policy=email.policy.default)
        found = UUID_RE.search(str(message.get("Message-ID", "")))
        seen[found.group(0) if found else f"no-id:{path.name}"] += 1
    return seen


def drain(db: psycopg.Connection, timeout: float) -> int:
    """Wait for the workers to send what is due; the emails still waiting at the end."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = scalar(
            db,
            "SELECT count(*) FROM notifications_outboxemail WHERE status IN ('pending', 'sending')",
        )
        if not waiting or time.monotonic() > deadline:
            return waiting
        time.sleep(0.5)


PAIRS = [
    # (what, journal action, outbox template, extra SQL count that must agree or None)
    (
        "invitations sent",
        "invitation.sent",
        "habilitations/emails/invitation",
        "SELECT count(*) FROM habilitations_invitation WHERE kind = 'colleague'",
    ),
    (
        "invitations accepted",
        "invitation.accepted",
        "habilitations/emails/invitation_answered",
        "SELECT count(*) FROM habilitations_habilitation WHERE origin = 'invitation'",
    ),
    ("sign-ups", "account.signup", "accounts/emails/activation", None),
]


def after_checks(timeout: float = 60) -> tuple[list[str], list[str]]:
    """(what was found, problems): no problem means nothing lost, doubled or half-applied."""
    lines: list[str] = []
    problems: list[str] = []
    with psycopg.connect(prodlike.DATABASE_URL, autocommit=True) as db:
        waiting = drain(db, timeout)
        if waiting:
            problems.append(f"{waiting} emails still pending after {timeout:.0f} s")
        by_status = dict(
            db.execute(
                "SELECT status, count(*) FROM notifications_outboxemail GROUP BY status"
            ).fetchall()
        )
        lines.append(f"outbox: {by_status}")
        if by_status.get("failed"):
            problems.append(f"{by_status['failed']} emails given up")
        sent = {
            str(row[0])
            for row in db.execute(
                "SELECT message_id FROM notifications_outboxemail WHERE status = 'sent'"
            )
        }
        caught = mailbox_ids(prodlike.MAILBOX_DIR)
        twice = {k: n for k, n in caught.items() if n > 1}
        lost = sent - set(caught)
        strays = set(caught) - sent
        lines.append(
            f"SMTP server: {sum(caught.values())} messages, {len(caught)} distinct; "
            f"outbox sent {len(sent)}; lost {len(lost)}, twice {len(twice)}, unknown {len(strays)}"
        )
        if lost:
            problems.append(f"{len(lost)} emails marked sent never reached the SMTP server")
        if twice:
            problems.append(f"{len(twice)} emails reached the SMTP server twice or more")
        if strays:
            problems.append(f"{len(strays)} messages at the SMTP server the outbox never sent")
        for what, action, template, extra in PAIRS:
            events = scalar(db, "SELECT count(*) FROM audit_auditevent WHERE action = %s", action)
            emails = scalar(
                db, "SELECT count(*) FROM notifications_outboxemail WHERE template = %s", template
            )
            rows = scalar(db, extra) if extra else events
            if action == "account.signup":  # an activation email is also sent again on request
                events += scalar(
                    db,
                    "SELECT count(*) FROM audit_auditevent WHERE action = %s",
                    "account.activation_resent",
                )
                rows = events
            lines.append(f"{what}: journal {events}, rows {rows}, emails {emails}")
            if not events == emails == rows:
                problems.append(f"{what}: journal {events}, rows {rows}, emails {emails}")
    return lines, problems
