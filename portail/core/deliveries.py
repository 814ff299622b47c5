"""Deliveries the worker runs on every poll, besides the outbox: registered by the apps above it.

`manage.py run_email_worker` (portail.notifications) polls every second; an app that pushes
something out (the démarches' webhooks and logout tokens, portail.oidc) registers its one-pass function
here in its `AppConfig.ready()`, so the worker runs it without importing that app.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

Delivery = Callable[[], dict[str, int]]

DELIVERIES: dict[str, Delivery] = {}


def register_delivery(name: str, func: Delivery) -> None:
    DELIVERIES[name] = func


def run() -> dict[str, dict[str, int]]:
    """One pass of each delivery; one failing is logged and does not stop the others."""
    done = {}
    for name, func in DELIVERIES.items():
        try:
            done[name] = func()
        except Exception:
            logger.exception("Delivery %s failed", name)
            done[name] = {"error": 1}
    return done
