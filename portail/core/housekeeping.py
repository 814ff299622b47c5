"""Periodic chores: run by `manage.py housekeeping` (cron) and every few minutes by the email worker.

Each chore is idempotent and cheap when there is nothing to do.
"""

import logging
from collections.abc import Callable

from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def _clear_sessions() -> int:
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def _clear_oauth_tokens() -> int:
    from oauth2_provider.models import clear_expired

    clear_expired()
    return 0


CHORES: dict[str, Callable[[], int] | str] = {
    "access_requests_expired": "portail.habilitations.access_requests.expire_access_requests",
    "sessions_cleared": _clear_sessions,
    "oauth_tokens_cleared": _clear_oauth_tokens,
}


def run() -> dict[str, int]:
    """Run every chore; one failing chore is logged and does not stop the others."""
    done = {}
    for name, chore in CHORES.items():
        func = import_string(chore) if isinstance(chore, str) else chore
        try:
            done[name] = func() or 0
        except Exception:
            logger.exception("Housekeeping chore %s failed", name)
            done[name] = -1
    return done
