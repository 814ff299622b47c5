"""One function to write to the journal: `record(...)`. Never pass a password, token or code."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model

from portail.audit.models import AuditEvent
from portail.core.context import SYSTEM, Context
from portail.core.logging import request_id_var
from portail.core.plain_insert import insert

if TYPE_CHECKING:  # accounts sits above audit: named in annotations only
    from portail.accounts.models import User

# Keys whose values must never reach the journal, whatever a caller passes by mistake.
_FORBIDDEN_KEYS = {"password", "password1", "password2", "token", "code", "secret", "otp", "key"}


class SensitiveDataError(ValueError):
    pass


def record(
    action: str,
    *,
    actor: "User | AnonymousUser | None" = None,
    target: Model | None = None,
    demarche: Model | None = None,
    establishment: Model | None = None,
    context: Context = SYSTEM,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event. Call it inside the transaction of the change it describes.

    `demarche` and `establishment` are the rows the event is about; the journal keeps their ids.
    `context` says where the action came from (`SYSTEM` for commands and the worker).
    """
    data = data or {}
    leaked = {k for k in data if k.lower() in _FORBIDDEN_KEYS}
    if leaked:
        raise SensitiveDataError(f"Refusing to journal sensitive keys: {sorted(leaked)}")
    user = None if isinstance(actor, AnonymousUser) else actor
    event = AuditEvent(
        actor=user,
        actor_label=user.email if user is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:320] if target is not None else "",
        demarche_id=demarche.pk if demarche is not None else None,
        establishment_id=establishment.pk if establishment is not None else None,
        ip=context.ip,
        request_id=context.request_id or _current_request_id(),
        data=data,
    )
    insert(event)  # what `objects.create` does, without compiling the INSERT each time
    return event


def _current_request_id() -> str:
    """The id of the request being served, if any (the worker and commands have none)."""
    request_id = request_id_var.get()
    return "" if request_id == "-" else request_id
