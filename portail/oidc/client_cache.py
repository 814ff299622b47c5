"""The registered clients, kept in memory for a few seconds: one query less per token request.

Every token request authenticates its client; clients change a few times a year. A process keeps
what it read for settings.OIDC_CLIENT_CACHE_SECONDS (30 by default, 0 disables): a client
replaced or deleted (`register_demarche_client --replace`, the admin) stops working in the
*other* worker processes within that delay; in the process that changed it, at once (signals).
"""

import threading
import time
from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from oauth2_provider.models import get_application_model

_lock = threading.Lock()
_clients: dict[str, tuple[float, Any]] = {}  # client_id: (expiry, DOT's Application)


def get(client_id: str) -> Any:
    """The Application of `client_id` if read less than OIDC_CLIENT_CACHE_SECONDS ago, or None."""
    entry = _clients.get(client_id)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1]


def put(application: Any) -> None:
    ttl: int = getattr(settings, "OIDC_CLIENT_CACHE_SECONDS", 30)
    if ttl <= 0:
        return
    with _lock:
        _clients[application.client_id] = (time.monotonic() + ttl, application)


def forget(**kwargs: object) -> None:
    with _lock:
        _clients.clear()


def connect_signals() -> None:
    application_model = get_application_model()
    post_save.connect(forget, sender=application_model, dispatch_uid="oidc-client-cache-save")
    post_delete.connect(forget, sender=application_model, dispatch_uid="oidc-client-cache-delete")
