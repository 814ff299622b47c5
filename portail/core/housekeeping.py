"""Periodic chores: run by `manage.py housekeeping` (cron) and every few minutes by the email worker.

Each app registers its chores in its `AppConfig.ready()` with `register_chore(name, func)`:
`func()` returns how many rows it handled (or None). Each chore is idempotent and cheap when there
is nothing to do.
"""

import logging
from collections.abc import Callable, Collection

from django.apps import apps
from django.utils import timezone

logger = logging.getLogger(__name__)

Chore = Callable[[], int | None]

CHORES: dict[str, Chore] = {}


def register_chore(name: str, func: Chore) -> None:
    """Run `func` with the other chores; `run()` reports its count under `name`."""
    CHORES[name] = func


def clear_expired_sessions() -> int:
    """The database session backend never deletes an expired session by itself."""
    session_model = apps.get_model("sessions", "Session")
    deleted, _ = session_model.objects.filter(expire_date__lt=timezone.now()).delete()
    return int(deleted)


def run(only: Collection[str] | None = None) -> dict[str, int]:
    """Run every chore (or those named in `only`, when registered); one failing chore is logged,
    counts -1 and does not stop the others."""
    done = {}
    for name, func in CHORES.items():
        if only is not None and name not in only:
            continue
        try:
            done[name] = func() or 0
        except Exception:
            logger.exception("Housekeeping chore %s failed", name)
            done[name] = -1
    return done
