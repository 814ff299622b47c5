"""One function to write to the journal: `record(...)`. Never pass a password, token or code."""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Model
from django.http import HttpRequest

from portail.audit.models import AuditEvent
from portail.core.client_ip import client_ip
from portail.core.logging import request_id_var

if TYPE_CHECKING:  # the apps above audit: named in annotations only
    from portail.accounts.models import User
    from portail.companies.models import Establishment
    from portail.demarches.models import Demarche

# Keys whose values must never reach the journal, whatever a caller passes by mistake.
_FORBIDDEN_KEYS = {"password", "password1", "password2", "token", "code", "secret", "otp", "key"}


class SensitiveDataError(ValueError):
    pass


def record(
    action: str,
    *,
    actor: "User | AnonymousUser | None" = None,
    target: Model | None = None,
    demarche: "Demarche | None" = None,
    establishment: "Establishment | None" = None,
    request: HttpRequest | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event. Call it inside the transaction of the change it describes."""
    data = data or {}
    leaked = {k for k in data if k.lower() in _FORBIDDEN_KEYS}
    if leaked:
        raise SensitiveDataError(f"Refusing to journal sensitive keys: {sorted(leaked)}")
    user = None if isinstance(actor, AnonymousUser) else actor
    return AuditEvent.objects.create(
        actor=user,
        actor_label=user.email if user is not None else "",
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:320] if target is not None else "",
        demarche=demarche,
        establishment=establishment,
        ip=(client_ip(request) or None) if request is not None else None,
        request_id=request_id_var.get() if request_id_var.get() != "-" else "",
        data=data,
    )
