"""What `/healthz` reports besides the database: each app registers its figures.

`register(name, check)` in the app's `AppConfig.ready()`; `check()` returns a JSON value, shown
under `name` (notifications: `outbox_pending`, `outbox_failed`). A check that raises makes the
health check answer 503, like a database that does not answer.
"""

from collections.abc import Callable
from typing import Any

Check = Callable[[], Any]

CHECKS: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    """Report `check()` under `name` (registering a name again replaces its check)."""
    CHECKS[name] = check


def report() -> dict[str, Any]:
    """Every registered check's value, by name, in the order they were registered."""
    return {name: check() for name, check in CHECKS.items()}
