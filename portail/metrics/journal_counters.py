"""Counters moved by the journal: each flow already writes one line per action that matters.

A line is counted when its transaction commits: a change rolled back counts nothing.
"""

from typing import TYPE_CHECKING, Any

from django.db import transaction

from portail.metrics import series

if TYPE_CHECKING:
    from portail.audit.models import AuditEvent

# The journal's words for the outcome of a login ("reason" of account.login_failed).
_THROTTLED_REASONS = {"rate_limited"}


def _count(action: str, data: dict[str, Any]) -> None:
    series.JOURNAL_EVENTS.labels(action=action).inc()
    if action == "account.login":
        series.LOGINS.labels(kind="portal", outcome="success").inc()
    elif action == "account.login_failed":
        throttled = data.get("reason") in _THROTTLED_REASONS
        series.LOGINS.labels(kind="portal", outcome="throttled" if throttled else "failure").inc()
    elif action == "backoffice.agent.login":
        # An agent is logged in only once their TOTP code is accepted.
        series.LOGINS.labels(kind="agent", outcome="success").inc()
        series.SECOND_FACTOR.labels(outcome="success").inc()
    elif action == "backoffice.agent.otp_failed":
        series.SECOND_FACTOR.labels(outcome="failure").inc()
    elif action == "account.mfa.used":
        factor = str(data.get("factor") or "unknown")
        series.ACCOUNT_SECOND_FACTOR.labels(factor=factor, outcome="success").inc()
    elif action == "account.mfa.recovery_code_used":
        series.ACCOUNT_SECOND_FACTOR.labels(factor="recovery", outcome="success").inc()
    elif action == "account.mfa.failed":
        factor = str(data.get("factor") or "code")
        series.ACCOUNT_SECOND_FACTOR.labels(factor=factor, outcome="failure").inc()
    elif action == "demarche.activated":
        series.CODES_REDEEMED.inc()
    elif action in {"demarche.activation_failed", "demarche.activation_blocked"}:
        series.CODES_REFUSED.inc()


def count_event(
    sender: "type[AuditEvent]", instance: "AuditEvent", created: bool, **_: Any
) -> None:
    if created:
        action, data = instance.action, dict(instance.data or {})
        transaction.on_commit(lambda: _count(action, data))
